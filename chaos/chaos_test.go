package chaos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// One stack serves every fault test, one after the other: each test reverts its fault and waits until
// every node is ready again, which is itself part of what it checks.
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
		// A short upstream timeout keeps the stalls of pause and packet loss short.
		shared, sharedErr = stack.Up(ctx, stack.WithRunID(fmt.Sprintf("test-chaos-%d", os.Getpid())),
			stack.WithUpstreamTimeout(2*time.Second))
	})
	require.NoError(t, sharedErr)
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if code != 0 {
			printAPILogs(ctx, shared) // a failure's why is often in a node's log (a Redis error behind a 503)
		}
		if err := shared.Down(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "down:", err)
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// inject starts the named fault on target and registers its revert as cleanup first.
func inject(t *testing.T, s *stack.Stack, name string, p chaos.Params, target string) (*chaos.Injector, int) {
	t.Helper()
	f, err := chaos.New(name, p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(s, 1))
	t.Cleanup(func() { require.NoError(t, in.RevertAll(context.Background())) })
	id, err := in.Inject(context.Background(), f, p, target)
	require.NoError(t, err)
	return in, id
}

var client = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// do sends one request and returns its status (0 on a transport error) and node.
func do(method, url, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Node-Id"), nil
}

// nodeURL is a node's own URL through NGINX's per-node route, so that the test reaches one node only.
func nodeURL(s *stack.Stack, node, path string) string {
	return s.Entry + "/_chaosbench/node/" + node + path
}

func TestKillRoutesAround(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "kill", nil, "api-2")
	for i := range 30 {
		code, node, err := do(http.MethodGet, s.Entry+"/healthz", "")
		require.NoError(t, err, "request %d", i)
		require.Equal(t, http.StatusOK, code, "request %d: nginx routes around the dead node", i)
		require.NotEqual(t, "api-2", node)
	}
	require.NoError(t, in.Revert(context.Background(), id))
	rec := in.Records()[0]
	require.Equal(t, "api-2", rec.Resolved)
	require.Greater(t, rec.End, rec.Start)
	require.GreaterOrEqual(t, rec.Ready, time.Duration(0), "the node came back")
}

func TestPauseStallsTheNode(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "pause", nil, "api-1")
	start := time.Now()
	code, _, err := do(http.MethodGet, nodeURL(s, "api-1", "/healthz"), "")
	// NGINX gives up after its 2s upstream timeout (504), or the client's 3s timeout hits first.
	require.True(t, err != nil || code == http.StatusGatewayTimeout, "code %d err %v", code, err)
	require.GreaterOrEqual(t, time.Since(start), 1900*time.Millisecond, "the request stalled")
	require.NoError(t, in.Revert(context.Background(), id))
	code, _, err = do(http.MethodGet, nodeURL(s, "api-1", "/healthz"), "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
}

func TestPacketLossTimesOutAndReverts(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "packet-loss", chaos.Params{"percent": "100"}, "api-3")
	require.Contains(t, in.Records()[0].Mechanism, "iptables")
	start := time.Now()
	code, _, err := do(http.MethodGet, nodeURL(s, "api-3", "/healthz"), "")
	require.True(t, err != nil || code == http.StatusGatewayTimeout, "code %d err %v", code, err)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "a timeout, not a fast refusal")
	// Through the balanced route GETs still succeed: a try on the silent node times out and NGINX moves on
	// (then marks it failed for 10s).
	var ok int
	for range 6 {
		if code, node, err := do(http.MethodGet, s.Entry+"/healthz", ""); err == nil && code == http.StatusOK {
			require.NotEqual(t, "api-3", node)
			ok++
		}
	}
	require.GreaterOrEqual(t, ok, 5, "NGINX routes around the silent node")
	require.NoError(t, in.Revert(context.Background(), id))
	code, node, err := do(http.MethodGet, nodeURL(s, "api-3", "/healthz"), "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "api-3", node)
}

func TestPartitionFromRedisFailsReadyz(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "partition", chaos.Params{"from": "redis"}, "api-2")
	require.Eventually(t, func() bool {
		code, _, _ := do(http.MethodGet, nodeURL(s, "api-2", "/readyz"), "")
		return code == http.StatusServiceUnavailable
	}, 10*time.Second, 100*time.Millisecond, "api-2 is not ready without Redis")
	// The others still reach Redis.
	require.NoError(t, s.NodeReady(context.Background(), "api-1"))
	require.NoError(t, in.Revert(context.Background(), id))
	require.NoError(t, s.NodeReady(context.Background(), "api-2"), "healed")
}

