package stack_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// One stack serves every read-only test of this package: starting one costs seconds on 2 cores.
var (
	sharedOnce sync.Once
	shared     *stack.Stack
	sharedErr  error
)

func sharedStack(t *testing.T) *stack.Stack {
	t.Helper()
	dockertest.Require(t)
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, sharedErr = stack.Up(ctx, stack.WithRunID("test-stack-"+fmt.Sprint(os.Getpid())))
	})
	require.NoError(t, sharedErr)
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.Down(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "down:", err)
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// get sends one request and returns status and X-Node-Id; client has no keep-alive, so each request is
// balanced on its own.
func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Node-Id")
}

func TestUpDownLeavesNothing(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-updown-%d", os.Getpid())
	start := time.Now()
	s := stacktest.Up(t, ctx, stack.WithRunID(runID), stack.WithReplicas(3))
	t.Logf("stack up (3 replicas) ready in %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, s.Ready(ctx))

	cli, err := stack.NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := stack.List(ctx, cli)
	require.NoError(t, err)
	var found *stack.RunInfo
	for i := range runs {
		if runs[i].RunID == runID {
			found = &runs[i]
		}
	}
	require.NotNil(t, found, "the run is listed")
	require.Len(t, found.Containers, 5, "3 nodes, redis, nginx")
	require.Len(t, found.Networks, 1)

	require.NoError(t, s.Down(ctx))
	runs, err = stack.List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.NotEqual(t, runID, r.RunID, "nothing labelled with the run is left")
	}
}

func TestUpFailsFastWithoutImages(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := stack.Up(ctx, stack.WithImages(stack.Images{Refapi: "chaosbench/does-not-exist:none"}))
	require.ErrorContains(t, err, "make images")
}

func TestRoundRobinSpreadsOverAllNodes(t *testing.T) {
	s := sharedStack(t)
	seen := map[string]int{}
	for range 30 {
		code, node := get(t, s.Entry+"/healthz", nil)
		require.Equal(t, http.StatusOK, code)
		seen[node]++
	}
	require.Len(t, seen, 3, "every node served some requests: %v", seen)
	for node, n := range seen {
		require.GreaterOrEqual(t, n, 5, "node %s got its share: %v", node, seen)
	}
}

func TestStickyPinsASession(t *testing.T) {
	s := sharedStack(t)
	ctx := context.Background()
	require.NoError(t, s.SetBalancer(ctx, arch.Sticky))
	t.Cleanup(func() { require.NoError(t, s.SetBalancer(ctx, arch.RoundRobin)) })

	owners := map[string]bool{}
	for i := range 12 {
		sid := fmt.Sprintf("session-%d", i)
		pinned := ""
		for range 8 {
			code, node := get(t, s.Entry+"/healthz", http.Header{"Cookie": {"sid=" + sid}})
			require.Equal(t, http.StatusOK, code)
			if pinned == "" {
				pinned = node
			}
			require.Equal(t, pinned, node, "session %s stays on one node", sid)
		}
		owners[pinned] = true
	}
	require.Greater(t, len(owners), 1, "sessions are spread over nodes, not all on one")
	// A cookie session whose id names its node (as the API makes them in cookie mode) goes to that node.
	for _, n := range s.Nodes {
		for range 4 {
			code, node := get(t, s.Entry+"/healthz", http.Header{"Cookie": {"sid=abc." + n.Name}})
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, n.Name, node, "a session created on %s is served by %s", n.Name, n.Name)
		}
	}
	// A login carries no credential: the load client's placement header keys it, the same node each time.
	for i := range 4 {
		placed := ""
		for range 4 {
			_, node := get(t, s.Entry+"/healthz", http.Header{load.PlacementHeader: {fmt.Sprintf("42-%d", i)}})
			if placed == "" {
				placed = node
			}
			require.Equal(t, placed, node, "client %d is placed on one node", i)
		}
	}
	// jwt mode: the Authorization header is the session's key.
	pinned := ""
	for range 8 {
		_, node := get(t, s.Entry+"/healthz", http.Header{"Authorization": {"Bearer token-a"}})
		if pinned == "" {
			pinned = node
		}
		require.Equal(t, pinned, node)
	}
}

func TestPresetsAndOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []stack.Option
		ok   bool
	}{
		{"defaults are the stateless preset", nil, true},
		{"stateful preset", []stack.Option{stack.WithArch("stateful")}, true},
		{"unknown preset", []stack.Option{stack.WithArch("serverless")}, false},
		{"zero replicas", []stack.Option{stack.WithReplicas(0)}, false},
		{"bad balancer", []stack.Option{stack.WithBalancer("ip-hash")}, false},
		{"bad persistence", []stack.Option{stack.WithRedis(arch.RedisConfig{Persistence: "fsync"})}, false},
		// custom knobs are validated all at once
		{"custom knobs", []stack.Option{stack.WithArchitecture(arch.Arch{Auth: "jwt", Sessions: "memory",
			Concurrency: "none", Balancer: arch.LeastConn})}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stack.NewConfig(tt.opts...)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
	c, err := stack.NewConfig(stack.WithArch("stateful"))
	require.NoError(t, err)
	require.Equal(t, arch.Sticky, c.Arch.Balancer)
	require.False(t, c.Arch.Idempotency)
}
