package arch

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Redis high availability (Arch.RedisHA): the initial primary "redis", replicas redis-2 and redis-3 that
// start with replicaof it, and three Sentinels sentinel-1..3 that monitor it with a quorum of 2, so that
// one lost Sentinel neither blocks nor fakes a failover.
const (
	// MasterName is the name the Sentinels monitor the primary under (REDIS_MASTER_NAME).
	MasterName = "mymaster"
	// SentinelPort is where each Sentinel listens in its container.
	SentinelPort = 26379
	// RedisReplicas and Sentinels count the HA stack's extra containers; SentinelQuorum Sentinels must
	// agree that the primary is down before one of them fails over.
	RedisReplicas  = 2
	Sentinels      = 3
	SentinelQuorum = 2
	// SentinelDownAfter is how long the primary must not answer before a Sentinel thinks it down: 1.5 s
	// is well above a ping's round trip on one host and a GC pause, and short enough that a failover
	// (down-after, then an election and a promotion, about 2 to 4 s in all) fits a 30 to 60 s scenario.
	SentinelDownAfter = 1500 * time.Millisecond
	// SentinelFailoverTimeout bounds one failover attempt (and spaces out retries, at twice it): 6 s
	// lets a stalled election retry inside the scenario instead of minutes later (the default is 3 min).
	SentinelFailoverTimeout = 6 * time.Second
)

// MinReplicasMaxLag is the min-replicas-max-lag that goes with Arch.MinReplicasToWrite, in seconds: Redis'
// smallest (its replicas ping once a second), so that a cut-off replica stops writes soonest.
const MinReplicasMaxLag = 1

// CheckMinReplicas refuses min-replicas-to-write beyond the replicas there are: none without RedisHA,
// where the one Redis would refuse every write. Validate runs it; a scenario's stack.redis runs it again
// on every architecture it sets.
func (a Arch) CheckMinReplicas() error {
	switch n := a.MinReplicasToWrite; {
	case n < 0 || n > RedisReplicas:
		return fmt.Errorf("min_replicas_to_write %d: want 0 (off) to %d, the replicas of a Redis HA architecture", n, RedisReplicas)
	case n > 0 && !a.RedisHA && !a.RedisCluster:
		return fmt.Errorf("min_replicas_to_write %d needs Redis replicas: architecture %s has one Redis (use stateless-ha or stateless-cluster)", n, a.Name)
	case n > a.MaxMinReplicas():
		return fmt.Errorf("min_replicas_to_write %d: a Redis Cluster primary has %d replica", n, a.MaxMinReplicas())
	}
	return nil
}

// RedisReplicaName is the name of the i-th replica, counted from 1: redis-2, redis-3 (the primary is
// "redis", the first of the three).
func RedisReplicaName(i int) string { return "redis-" + strconv.Itoa(i+1) }

// SentinelName is the name of the i-th Sentinel, counted from 1.
func SentinelName(i int) string { return "sentinel-" + strconv.Itoa(i) }

// SentinelAddrs is the API's REDIS_SENTINELS for Sentinels at these addresses.
func SentinelAddrs(ips []netip.Addr) string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip, SentinelPort).String()
	}
	return strings.Join(out, ",")
}

// SentinelConf is a Sentinel's configuration monitoring the primary at primary:6379.
func SentinelConf(primary netip.Addr) string {
	return fmt.Sprintf(`port %d
bind 0.0.0.0
protected-mode no
dir /tmp
sentinel monitor %s %s 6379 %d
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, SentinelPort, MasterName, primary, SentinelQuorum, MasterName, SentinelDownAfter.Milliseconds(),
		MasterName, SentinelFailoverTimeout.Milliseconds(), MasterName)
}

// redisHAEnv names the primary for the API's failover client; the Sentinels' addresses are the stack's
// (it knows the IPs), so it adds REDIS_SENTINELS itself.
func (a Arch) redisHAEnv(env map[string]string) {
	if a.RedisHA {
		env["REDIS_MASTER_NAME"] = MasterName
	}
}