func TestRedisOutageFast503AndRecovery(t *testing.T) {
	s := sharedStack(t)
	signup := func(i int) (int, time.Duration) {
		start := time.Now()
		code, _, _ := do(http.MethodPost, s.Entry+"/v1/users",
			fmt.Sprintf(`{"username":"outage-%d-%d","password":"correct-horse"}`, os.Getpid(), i))
		return code, time.Since(start)
	}
	code, _ := signup(0)
	require.Equal(t, http.StatusCreated, code)

	in, id := inject(t, s, "redis-outage", chaos.Params{"mode": "kill"}, "redis")
	// Writes fail with 503 within the API's Redis timeout.
	require.Eventually(t, func() bool { c, _ := signup(1); return c == http.StatusServiceUnavailable },
		10*time.Second, 50*time.Millisecond)
	var ds []time.Duration
	for i := range 10 {
		c, d := signup(100 + i)
		require.Equal(t, http.StatusServiceUnavailable, c)
		// Fast means bounded by the API's Redis timeout (500ms), far below NGINX's 2s: nothing hangs.
		require.Less(t, d, time.Second, "a 503 comes fast")
		ds = append(ds, d)
	}
	t.Logf("503 latencies while Redis is down: %v", ds)

	require.NoError(t, in.Revert(context.Background(), id))
	require.Eventually(t, func() bool { c, _ := signup(2); return c == http.StatusCreated },
		10*time.Second, 100*time.Millisecond, "writes succeed again after the revert")
}

func TestRedisMemoryPressureRestores(t *testing.T) {
	s := sharedStack(t)
	rdb := redis.NewClient(&redis.Options{Addr: s.RedisAddr})
	defer rdb.Close()
	ctx := context.Background()
	in, id := inject(t, s, "redis-memory-pressure", chaos.Params{"maxmemory": "3mb"}, "redis")
	got, err := rdb.ConfigGet(ctx, "maxmemory*").Result()
	require.NoError(t, err)
	require.Equal(t, "3145728", got["maxmemory"])
	require.Equal(t, "allkeys-lru", got["maxmemory-policy"])
	require.NoError(t, in.Revert(ctx, id))
	got, err = rdb.ConfigGet(ctx, "maxmemory*").Result()
	require.NoError(t, err)
	require.Equal(t, "0", got["maxmemory"])
	require.Equal(t, "noeviction", got["maxmemory-policy"])
}

func TestLatencyDelaysTheNode(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "latency", chaos.Params{"delay": "300ms"}, "api-1")
	mech := in.Records()[0].Mechanism
	t.Logf("latency mechanism: %s", mech)
	// Through the balancer (api-1's upstream entry is the one rerouted) some requests are slow, all succeed.
	var slow int
	for range 9 {
		start := time.Now()
		code, node, err := do(http.MethodGet, s.Entry+"/healthz", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		if node == "api-1" {
			require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "api-1 is delayed")
			slow++
		}
	}
	require.Positive(t, slow, "round-robin reached the delayed node")
	require.NoError(t, in.Revert(context.Background(), id))
	start := time.Now()
	for range 6 {
		_, _, err := do(http.MethodGet, s.Entry+"/healthz", "")
		require.NoError(t, err)
	}
	require.Less(t, time.Since(start), 1500*time.Millisecond, "no delay after the revert")
}

func TestAnyAPIIsSeeded(t *testing.T) {
	s := sharedStack(t)
	pick := func(seed int64) []string {
		env := chaos.NewEnv(s, seed)
		var out []string
		for range 5 {
			tg, err := env.Resolve(chaos.AnyAPI)
			require.NoError(t, err)
			out = append(out, tg.Name)
		}
		return out
	}
	require.Equal(t, pick(42), pick(42), "the same seed picks the same nodes")
	_, err := chaos.NewEnv(s, 1).Resolve("api-9")
	require.ErrorContains(t, err, "unknown target")
}

func TestRunRevertsOnCancel(t *testing.T) {
	s := sharedStack(t)
	f, err := chaos.New("pause", nil)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(s, 7))
	t.Cleanup(func() { require.NoError(t, in.RevertAll(context.Background())) })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	// Cancelled long before the hour is up (as Ctrl-C would): the fault is still reverted.
	start := time.Now()
	rec, err := in.Run(ctx, f, nil, "api-3", time.Hour)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 30*time.Second)
	require.Positive(t, rec.End, "reverted")
	require.NoError(t, s.NodeReady(context.Background(), "api-3"))
}

