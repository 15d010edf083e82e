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

// Redis high availability (arch.Arch.RedisHA): two replicas of the primary "redis" and three Sentinels
// watching it, on fixed addresses between nginx (.3) and the API nodes (.11 and up).

const sentinelPort = "26379/tcp"

// ErrNoSentinels is what CurrentPrimary answers on a stack without Redis HA: there is no failover to
// speak of, and "redis" is the only primary.
var ErrNoSentinels = errors.New("the stack has no Redis Sentinels (architecture without redis HA, e.g. stateless-ha has them)")

// planRedisHA names and places the replicas (.4, .5) and the Sentinels (.6 to .8).
func (s *Stack) planRedisHA() {
	for i := range arch.RedisReplicas {
		s.RedisReplicas = append(s.RedisReplicas, arch.Container{Name: arch.RedisReplicaName(i + 1),
			Role: arch.RoleReplica, IP: s.addr(4 + i)})
	}
	for i := range arch.Sentinels {
		s.Sentinels = append(s.Sentinels, arch.Container{Name: arch.SentinelName(i + 1),
			Role: arch.RoleSentinel, IP: s.addr(4 + arch.RedisReplicas + i)})
	}
}

// startRedisHA starts the replicas and the Sentinels in g, next to the primary.
func (s *Stack) startRedisHA(ctx context.Context, g *errgroup.Group) {
	for i := range s.RedisReplicas {
		g.Go(func() error {
			// Same settings as the primary (a promoted replica keeps them), started as its replica: a
			// restarted replica comes back pointing at the initial primary and the Sentinels move it on.
			cmd := append(redisCmd(s.Config.Redis, s.Config.Arch), "--replicaof", s.Redis.IP.String(), "6379")
			ctr, err := s.run(ctx, s.RedisReplicas[i], s.Config.Images.Redis, nil, cmd, redisPort, nil)
			s.RedisReplicas[i].ID = idOf(ctr)
			return err
		})
	}
	env := map[string]string{"SENTINEL_CONF": arch.SentinelConf(s.Redis.IP)}
	// A Sentinel rewrites its configuration with what it learned (the current primary, the other
	// Sentinels, the epoch): written once, so that a restarted Sentinel resumes instead of monitoring the
	// initial primary again.
	cmd := []string{"sh", "-c", `[ -f /tmp/sentinel.conf ] || printf '%s' "$SENTINEL_CONF" > /tmp/sentinel.conf; ` +
		`exec redis-server /tmp/sentinel.conf --sentinel`}
	for i := range s.Sentinels {
		g.Go(func() error {
			ctr, err := s.run(ctx, s.Sentinels[i], s.Config.Images.Redis, env, cmd, sentinelPort, nil)
			s.Sentinels[i].ID = idOf(ctr)
			return err
		})
	}
}

// waitRedisHA returns once every Sentinel sees both replicas and the other two Sentinels: before that a
// killed primary may not be failed over (no majority, or no replica known), and with
// min-replicas-to-write the primary refuses writes until its replicas are connected.
func (s *Stack) waitRedisHA(ctx context.Context) error {
	want := map[string]string{"num-slaves": strconv.Itoa(arch.RedisReplicas),
		"num-other-sentinels": strconv.Itoa(arch.Sentinels - 1), "flags": "master"}
	var last error
	for {
		last = nil
		for _, sn := range s.Sentinels {
			out, err := s.Exec(ctx, sn.Name, "redis-cli", "-p", strconv.Itoa(arch.SentinelPort),
				"SENTINEL", "master", arch.MasterName)
			if err != nil {
				last = err
				break
			}
			// The answer is field and value on alternate lines.
			lines := strings.Split(out, "\n")
			got := map[string]string{}
			for i := 0; i+1 < len(lines); i += 2 {
				got[strings.TrimSpace(lines[i])] = strings.TrimSpace(lines[i+1])
			}
			for k, v := range want {
				if got[k] != v {
					last = fmt.Errorf("%s: %s is %q, want %q", sn.Name, k, got[k], v)
				}
			}
			if last != nil {
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis sentinels: %w", last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// CurrentPrimary asks the Sentinels, one after the other until one answers, which Redis container is
// the primary now (redis, redis-2 or redis-3); on a Redis Cluster, the nodes which one serves slot 0 now
// (rediscluster.go). Without either it fails with ErrNoSentinels.
func (s *Stack) CurrentPrimary(ctx context.Context) (string, error) {
	if len(s.ClusterNodes) > 0 {
		return s.clusterPrimaryOfSlot0(ctx) // a Redis Cluster: the primary of "redis"'s first slot now
	}
	if len(s.Sentinels) == 0 {
		return "", ErrNoSentinels
	}
	var errs []error
	for _, sn := range s.Sentinels {
		name, err := s.askSentinel(ctx, sn.Name)
		if err == nil {
			return name, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("current redis primary: %w", errors.Join(errs...))
}

func (s *Stack) askSentinel(ctx context.Context, sentinel string) (string, error) {
	// A paused or partitioned Sentinel must not hold the question long: the next one may answer.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := s.Exec(ctx, sentinel, "redis-cli", "-p", strconv.Itoa(arch.SentinelPort),
		"SENTINEL", "get-master-addr-by-name", arch.MasterName)
	if err != nil {
		return "", err
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]))
	if err != nil {
		return "", fmt.Errorf("%s: unexpected answer %q", sentinel, out)
	}
	for _, c := range append([]arch.Container{s.Redis}, s.RedisReplicas...) {
		if c.IP == ip {
			return c.Name, nil
		}
	}
	return "", fmt.Errorf("%s: primary %s is no Redis of the stack", sentinel, ip)
}
