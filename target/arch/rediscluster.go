package arch

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Redis Cluster (Arch.RedisCluster): six Redis servers in cluster mode, "redis" and redis-2..redis-6,
// formed by redis-cli --cluster create into three primaries (the first three: redis, redis-2, redis-3,
// each with a third of the 16384 slots) and a replica of each (redis-4..redis-6). A primary that stops
// answering for ClusterNodeTimeout is marked failed by the other primaries, and its replica is elected
// in its place: no Sentinel.
const (
	ClusterPrimaries = 3
	// ClusterNodes is every server of the cluster: each primary and its one replica.
	ClusterNodes = 2 * ClusterPrimaries
	// ClusterNodeTimeout is cluster-node-timeout: as SentinelDownAfter, 1.5 s is well above a ping's
	// round trip and a GC pause on one host, and a failover (the timeout, then a replica's election
	// after 0.5 to 1 s) fits a 30 to 60 s scenario.
	ClusterNodeTimeout = 1500 * time.Millisecond
)

// ClusterNodeName is the name of the i-th cluster node, counted from 1: redis, then redis-2..redis-6
// (the names of a Redis HA stack's servers, so that a fault's target redis means the first primary in both).
func ClusterNodeName(i int) string {
	if i == 1 {
		return string(RoleRedis)
	}
	return "redis-" + strconv.Itoa(i)
}

// ClusterServerArgs is what a cluster node adds to RedisServerArgs: cluster mode, the timeout, the
// address it announces to the others and to clients (its fixed address on the run's network, which
// the API nodes and the host both reach), and a replica sync at once: a replica that has not synced
// its primary's data does not take over when it dies, and Redis waits 5 s by default before a diskless
// sync. nodes.conf lives in the container's /tmp, so a killed node that starts again rejoins as itself.
func ClusterServerArgs(announce netip.Addr) []string {
	return []string{"--cluster-enabled", "yes", "--cluster-config-file", "/tmp/nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(ClusterNodeTimeout.Milliseconds(), 10),
		"--cluster-announce-ip", announce.String(), "--repl-diskless-sync-delay", "0"}
}

// ClusterAddrs is the API's REDIS_CLUSTER for nodes at these addresses.
func ClusterAddrs(ips []netip.Addr) string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip, RedisPort).String()
	}
	return strings.Join(out, ",")
}

// checkCluster refuses what a cluster cannot go with: Sentinels (a cluster fails over by itself), a
// user's image (it gets REDIS_URL, one server's address) and PostgreSQL (untried together).
func (a Arch) checkCluster() error {
	if !a.RedisCluster {
		return nil
	}
	switch {
	case a.RedisHA:
		return fmt.Errorf("redis_cluster: a Redis Cluster fails over by itself; it does not go with Sentinels (redis HA)")
	case a.Service.Custom():
		return fmt.Errorf("redis_cluster is the reference API's: a custom image (%s) gets REDIS_URL, one server", a.Service.Image)
	case a.UsesPostgres():
		return fmt.Errorf("redis_cluster does not go with store postgres")
	}
	return nil
}

// MaxMinReplicas is the largest min-replicas-to-write the architecture's Redis can satisfy: its
// replicas per primary (two with Sentinels, one on the cluster, none on one server).
func (a Arch) MaxMinReplicas() int {
	switch {
	case a.RedisHA:
		return RedisReplicas
	case a.RedisCluster:
		return 1
	}
	return 0
}