// failing is a fault whose injection is refused, as a Docker error would be.
type failing struct{ injected *bool }

func (failing) Name() string { return "kill" } // a registered name, so the role check applies
func (f failing) Inject(context.Context, *chaos.Env, chaos.Target) (chaos.Effect, error) {
	*f.injected = true
	return chaos.Effect{}, fmt.Errorf("refused")
}

// TestInjectorRecordsEveryFailure: a fault that did not happen leaves a
// record with its error, whichever way it failed; before, an unresolved
// target or a role the fault cannot hit left no record at all.
func TestInjectorRecordsEveryFailure(t *testing.T) {
	s := sharedStack(t)
	ctx := context.Background()
	in := chaos.NewInjector(chaos.NewEnv(s, 1))
	injected := false
	f := failing{&injected}

	rec, err := in.Run(ctx, f, nil, "api-1", time.Second)
	require.ErrorContains(t, err, "refused")
	require.True(t, injected)
	require.Equal(t, "api-1", rec.Resolved)
	require.Contains(t, rec.Error, "inject kill on api-1: refused")

	rec, err = in.Run(ctx, f, nil, "api-9", time.Second)
	require.ErrorContains(t, err, `unknown target "api-9"`)
	require.Contains(t, rec.Error, `unknown target "api-9"`)

	injected = false
	lat, err := chaos.New("latency", chaos.Params{"delay": "10ms"})
	require.NoError(t, err)
	rec, err = in.Run(ctx, lat, nil, "redis", time.Second)
	require.ErrorContains(t, err, "latency cannot target redis")
	require.Contains(t, rec.Error, "it targets API nodes")

	rec = in.NotRun("pause", nil, "api-2", fmt.Errorf("not injected: the load ended before 20s"))
	require.Equal(t, "pause", rec.Kind)

	recs := in.Records()
	require.Len(t, recs, 4, "every failure is on the record")
	for _, r := range recs {
		require.NotEmpty(t, r.Error)
		require.Equal(t, r.Start, r.End)
		require.EqualValues(t, -1, r.Ready)
	}
}

// TestClockSkewRefusesTokens: a node whose API clock is 30 s behind refuses a token another node just
// issued (nbf in its future, past the 5 s leeway), while its own tokens only look older to the others; the
// revert makes the refused token good again. The admin port is not behind NGINX.
func TestClockSkewRefusesTokens(t *testing.T) {
	s := sharedStack(t)
	login := func(node, user string) string {
		t.Helper()
		return signUp(t, nodeURL(s, node, ""), user)
	}
	profile := func(node, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, nodeURL(s, node, "/v1/profile"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out struct {
			Code string `json:"code"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Code
	}
	user := fmt.Sprintf("skew-%d", time.Now().UnixNano())
	fromAPI1 := login("api-1", user)
	code, _ := profile("api-2", fromAPI1)
	require.Equal(t, http.StatusOK, code, "no offset: any node accepts any node's token")

	in, id := inject(t, s, "clock-skew", chaos.Params{"offset": "-30s"}, "api-2")
	require.Equal(t, "API clock offset -30s", in.Records()[0].Mechanism)
	code, reason := profile("api-2", fromAPI1)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "token_invalid", reason, "nbf is 30 s in api-2's future")
	fromAPI2 := login("api-2", user+"-2")
	code, _ = profile("api-1", fromAPI2)
	require.Equal(t, http.StatusOK, code, "a token from a node behind only looks older")
	code, _, err := do(http.MethodGet, s.Entry+"/admin/clock", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, code, "NGINX routes the API's port only")

	require.NoError(t, in.Revert(context.Background(), id))
	code, _ = profile("api-2", fromAPI1)
	require.Equal(t, http.StatusOK, code, "reverted: the same token is accepted again")
}

// printAPILogs writes the last lines of every API node's log to stderr, for a failed run of the package.
func printAPILogs(ctx context.Context, s *stack.Stack) {
	dir, err := os.MkdirTemp("", "chaos-logs-")
	if err != nil {
		return
	}
	defer os.RemoveAll(dir)
	_ = s.SaveLogs(ctx, dir) // what could be saved
	names, _ := filepath.Glob(filepath.Join(dir, "api-*"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		fmt.Fprintf(os.Stderr, "--- %s (last %d lines)\n%s\n", filepath.Base(name), min(40, len(lines)),
			strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}
