package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
)

// TestRunSuite runs a two-scenario suite on real stacks: each scenario gets its own run folder with its
// own summary and reports, the suite folder suite.json and the combined reports, and the suite's verdict
// is the worst of its scenarios' (one passes, one fails).
func TestRunSuite(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Cleanup(func() { stacktest.Sweep(t, "suitetest-") })
	s, err := scenarios.LoadSuite(filepath.Join("testdata", "suite", "suite.yaml"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	out, err := RunSuite(ctx, s, WithOutDir(dir), WithLog(testWriter{t}, false))
	require.NoError(t, err, "a failed threshold is a verdict, not a run error")
	require.Equal(t, dir, out.Dir)

	// The layout: one folder per scenario, numbered in the suite's order, each a run folder.
	for _, sub := range []string{"01-suitetest-pass", "02-suitetest-fail"} {
		for _, f := range []string{"summary.json", "report.txt", "report.md", "report.html", "stateless/records.jsonl"} {
			require.FileExists(t, filepath.Join(dir, sub, f))
		}
	}
	for _, f := range []string{"suite.json", "report.txt", "report.md", "report.html"} {
		require.FileExists(t, filepath.Join(dir, f))
	}

	// suite.json, read back as compare and report read it.
	got, err := results.ReadSuite(dir)
	require.NoError(t, err)
	require.Equal(t, "suitetest", got.Name)
	require.Len(t, got.Entries, 2)
	require.Equal(t, results.StatusPassed, got.Entries[0].Verdict)
	require.Equal(t, results.StatusFailed, got.Entries[1].Verdict)
	require.Equal(t, results.StatusFailed, got.Verdict, "the worst entry decides")
	require.False(t, got.Passed)
	require.Positive(t, got.DurationS)
	pass := got.Entries[0].Run
	require.Positive(t, pass.Architectures[0].Requests.Sent)
	var exprs []string
	for _, th := range pass.Architectures[0].Thresholds {
		exprs = append(exprs, th.Expr)
	}
	require.Equal(t, []string{"writes.duplicates == 0", "errors.rate < 50%"}, exprs, "the suite's shared threshold is checked too")
	fail := got.Entries[1].Run
	require.False(t, fail.Architectures[0].Thresholds[0].OK)

	txt, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	require.NoError(t, err)
	require.Contains(t, string(txt), "FAILED: 1 of 2 scenario × architecture runs")
	require.Contains(t, string(txt), "suitetest-fail × stateless: latency.p50 < 0.001ms")
	stacktest.RequireNoRuns(t, "suitetest-")
}

// TestRunSuiteInterrupted cancels the suite while its first scenario's load runs: that scenario writes
// what it measured and is errored, the second is "not run" (never passed), the suite is errored, and no
// container or network is left.
func TestRunSuiteInterrupted(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Cleanup(func() { stacktest.Sweep(t, "suiteint-") })
	mk := func(name string) scenarios.Plan {
		p, err := scenarios.Parse(name+".yaml", []byte("name: "+name+"\nseed: 3\nstack: {replicas: 1}\nclients: 5\nphases: [{duration: 30s, rate: 20/s}]\n"))
		require.NoError(t, err)
		return p
	}
	s := scenarios.Suite{Name: "suiteint", Entries: []scenarios.SuiteEntry{
		{Ref: "a", Plan: mk("suiteint-a"), Scale: 1}, {Ref: "b", Plan: mk("suiteint-b"), Scale: 1}}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Cancel two seconds after the first stack is ready: the load is running.
	log := &cancelOn{t: t, marker: ": ready in", after: 2 * time.Second, cancel: cancel}
	dir := t.TempDir()
	start := time.Now()
	out, err := RunSuite(ctx, s, WithOutDir(dir), WithLog(log, false))
	require.Error(t, err)
	require.Contains(t, err.Error(), "interrupted")
	require.Less(t, time.Since(start), 2*time.Minute)

	got, rerr := results.ReadSuite(dir)
	require.NoError(t, rerr)
	require.Equal(t, results.StatusErrored, got.Verdict)
	require.Equal(t, results.StatusErrored, out.Suite.Verdict)
	require.Len(t, got.Entries, 2)
	a, b := got.Entries[0], got.Entries[1]
	require.Equal(t, "01-suiteint-a", a.Dir)
	require.NotNil(t, a.Run, "the first scenario wrote what it measured")
	require.Positive(t, a.Run.Architectures[0].Requests.Sent)
	require.Contains(t, a.Run.Architectures[0].Error, "interrupted")
	require.Equal(t, results.StatusErrored, a.Verdict)
	require.Empty(t, b.Dir)
	require.Nil(t, b.Run)
	require.Equal(t, "the suite was interrupted before it", b.NotRun)
	require.Equal(t, results.StatusErrored, b.Verdict)
	require.Equal(t, []string{"stateless"}, b.Architectures, "what it would have run is listed")
	require.NoDirExists(t, filepath.Join(dir, "02-suiteint-b"))
	txt, rerr := os.ReadFile(filepath.Join(dir, "report.txt"))
	require.NoError(t, rerr)
	require.Contains(t, string(txt), "suiteint-b  stateless     – not run")
	stacktest.RequireNoRuns(t, "suiteint-")
}

// cancelOn cancels a context a while after a log line containing marker.
type cancelOn struct {
	t      *testing.T
	marker string
	after  time.Duration
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.t.Log(strings.TrimRight(string(p), "\n"))
	if strings.Contains(string(p), c.marker) {
		c.once.Do(func() { time.AfterFunc(c.after, c.cancel) })
	}
	return len(p), nil
}
