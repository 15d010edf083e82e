package stack

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/target/arch"
)

// TestRedisClusterThatCannotForm: one of the six nodes runs without cluster mode, so redis-cli --cluster
// create refuses at once, by mechanism ("is not configured as a cluster node"). Up fails with redis-cli's
// own output and removes everything it started.
func TestRedisClusterThatCannotForm(t *testing.T) {
	dockertest.Require(t)
	defer func(args func(arch.Container) []string) { clusterArgs = args }(clusterArgs)
	clusterArgs = func(c arch.Container) []string {
		if c.Name == arch.ClusterNodeName(arch.ClusterNodes) {
			return nil
		}
		return arch.ClusterServerArgs(c.IP)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-clbad-%d", os.Getpid())
	s, err := Up(ctx, WithRunID(runID), WithArch("stateless-cluster"), WithReplicas(1))
	if s != nil {
		_ = s.Down(context.Background())
	}
	require.Error(t, err)
	t.Log(err)
	require.Contains(t, err.Error(), "stack "+runID+": redis cluster did not form (redis-cli --cluster create in redis, 20s at most)")
	require.Contains(t, err.Error(), "is not configured as a cluster node", "redis-cli's own words")

	cli, err := NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.False(t, strings.HasPrefix(r.RunID, runID), "left behind: %+v", r)
	}
}
