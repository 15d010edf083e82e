package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/results"
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
