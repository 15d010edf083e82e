package stack

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
)

// TestPostgresThatDoesNotAnswer: a PostgreSQL container that runs but never listens (its command is a
// sleep, so no connection can ever succeed: the failure is by mechanism, and the shortened wait only
// bounds the test) fails Up with a message naming the DSN, and Up removes everything it started.
func TestPostgresThatDoesNotAnswer(t *testing.T) {
	dockertest.Require(t)
	defer func(cmd func(netip.Prefix) []string, wait time.Duration) {
		postgresCmd, postgresReadyTimeout = cmd, wait
	}(postgresCmd, postgresReadyTimeout)
	postgresCmd = func(netip.Prefix) []string { return []string{"sleep", "3600"} }
	postgresReadyTimeout = 3 * time.Second

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-pgdead-%d", os.Getpid())
	s, err := Up(ctx, WithRunID(runID), WithArch("stateless-postgres"), WithReplicas(1))
	if s != nil {
		_ = s.Down(context.Background())
	}
	require.Error(t, err)
	t.Log(err)
	require.Contains(t, err.Error(), "stack "+runID+": postgres at postgres://postgres@127.0.0.1:")
	require.Contains(t, err.Error(), "did not answer within 3s")

	cli, err := NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.False(t, strings.HasPrefix(r.RunID, runID), "left behind: %+v", r)
	}
}
