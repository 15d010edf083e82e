package load_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoOp is an op written outside package load with its exported API only,
// as docs/load.md tells an op author to: registered by name, its calls made
// through Exec.Do, its outcome from OutcomeOf.
type echoOp struct{}

var _ load.Op = echoOp{}

func init() { load.RegisterOp(echoOp{}) }

func (echoOp) Name() string       { return "test.echo" }
func (echoOp) NeedsSession() bool { return true }
func (echoOp) Do(ctx context.Context, x *load.Exec) load.Outcome {
	key := x.Key()
	resp, err := x.Do(ctx, load.Request{Method: http.MethodPost, Path: "/v1/echo", Body: []byte(`{"n":1}`),
		IdempotencyKey: key})
	return load.OutcomeOf(x, resp, err, key)
}

// echoTarget answers sign-up, login, the warm-up's /healthz, profile reads
// and echoOp's POST /v1/echo; echoes counts what reached /v1/echo with a key.
func echoTarget(t *testing.T, echoes *atomic.Int64) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/users", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("POST /v1/login", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"tok","session_id":"s-1","expires_in":3600}`))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /v1/profile", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	mux.HandleFunc("POST /v1/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Idempotency-Key") != "" && r.Header.Get("Authorization") == "Bearer tok" {
			echoes.Add(1)
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runScenario parses a scenario and runs its load, as the runner does,
// against target: the steps from a scenario file to a load.Result, with
// no stack. A test that needs the summary or the reports goes on from the
// plan and the result it returns.
func runScenario(t *testing.T, yaml, target string) (scenarios.Plan, *load.Result) {
	t.Helper()
	plan, err := scenarios.Parse("registered-op.yaml", []byte(yaml))
	require.NoError(t, err)
	res, err := load.Run(context.Background(), load.Config{BaseURL: target, Phases: plan.LoadPhases(),
		Clients: plan.Clients, Mix: plan.Mix, Resources: plan.Resources, Retry: plan.Retry, Timeout: plan.Timeout,
		Seed: uint64(plan.Seed), RunDir: t.TempDir()}, load.WithoutProgress())
	require.NoError(t, err)
	return plan, res
}

// TestRegisteredOpRunsFromAScenario: an op registered from test code alone
// is named in a scenario's mix, runs, and shows in the result's per-op
// stats, in records.jsonl, in summary.json's ops and in every report, like a
// built-in op.
func TestRegisteredOpRunsFromAScenario(t *testing.T) {
	var echoes atomic.Int64
	srv := echoTarget(t, &echoes)
	plan, res := runScenario(t, `name: registered-op
seed: 7
clients: 2
phases:
  - {name: steady, duration: 1s, rate: 100/s}
mix: {test.echo: 3, profile.read: 1}
`, srv.URL)

	var names []string
	for _, w := range plan.Mix {
		names = append(names, w.Op.Name())
	}
	assert.ElementsMatch(t, []string{"test.echo", "profile.read"}, names)

	byOp := map[string]load.OpStats{}
	var count int64
	for _, s := range res.Stats {
		byOp[s.Op] = s
		count += s.Count
	}
	echo, ok := byOp["test.echo"]
	require.True(t, ok, "the registered op has its own stats: %+v", res.Stats)
	assert.Equal(t, "steady", echo.Phase)
	assert.Positive(t, echo.Count)
	assert.Zero(t, echo.Errors)
	assert.Positive(t, echo.P99)
	assert.Equal(t, echoes.Load(), echo.Count, "every echo reached the target with its key and the client's token")
	assert.Equal(t, res.Totals.Completed, count, "the per-op stats account for every request")

	f, err := os.Open(res.Files.Records)
	require.NoError(t, err)
	defer f.Close()
	var recorded int64
	require.NoError(t, load.ReadRecords(f, func(r load.Record) error {
		if r.Op == "test.echo" {
			recorded++
			assert.Equal(t, load.ClassOK, r.Class)
			assert.NotEmpty(t, r.Key)
		}
		return nil
	}))
	assert.Equal(t, echo.Count, recorded)

	// On to the summary and the reports, as the runner goes: the op has its row in both.
	a, err := results.Analyze(results.Input{Name: "stub", Load: res, Records: func(fn func(load.Record) error) error {
		f, err := os.Open(res.Files.Records)
		if err != nil {
			return err
		}
		defer f.Close()
		return load.ReadRecords(f, fn)
	}})
	require.NoError(t, err)
	var op results.OpStats
	for _, o := range a.Ops {
		if o.Name == "test.echo" {
			op = o
		}
	}
	assert.Equal(t, echo.Count, op.Requests, "summary.json's ops: %+v", a.Ops)
	assert.Positive(t, op.P99MS)
	for _, r := range render.Reporters() {
		var b bytes.Buffer
		require.NoError(t, r.Render(&b, results.Summary{Schema: results.SchemaVersion, Scenario: plan.Name,
			Architectures: []results.Arch{a}}))
		assert.Contains(t, b.String(), "test.echo", "the %s report has the op's row", r.Format())
	}
}

// TestUnknownOpListsRegistered: a mix naming no registered op is refused at
// its line, with the known ops listed, the test's own among them.
func TestUnknownOpListsRegistered(t *testing.T) {
	_, err := scenarios.Parse("bad.yaml", []byte("name: x\nphases:\n  - {duration: 1s, rate: 10/s}\nmix: {test.nope: 1}\n"))
	require.Error(t, err)
	for _, want := range []string{"bad.yaml:4:", `mix."test.nope"`, `unknown operation "test.nope"`, "test.echo", "order.create"} {
		assert.ErrorContains(t, err, want)
	}
	assert.Equal(t, []string{"cart.write", "order.create", "profile.read", "resource.read", "resource.update", "test.echo"}, load.OpNames())
}
