package load_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// busyAPI says "still in progress" its own way: the first attempt of each request (by its X-Seq header)
// on /busy is a 409 with code "busy" (not the contract's idempotency_in_flight), the next a 200; /down is
// always a 503; /slow answers after 400 ms, past the scenarios' 100 ms timeout.
func busyAPI(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/busy":
			mu.Lock()
			seen[r.Header.Get("X-Seq")]++
			n := seen[r.Header.Get("X-Seq")]
			mu.Unlock()
			if n == 1 {
				w.WriteHeader(http.StatusConflict)
				_, _ = w.Write([]byte(`{"code":"busy"}`))
				return
			}
			_, _ = w.Write([]byte(`{}`))
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code":"down"}`))
		case "/slow":
			select {
			case <-time.After(400 * time.Millisecond):
			case <-r.Context().Done():
			}
			_, _ = w.Write([]byte(`{}`))
		default:
			_, _ = w.Write([]byte(`{}`)) // /healthz
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// retryHead starts the scenarios below: quick backoffs, a 100 ms timeout, the scenario's attempts given by
// each test.
const retryHead = `name: busy
phases: [{duration: 1s, rate: 10/s}]
clients: 2
timeout: 100ms
`

// runRetry runs the scenario y against busyAPI and returns each op's records.
func runRetry(t *testing.T, y string, httpClient bool) map[string][]load.Record {
	t.Helper()
	plan, err := scenarios.Parse("busy.yaml", []byte(y))
	require.NoError(t, err)
	srv := busyAPI(t)
	cfg := load.Config{BaseURL: srv.URL, Clients: plan.Clients, Seed: 7, Client: plan.EngineClient(), Mix: plan.EngineMix(),
		Phases: plan.LoadPhases(), Retry: plan.Retry, Timeout: plan.Timeout, MaxLateness: 5 * time.Second, RunDir: t.TempDir()}
	opts := []load.Option{load.WithoutProgress()}
	if httpClient {
		opts = append(opts, load.WithHTTPClient(&http.Client{}))
	}
	_, err = load.Run(context.Background(), cfg, opts...)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(cfg.RunDir, runfolder.RecordsFile))
	require.NoError(t, err)
	defer f.Close()
	byOp := map[string][]load.Record{}
	require.NoError(t, load.ReadRecords(f, func(r load.Record) error {
		byOp[r.Op] = append(byOp[r.Op], r)
		return nil
	}))
	return byOp
}

// TestDeclaredRetryOn: what a declared op retries is what its retry names, over the scenario's.
func TestDeclaredRetryOn(t *testing.T) {
	step := "    steps:\n      - request: {method: GET, path: %s, headers: {X-Seq: \"{{seq}}\"}}\n"
	op := func(name, retry, path string) string {
		s := "  " + name + ":\n"
		if retry != "" {
			s += "    retry: " + retry + "\n"
		}
		return s + fmt.Sprintf(step, path)
	}
	for _, mode := range []string{"wire", "net/http"} {
		t.Run(mode, func(t *testing.T) {
			// The service's own 409: retried by the op that names it (then 200, 2 attempts); final for the op
			// that does not (the contract's rule retries a 409 only with the code idempotency_in_flight).
			byOp := runRetry(t, retryHead+"retry: {attempts: 4, backoff: 1ms, max_backoff: 5ms, budget: 3s}\nops:\n"+
				op("a.retried", "{on: {statuses: [409]}}", "/busy")+op("a.final", "", "/busy")+
				"mix: {a.retried: 1, a.final: 1}\n", mode == "net/http")
			require.NotEmpty(t, byOp["a.retried"])
			require.NotEmpty(t, byOp["a.final"])
			for _, r := range byOp["a.retried"] {
				assert.Equal(t, 2, r.Attempts, "a 409, then the 200")
				assert.Equal(t, 200, r.Status)
				assert.Equal(t, load.ClassOK, r.Class)
			}
			for _, r := range byOp["a.final"] {
				assert.Equal(t, 1, r.Attempts, "the 409 is final")
				assert.Equal(t, 409, r.Status)
			}

			// A scenario-wide on: the same 409 retried by every op.
			byOp = runRetry(t, retryHead+"retry: {attempts: 4, backoff: 1ms, max_backoff: 5ms, budget: 3s, on: {statuses: [409, 503]}}\nops:\n"+
				op("a.final", "", "/busy"), mode == "net/http")
			require.NotEmpty(t, byOp["a.final"])
			for _, r := range byOp["a.final"] {
				assert.Equal(t, 2, r.Attempts, "the scenario retries 409")
			}

			// The op's attempts override the scenario's: an always-503 is tried 2 times, not 4.
			byOp = runRetry(t, retryHead+"retry: {attempts: 4, backoff: 1ms, max_backoff: 5ms, budget: 3s}\nops:\n"+
				op("a.two", "{attempts: 2}", "/down")+op("a.four", "", "/down")+
				"mix: {a.two: 1, a.four: 1}\n", mode == "net/http")
			require.NotEmpty(t, byOp["a.two"])
			require.NotEmpty(t, byOp["a.four"])
			for _, r := range byOp["a.two"] {
				assert.Equal(t, 2, r.Attempts, "the op's own attempts")
				assert.Equal(t, 503, r.Status)
			}
			for _, r := range byOp["a.four"] {
				assert.Equal(t, 4, r.Attempts, "the scenario's attempts")
			}

			// An error class not named is not retried: connect only, against a service that times out, is
			// one attempt; the default (every transport error) retries the timeout.
			byOp = runRetry(t, retryHead+"retry: {attempts: 3, backoff: 1ms, max_backoff: 5ms, budget: 3s}\nops:\n"+
				op("a.connect", "{on: {errors: [connect]}}", "/slow")+op("a.any", "", "/slow")+
				"mix: {a.connect: 1, a.any: 1}\n", mode == "net/http")
			require.NotEmpty(t, byOp["a.connect"])
			require.NotEmpty(t, byOp["a.any"])
			for _, r := range byOp["a.connect"] {
				assert.Equal(t, 1, r.Attempts, "a timeout is not a connect error")
				assert.Equal(t, load.ClassTimeout, r.Class)
			}
			for _, r := range byOp["a.any"] {
				assert.Equal(t, 3, r.Attempts, "the default retries the timeout")
				assert.Equal(t, load.ClassTimeout, r.Class)
			}
		})
	}
}

// TestDeclaredRetryValidated: a Go caller's op policy is checked as the run's is, and may not outlast the
// run's budget (the run's grace is sized by it).
func TestDeclaredRetryValidated(t *testing.T) {
	op := func(p load.RetryPolicy) load.Mix {
		return load.Mix{{Op: load.NewDeclared(flow.Op{Name: "x.y"}, load.WithRetry(p)), Weight: 1}}
	}
	run := load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond, Budget: time.Second}
	cfg := load.Config{BaseURL: "http://127.0.0.1:1", Retry: run, Clients: 1, Client: &flow.Client{},
		Phases: []load.Phase{{Name: "s", Duration: time.Second, Pacer: load.Constant(1)}}}
	long := run
	long.Budget = 2 * time.Second
	cfg.Mix = op(long)
	assert.ErrorContains(t, errors.Join(cfg.Validate()...), "retry.budget 2s exceeds the run's 1s")
	wrong := run
	wrong.On = &load.RetryOn{Errors: []string{"eof"}}
	cfg.Mix = op(wrong)
	assert.ErrorContains(t, errors.Join(cfg.Validate()...), `mix[0] x.y: retry.on.errors: "eof"`)
	cfg.Mix = op(run)
	assert.Empty(t, cfg.Validate())
}
