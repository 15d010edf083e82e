package stack_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestRedisHAFailover: on a stateless-ha stack, killing the primary makes the Sentinels promote a
// replica, the API serves again through its failover client, the ground truth address follows the new
// primary (which has what was replicated before the kill, and not a write acknowledged while the replicas
// were frozen: a lost acknowledged write the checker can see), the old primary rejoins as a replica, and
// Down leaves nothing.
func TestRedisHAFailover(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-ha-%d", os.Getpid())
	s := stacktest.Up(t, ctx, stack.WithRunID(runID), stack.WithArch("stateless-ha"), stack.WithReplicas(2))
	require.Len(t, s.Containers(), 2+2+2+3, "2 nodes, redis, nginx, 2 replicas, 3 Sentinels")

	primary, err := s.CurrentPrimary(ctx)
	require.NoError(t, err)
	require.Equal(t, "redis", primary)

	// A write both replicas acknowledged survives the failover.
	addr, err := s.RedisHostAddr(ctx)
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	require.NoError(t, rdb.Set(ctx, "ha-test", "kept", 0).Err())
	n, err := rdb.Do(ctx, "WAIT", 2, 5000).Int()
	require.NoError(t, err)
	require.Equal(t, 2, n, "both replicas have the write")

	// A write only the primary has: with its replication stream dropped (not paused: a frozen replica
	// still receives into its socket and applies the write once thawed) it is acknowledged anyway,
	// replication being asynchronous and min-replicas-to-write off, and dies with the primary. The
	// rules die with the primary's network namespace.
	var drop []string
	for _, r := range s.RedisReplicas {
		drop = append(drop, "iptables -w -I OUTPUT 1 -d "+r.IP.String()+" -j DROP")
	}
	_, err = s.Sidecar(ctx, "redis", strings.Join(drop, "\n"))
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, "ha-test-lost", "acknowledged", 0).Err(), "the primary acknowledges it")
	_ = rdb.Close()

	killed := time.Now()
	require.NoError(t, s.Kill(ctx, "redis"))
	for {
		primary, err = s.CurrentPrimary(ctx)
		if err == nil && primary != "redis" {
			break
		}
		require.Less(t, time.Since(killed), 30*time.Second, "no failover: primary %q, %v", primary, err)
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s promoted %s after the kill", primary, time.Since(killed).Round(100*time.Millisecond))
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	require.NoError(t, s.WaitReady(rctx), "the API serves again through the new primary")
	rcancel()
	t.Logf("API ready %s after the kill", time.Since(killed).Round(100*time.Millisecond))

	addr, err = s.RedisHostAddr(ctx)
	require.NoError(t, err)
	rdb = redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	v, err := rdb.Get(ctx, "ha-test").Result()
	require.NoError(t, err, "ground truth is read from the new primary")
	require.Equal(t, "kept", v)
	_, err = rdb.Get(ctx, "ha-test-lost").Result()
	require.ErrorIs(t, err, redis.Nil, "the acknowledged write the replicas never got is lost, and the new primary shows it")
	role, err := rdb.Do(ctx, "ROLE").StringSlice()
	if err != nil { // ROLE's reply mixes types: read its first field only
		out, _ := rdb.Do(ctx, "ROLE").Slice()
		role = []string{fmt.Sprint(out[0])}
	}
	require.Equal(t, "master", role[0])

	// Revert: the old primary comes back and the Sentinels make it a replica of the new one.
	require.NoError(t, s.Start(ctx, "redis"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.Exec(ctx, "redis", "redis-cli", "INFO", "replication")
		if err == nil && strings.Contains(out, "role:slave") {
			break
		}
		require.True(t, time.Now().Before(deadline), "the old primary did not rejoin as a replica: %s %v", out, err)
		time.Sleep(500 * time.Millisecond)
	}
	now, err := s.CurrentPrimary(ctx)
	require.NoError(t, err)
	require.Equal(t, primary, now, "the revert does not fail back")

	require.NoError(t, s.Down(ctx))
	cli, err := stack.NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := stack.List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.NotEqual(t, runID, r.RunID, "nothing labelled with the run is left")
	}
}
