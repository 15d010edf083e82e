package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestRedisFailoverPromotesAReplica: on a stateless-ha stack the fault kills the primary of the moment;
// the API takes writes again once the Sentinels promote a replica, during the fault; a second injection
// after the revert hits the new primary, not the container that was primary at the start.
func TestRedisFailoverPromotesAReplica(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-failover-%d", os.Getpid())),
		stack.WithArch("stateless-ha"), stack.WithReplicas(2))
	signup := func(i int) int {
		code, _, _ := do(http.MethodPost, s.Entry+"/v1/users",
			fmt.Sprintf(`{"username":"failover-%d-%d","password":"correct-horse"}`, os.Getpid(), i))
		return code
	}

	in, id := inject(t, s, "redis-failover", chaos.Params{"mode": "kill"}, "redis")
	require.Equal(t, "redis primary redis: docker kill SIGKILL", in.Records()[0].Mechanism)
	n := 0
	require.Eventually(t, func() bool { n++; return signup(n) == http.StatusCreated },
		20*time.Second, 100*time.Millisecond, "writes succeed on the promoted replica while the old primary is down")
	primary, err := s.CurrentPrimary(ctx)
	require.NoError(t, err)
	require.NotEqual(t, "redis", primary)
	require.NoError(t, in.Revert(ctx, id))

	in2, id2 := inject(t, s, "redis-failover", chaos.Params{"mode": "pause"}, "redis")
	require.Equal(t, "redis primary "+primary+": docker pause (cgroup freezer)", in2.Records()[0].Mechanism,
		"the second injection resolves the new primary")
	require.NoError(t, in2.Revert(ctx, id2))
}

// TestRedisSplitBrainOnTheStack: on a stateless-ha stack the split brain leaves api-1 writing to the old
// primary while the Sentinels, on the other side, promote a replica; the heal removes every rule it made
// and the old primary rejoins as a replica. A replica and a Sentinel are targets of the container-wide
// faults (kill here), started again on revert.
func TestRedisSplitBrainOnTheStack(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-splitbrain-%d", os.Getpid())),
		stack.WithArch("stateless-ha"), stack.WithReplicas(2))
	signup := func(node string, i int) int {
		code, _, _ := do(http.MethodPost, nodeURL(s, node, "/v1/users"),
			fmt.Sprintf(`{"username":"split-%d-%s-%d","password":"correct-horse"}`, os.Getpid(), node, i))
		return code
	}
	drops := func(name string) string {
		out, err := s.Sidecar(ctx, name, "iptables -S | grep DROP || true")
		require.NoError(t, err)
		return out
	}

	in, id := inject(t, s, "redis-split-brain", chaos.Params{"with": "[api-1]"}, "redis")
	require.Equal(t, "iptables drop {redis, api-1} <-> {api-2, redis-2, redis-3, sentinel-1, sentinel-2, sentinel-3} via sidecars (redis primary redis)",
		in.Records()[0].Mechanism)
	require.Equal(t, http.StatusCreated, signup("api-1", 0), "the minority's node still writes to the old primary")
	require.Eventually(t, func() bool { p, err := s.CurrentPrimary(ctx); return err == nil && p != "redis" },
		20*time.Second, 200*time.Millisecond, "the majority's Sentinels promote a replica")
	n := 0
	require.Eventually(t, func() bool { n++; return signup("api-2", n) == http.StatusCreated },
		20*time.Second, 100*time.Millisecond, "the majority's node follows the new primary")
	require.Contains(t, drops("api-1"), "-j DROP")
	require.NoError(t, in.Revert(ctx, id))
	require.Empty(t, drops("redis"), "the heal removes every rule")
	require.Empty(t, drops("api-1"))
	require.Eventually(t, func() bool {
		out, err := s.Exec(ctx, "redis", "redis-cli", "ROLE")
		return err == nil && strings.HasPrefix(out, "slave")
	}, 30*time.Second, 250*time.Millisecond, "the old primary rejoins as a replica")

	// A replica and a Sentinel by name.
	for _, target := range []string{"redis-3", "sentinel-1"} {
		in, id := inject(t, s, "kill", nil, target)
		require.Equal(t, target, in.Records()[0].Resolved)
		require.NoError(t, in.Revert(ctx, id))
	}
	require.NoError(t, s.WaitReady(ctx))
}
