package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/target/arch"
)

// upHAProxy starts a stack with HAProxy in front and removes it when t ends (stacktest.Up would import
// this package from its own internal test: a cycle).
func upHAProxy(t *testing.T, ctx context.Context, opts ...Option) *Stack {
	t.Helper()
	s, err := Up(ctx, append([]Option{WithBalancer(arch.HAProxy)}, opts...)...)
	if s != nil {
		t.Cleanup(func() { _ = s.Down(context.Background()) })
	}
	require.NoError(t, err)
	return s
}

// servers reads HAProxy's view of the nodes.
func servers(ctx context.Context, t *testing.T, s *Stack) map[string]HAProxyServer {
	t.Helper()
	st, err := s.HAProxyServers(ctx)
	require.NoError(t, err)
	return st
}

// send makes one request on a fresh connection (so that each is balanced on its own) and returns the node
// that answered, "" when the answer is not a node's (HAProxy's own 502/503/504, or no answer at all).
func send(ctx context.Context, method, url, body string) string {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return ""
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := probeClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Node-Id")
}

// TestHAProxyStack: an HAProxy stack starts, serves, spreads requests over the nodes, and routes around a
// killed node without an error.
//
// Why none: the client sends one request at a time, so none is in flight on api-2 when it dies. Until
// HAProxy's checks take api-2 out (HAProxyDetection: inter + fall × check timeout + fastinter = 3.5 s),
// round-robin picks it every third time; the connection fails (the address answers nothing: a connect
// timeout of 1 s), and a failed connection is retried on another node for every method, POST included
// (nothing was sent), redispatched; two nodes are left, so the retry lands. So errors are 0. The requests
// that paid a failed connection to api-2 are bounded twice: a redispatch is a pick too, so with r requests
// and d redispatches d <= (r+d)/3 + 1, d <= r/2 + 1; and each costs this sequential client a connect
// timeout, so d <= detection / connect timeout + 1 = 4.5. After it is out, none.
func TestHAProxyStack(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := upHAProxy(t, ctx, WithRunID(fmt.Sprintf("test-haproxy-%d", os.Getpid())), WithReplicas(3))
	require.Equal(t, "haproxy", s.Nginx.Name)
	require.NoError(t, s.Ready(ctx))
	entry, err := s.EntryURL(ctx)
	require.NoError(t, err)
	// The latency fault's rerouting reloads NGINX: refused here, with the reason.
	require.ErrorIs(t, s.Route(ctx, "api-1", "10.0.0.1:1"), ErrFixedConfig)

	// Spread: round-robin answers 10 of 30 from each node; at least 5 leaves room for a check's timing.
	seen := map[string]int{}
	for range 30 {
		seen[send(ctx, http.MethodGet, entry+"/healthz", "")]++
	}
	for _, n := range []string{"api-1", "api-2", "api-3"} {
		require.GreaterOrEqual(t, seen[n], 5, "answers per node: %v", seen)
	}

	// A GET and a POST (a login with a body the API refuses: 400 from a node is an answer) per round.
	round := func() (errs int, nodes map[string]int) {
		nodes = map[string]int{}
		for _, r := range []struct{ method, path, body string }{{http.MethodGet, "/healthz", ""}, {http.MethodPost, "/v1/login", "{"}} {
			n := send(ctx, r.method, entry+r.path, r.body)
			if n == "" {
				errs++
			}
			nodes[n]++
		}
		return errs, nodes
	}
	require.NoError(t, s.Kill(ctx, "api-2"))
	killed := time.Now()
	errs, sent := 0, 0
	require.NoError(t, poll.Until(ctx, 10*time.Millisecond, func(ctx context.Context) error {
		e, _ := round()
		errs, sent = errs+e, sent+2
		if st := servers(ctx, t, s)["api-2"]; st.Status != "DOWN" {
			return fmt.Errorf("api-2 is %q", st.Status)
		}
		return nil
	}))
	down := servers(ctx, t, s)
	t.Logf("api-2 out after %d requests, %s: %+v", sent, time.Since(killed), down["api-2"])
	require.Zero(t, errs, "errors before api-2 was out, of %d", sent)
	require.LessOrEqual(t, down["api-2"].Redispatches, sent/2+1)
	require.LessOrEqual(t, float64(down["api-2"].Redispatches), HAProxyDetection().Seconds()/connectTimeout(s.Config.UpstreamTimeout).Seconds()+1)

	// Out: nothing more is tried on api-2, and every request is answered by the two others.
	for range 10 {
		e, nodes := round()
		require.Zero(t, e)
		require.Zero(t, nodes["api-2"])
	}
	after := servers(ctx, t, s)["api-2"]
	require.Equal(t, down["api-2"].ConnErrors, after.ConnErrors)
	require.Equal(t, down["api-2"].Redispatches, after.Redispatches)

	// Back: started again, it passes rise checks and takes its share again.
	require.NoError(t, s.Start(ctx, "api-2"))
	require.NoError(t, poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		if st := servers(ctx, t, s)["api-2"]; st.Status != "UP" {
			return fmt.Errorf("api-2 is %q", st.Status)
		}
		return nil
	}))
	require.NoError(t, s.Ready(ctx))
	seen = map[string]int{}
	for range 9 {
		seen[send(ctx, http.MethodGet, entry+"/healthz", "")]++
	}
	require.Positive(t, seen["api-2"], "answers per node: %v", seen)
}

// A configuration HAProxy refuses fails Up with haproxy -c's words, and Up removes what it started.
func TestHAProxyBadConfigFailsUp(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-haproxy-bad-%d", os.Getpid())
	edit := func(c *Config) error {
		c.haproxyEdit = func(b []byte) []byte { return append(b, "    no-such-directive 1\n"...) }
		return nil
	}
	s, err := Up(ctx, WithBalancer(arch.HAProxy), WithRunID(runID), WithReplicas(1), edit)
	if s != nil {
		_ = s.Down(context.Background())
	}
	require.Error(t, err)
	require.Contains(t, err.Error(), "haproxy.cfg refused by haproxy -c")
	require.Contains(t, err.Error(), "no-such-directive")
	cli, err := NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.NotEqual(t, runID, r.RunID, "left behind: %+v", r)
	}
}
