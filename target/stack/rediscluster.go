package stack

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
	"golang.org/x/sync/errgroup"
)

// Redis Cluster (arch.Arch.RedisCluster): "redis" (.2) and redis-2..redis-6 (.4 to .8, the addresses a
// Redis HA stack gives its replicas and Sentinels: the two never go together), all from the Redis image
// in cluster mode, announcing their fixed address on the run's network.

// clusterArgs is what a node adds to the Redis command line: cluster mode, announcing its own address. A
// test replaces it to make a cluster that cannot form.
var clusterArgs = func(c arch.Container) []string { return arch.ClusterServerArgs(c.IP) }

// clusterCreateTimeout bounds redis-cli --cluster create, which waits for the nodes to agree with no
// deadline of its own: Exec returns what it printed so far when the deadline passes.
var clusterCreateTimeout = 20 * time.Second

// planRedisCluster names and places the five nodes beside "redis".
func (s *Stack) planRedisCluster() {
	for i := 2; i <= arch.ClusterNodes; i++ {
		s.ClusterNodes = append(s.ClusterNodes, arch.Container{Name: arch.ClusterNodeName(i),
			Role: arch.RoleReplica, IP: s.addr(2 + i)})
	}
}

// clusterAll is every node of the cluster, "redis" first, in redis-cli's order: the first three become
// the primaries.
func (s *Stack) clusterAll() []arch.Container {
	return append([]arch.Container{s.Redis}, s.ClusterNodes...)
}

// clusterCmd is a cluster node's command line.
func (s *Stack) clusterCmd(c arch.Container) []string {
	return append(redisCmd(s.Config.Redis, s.Config.Arch), clusterArgs(c)...)
}

// startRedisCluster starts redis-2..redis-6 in g, next to "redis".
func (s *Stack) startRedisCluster(ctx context.Context, g *errgroup.Group) {
	for i := range s.ClusterNodes {
		g.Go(func() error {
			ctr, err := s.run(ctx, s.ClusterNodes[i], s.Config.Images.Redis, nil, s.clusterCmd(s.ClusterNodes[i]), redisPort, nil)
			s.ClusterNodes[i].ID = idOf(ctr)
			return err
		})
	}
}

// clusterAddrs is the nodes' ip:port on the run's network (REDIS_CLUSTER; the host reaches them too,
// over the bridge).
func (s *Stack) clusterAddrs() []netip.Addr {
	var ips []netip.Addr
	for _, c := range s.clusterAll() {
		ips = append(ips, c.IP)
	}
	return ips
}

// RedisClusterAddrs lists the cluster nodes' addresses (ip:port on the run's network, which the host
// reaches over the bridge), for a cluster client such as the checker's; nil without a cluster.
func (s *Stack) RedisClusterAddrs() []string {
	if len(s.ClusterNodes) == 0 {
		return nil
	}
	return strings.Split(arch.ClusterAddrs(s.clusterAddrs()), ",")
}

// formRedisCluster waits until every node answers, runs redis-cli --cluster create in "redis" (three
// primaries, one replica each), and waits until every node says cluster_state:ok and every replica is
// in sync. When the cluster cannot form, the error carries redis-cli's output.
func (s *Stack) formRedisCluster(ctx context.Context) error {
	for _, c := range s.clusterAll() {
		if err := s.untilRedis(ctx, c, func(string) error { return nil }, "PING"); err != nil {
			return fmt.Errorf("redis cluster: %s does not answer: %w", c.Name, err)
		}
	}
	cmd := append([]string{"redis-cli", "--cluster", "create"}, s.RedisClusterAddrs()...)
	cmd = append(cmd, "--cluster-replicas", "1", "--cluster-yes")
	cctx, cancel := context.WithTimeout(ctx, clusterCreateTimeout)
	out, err := s.Exec(cctx, s.Redis.Name, cmd...)
	cancel()
	if err != nil {
		if out != "" && !strings.Contains(err.Error(), out) { // a timeout's error does not carry the output
			err = fmt.Errorf("%w\n%s", err, out)
		}
		return fmt.Errorf("redis cluster did not form (redis-cli --cluster create in %s, %s at most): %w",
			s.Redis.Name, clusterCreateTimeout, err)
	}
	for _, c := range s.clusterAll() {
		if err := s.untilRedis(ctx, c, clusterOK, "CLUSTER", "INFO"); err != nil {
			return fmt.Errorf("redis cluster: %s: %w", c.Name, err)
		}
		if err := s.untilRedis(ctx, c, replicaInSync, "INFO", "replication"); err != nil {
			return fmt.Errorf("redis cluster: %s: %w", c.Name, err)
		}
	}
	return nil
}

// clusterOK accepts a CLUSTER INFO that says the node serves: every slot covered and the state ok.
func clusterOK(info string) error {
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
		return fmt.Errorf("cluster not ok: %s", strings.Join(strings.Fields(info), " "))
	}
	return nil
}

// replicaInSync accepts a primary, or a replica whose link to its primary is up: a replica that never
// synced does not take over when its primary dies, and with min-replicas-to-write its primary refuses
// writes until it is connected.
func replicaInSync(info string) error {
	if strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up") {
		return errors.New("replica not in sync with its primary yet")
	}
	return nil
}

// untilRedis runs redis-cli args in c until ok accepts the output, every 200 ms, until ctx ends.
func (s *Stack) untilRedis(ctx context.Context, c arch.Container, ok func(string) error, args ...string) error {
	var last error
	for {
		out, err := s.Exec(ctx, c.Name, append([]string{"redis-cli"}, args...)...)
		if err == nil {
			err = ok(out)
		}
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// clusterPrimaryOfSlot0 names the node that is primary now for slot 0, the first of the slots "redis"
// started with: CLUSTER NODES asked of each node in turn until one answers (a killed or paused node
// does not). It is CurrentPrimary on a cluster, so that redis-failover kills the primary of the moment
// of those slots, as on a Sentinel stack it kills the primary of the moment.
func (s *Stack) clusterPrimaryOfSlot0(ctx context.Context) (string, error) {
	var errs []error
	for _, c := range s.clusterAll() {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		out, err := s.Exec(qctx, c.Name, "redis-cli", "CLUSTER", "NODES")
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ip, err := primaryOfSlot(out, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
			continue
		}
		for _, n := range s.clusterAll() {
			if n.IP == ip {
				return n.Name, nil
			}
		}
		return "", fmt.Errorf("redis cluster: the primary of slot 0, %s, is no node of the stack", ip)
	}
	return "", fmt.Errorf("redis cluster primary: %w", errors.Join(errs...))
}

// primaryOfSlot reads CLUSTER NODES (id ip:port@bus flags master ping pong epoch link slots...) and
// returns the address of the live primary that serves slot.
func primaryOfSlot(nodes string, slot int) (netip.Addr, error) {
	for line := range strings.SplitSeq(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		for _, r := range f[8:] {
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || slot < a || slot > b {
				continue
			}
			host, _, _ := strings.Cut(f[1], "@")
			ap, err := netip.ParseAddrPort(host)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("unexpected address %q in CLUSTER NODES", f[1])
			}
			return ap.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no live primary serves slot %d", slot)
}
