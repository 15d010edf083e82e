package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestRedisFailoverPromotesAReplica: on a stateless-ha stack the fault kills the primary of the moment;
// the API takes writes again once the Sentinels promote a replica, during the fault; a second injection
// after the revert hits the new primary, not the container that was primary at the start.
func TestRedisFailoverPromotesAReplica(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := stack.Up(ctx, stack.WithRunID(fmt.Sprintf("test-failover-%d", os.Getpid())),
		stack.WithArch("stateless-ha"), stack.WithReplicas(2))
	if s != nil {
		t.Cleanup(func() { _ = s.Down(context.Background()) })
	}
	require.NoError(t, err)
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
