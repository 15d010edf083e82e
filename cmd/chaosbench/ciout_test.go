package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
)

// ciFlags is a ciOutputs with args parsed as the run command would.
func ciFlags(t *testing.T, args ...string) *ciOutputs {
	t.Helper()
	var c ciOutputs
	f := pflag.NewFlagSet("run", pflag.ContinueOnError)
	c.register(f)
	require.NoError(t, f.Parse(args))
	return &c
}

func markdownOf(s results.Summary) func(io.Writer, bool) error {
	return func(w io.Writer, compact bool) error { return render.MarkdownReporter{Compact: compact}.Render(w, s) }
}

// TestCIOutputs: the flags and GITHUB_STEP_SUMMARY each produce their file from the run's summaries.
func TestCIOutputs(t *testing.T) {
	s, err := results.ReadSummary(filepath.Join(fixtureRun(t), "summary.json"))
	require.NoError(t, err)
	dir := t.TempDir()
	summary := filepath.Join(dir, "step_summary.md")
	require.NoError(t, os.WriteFile(summary, []byte("# earlier step\n"), 0o644))
	t.Setenv(stepSummaryEnv, summary)

	c := ciFlags(t, "--junit", filepath.Join(dir, "junit.xml"), "--bench-json", filepath.Join(dir, "bench.json"))
	require.NoError(t, c.write([]results.Summary{s}, markdownOf(s)))

	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	require.Contains(t, string(junit), `<testsuite name="compare-architectures" tests="30" failures="6" errors="0"`)

	var bench []results.BenchEntry
	b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &bench))
	require.Equal(t, results.Bench([]results.Summary{s}), bench)

	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(md), "# earlier step\n\n## ❌ chaosbench: compare-architectures"), "appended after a blank line")
}

// Nothing asked, nothing written; a file that cannot be written is an error naming the flag, and the
// other outputs are still written.
func TestCIOutputsErrors(t *testing.T) {
	s, err := results.ReadSummary(filepath.Join(fixtureRun(t), "summary.json"))
	require.NoError(t, err)
	t.Setenv(stepSummaryEnv, "")
	dir := t.TempDir()
	require.NoError(t, ciFlags(t).write([]results.Summary{s}, markdownOf(s)))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)

	c := ciFlags(t, "--junit", filepath.Join(dir, "no-such-dir", "junit.xml"), "--bench-json", filepath.Join(dir, "bench.json"))
	err = c.write([]results.Summary{s}, markdownOf(s))
	require.ErrorContains(t, err, "--junit: open "+filepath.Join(dir, "no-such-dir", "junit.xml"))
	require.Equal(t, exitError, exitCode(err))
	require.FileExists(t, filepath.Join(dir, "bench.json"))
}

// `chaosbench run` writes the JUnit XML even when the run broke before anything ran: CI sees an error,
// not a missing file (the run folder cannot be created here, so no Docker is touched).
func TestRunWritesJUnitOnError(t *testing.T) {
	t.Setenv(stepSummaryEnv, "")
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	junit := filepath.Join(dir, "junit.xml")
	out, err := execCLI(t, "run", "kill-node", "--out", filepath.Join(blocker, "run"), "--junit", junit)
	require.ErrorContains(t, err, "create run folder", out)
	require.Equal(t, exitError, exitCode(err))
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.Contains(t, string(b), `errors="1"`)
	require.Contains(t, string(b), `<error message="no architecture ran"`)
}

// `chaosbench report --format junit` prints the run's JUnit XML, as the run folder holds it.
func TestReportJUnit(t *testing.T) {
	dir := fixtureRun(t)
	out, err := execCLI(t, "report", dir, "--format", "junit")
	require.NoError(t, err, "a failed run still renders")
	want, err := os.ReadFile(filepath.Join("..", "..", "results", "render", "testdata", "report.junit.xml"))
	require.NoError(t, err)
	require.Equal(t, string(want), out)
}
