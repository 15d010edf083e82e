package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
)

// worseRun writes a run folder whose "stateless" p99 is twice the fixture's.
func worseRun(t *testing.T) string {
	t.Helper()
	dir := fixtureRun(t)
	s, err := results.ReadSummary(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	s.Architectures[0].Latency.P99 *= 2
	require.NoError(t, s.WriteFile(filepath.Join(dir, "summary.json")))
	return dir
}

func TestCompareCmd(t *testing.T) {
	base1, base2 := fixtureRun(t), fixtureRun(t)
	same := fixtureRun(t)
	worse := worseRun(t)

	// identical runs: no regression, exit 0
	out, err := execCLI(t, "compare", base1, same)
	require.NoError(t, err)
	require.Contains(t, out, "no regression")

	// a doubled p99 is a regression: output first, then exit 3
	out, err = execCLI(t, "compare", base1+","+base2, worse)
	require.Error(t, err)
	require.Contains(t, out, "latency.p99")
	require.Contains(t, out, "REGRESSION: stateless (latency.p99)")
	require.Contains(t, out, "base: "+filepath.Join(base1, "summary.json")+", "+filepath.Join(base2, "summary.json"))
	require.Equal(t, exitFailed, run(context.Background(), []string{"compare", base1, worse}))

	// a looser tolerance accepts it
	require.Equal(t, exitOK, run(context.Background(), []string{"compare", base1, worse, "--tolerance", "latency.p99=150%"}))
	require.Equal(t, exitOK, run(context.Background(), []string{"compare", base1, worse, "--tolerance", "latency.p99=off"}))

	// globs, JSON to a file
	outFile := filepath.Join(t.TempDir(), "cmp.json")
	require.Equal(t, exitFailed, run(context.Background(), []string{"compare", filepath.Join(base1, "*.json"), worse, "--format", "json", "--out", outFile}))
	var c map[string]any
	b, err := os.ReadFile(outFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &c))
	require.Equal(t, true, c["regression"])

	// Markdown for a PR comment
	out, err = execCLI(t, "compare", base1, same, "--format", "md")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "## ✅ chaosbench compare"))
}

func TestCompareCmdBadInput(t *testing.T) {
	base := fixtureRun(t)
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "summary.json"), []byte(`{"schema":"chaosbench.summary/v0"}`), 0o644))
	garbage := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(garbage, "summary.json"), []byte(`not json`), 0o644))
	missing := filepath.Join(t.TempDir(), "gone")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"compare", base, missing}, missing + ": no such file"},
		{[]string{"compare", base, other}, filepath.Join(other, "summary.json") + `: schema "chaosbench.summary/v0"`},
		{[]string{"compare", garbage, base}, filepath.Join(garbage, "summary.json") + ": not a chaosbench summary"},
		{[]string{"compare", base, filepath.Join(base, "*.nothing")}, "NEW: "},
		{[]string{"compare", base, base, "--tolerance", "latency.p99"}, "want METRIC=BOUND"},
		{[]string{"compare", base, base, "--tolerance", "latency.p90=10%"}, `unknown metric "latency.p90"`},
		{[]string{"compare", base, base, "--format", "html"}, `--format "html"`},
		{[]string{"compare", base, ","}, "NEW: no run given"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			_, err := execCLI(t, tt.args...)
			require.ErrorContains(t, err, tt.msg)
			require.Equal(t, exitBadInput, run(context.Background(), tt.args))
		})
	}
	// Only one side given: cobra's argument check.
	require.Equal(t, exitBadInput, run(context.Background(), []string{"compare", base}))
	// An unwritable --out is an error of the tool, not of the input.
	require.Equal(t, exitError, run(context.Background(), []string{"compare", base, base, "--out", filepath.Join(missing, "x", "y.txt")}))
}

// suiteRun writes a suite folder of two scenarios from the fixture (steady-baseline: its first
// architecture; compare-architectures: all three), p99 of every architecture multiplied by p99x.
func suiteRun(t *testing.T, p99x float64) string {
	t.Helper()
	full, err := results.ReadSummary(filepath.Join(fixtureRun(t), "summary.json"))
	require.NoError(t, err)
	steady := full
	steady.Scenario = "steady-baseline"
	steady.Architectures = append([]results.Arch(nil), full.Architectures[:1]...)
	dir := t.TempDir()
	s := results.Suite{Name: "nightly"}
	for i, run := range []results.Summary{steady, full} {
		run.Architectures = append([]results.Arch(nil), run.Architectures...)
		for j := range run.Architectures {
			run.Architectures[j].Latency.P99 *= p99x
		}
		sub := fmt.Sprintf("%02d-%s", i+1, run.Scenario)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
		require.NoError(t, run.WriteFile(filepath.Join(dir, sub, "summary.json")))
		s.Entries = append(s.Entries, results.SuiteEntry{Scenario: run.Scenario, Dir: sub, Run: &run})
	}
	_, err = render.WriteSuite(dir, s)
	require.NoError(t, err)
	return dir
}

// TestCompareCmdSuites: suite folders on either side, compared per scenario × architecture, one exit code.
func TestCompareCmdSuites(t *testing.T) {
	base, same, worse := suiteRun(t, 1), suiteRun(t, 1), suiteRun(t, 2)

	out, err := execCLI(t, "compare", base, same)
	require.NoError(t, err)
	require.Contains(t, out, "no regression")
	require.Contains(t, out, "base: "+filepath.Join(base, "suite.json"))

	out, err = execCLI(t, "compare", base, worse)
	require.Error(t, err)
	require.Equal(t, exitFailed, exitCode(err))
	require.Contains(t, out, "steady-baseline/stateless: ✗ regression")
	require.Contains(t, out, "compare-architectures/stateful: ✗ regression")

	// A plain run folder against a suite: a suite of one; the suite's other scenario is new, shown, not judged.
	single := fixtureRun(t)
	out, err = execCLI(t, "compare", single, base)
	require.NoError(t, err, out)
	require.Contains(t, out, "steady-baseline/stateless: ? missing")
	require.Contains(t, out, "compare-architectures/stateless: ok")
	// The other way round, the scenario is gone from NEW: a regression.
	require.Equal(t, exitFailed, runCLI("compare", base, single))

	// A suite folder whose scenario summary is gone is bad input, naming the entry.
	require.NoError(t, os.Remove(filepath.Join(same, "02-compare-architectures", "summary.json")))
	_, err = execCLI(t, "compare", base, same)
	require.ErrorContains(t, err, "entries[1] (compare-architectures)")
	require.Equal(t, exitBadInput, exitCode(err))
}

// runCLI runs the command line and returns its exit code.
func runCLI(args ...string) int { return run(context.Background(), args) }
