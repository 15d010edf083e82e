package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/results"
)

// fixtureRun copies the results package's fixture summary (three
// architectures, two fail) into a fresh run folder.
func fixtureRun(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "results", "testdata", "summary.json"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644))
	return dir
}

// execCLI runs the root command in-process and returns what it printed.
func execCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestReportCmd(t *testing.T) {
	dir := fixtureRun(t)

	// text to stdout, no colour when stdout is not a terminal
	out, err := execCLI(t, "report", dir)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "chaosbench: compare-architectures"))
	require.Contains(t, out, "FAILED: 2 of 3 architectures")
	require.NotContains(t, out, "\x1b[")

	// html and md go into the folder; the path is printed
	for _, f := range []struct{ format, file string }{{"html", "report.html"}, {"md", "report.md"}} {
		out, err = execCLI(t, "report", dir, "--format", f.format)
		require.NoError(t, err)
		want := filepath.Join(dir, f.file)
		require.Equal(t, want+"\n", out)
		st, err := os.Stat(want)
		require.NoError(t, err)
		require.Positive(t, st.Size())
	}

	// json is the summary again, readable by ReadSummary
	out, err = execCLI(t, "report", filepath.Join(dir, "summary.json"), "--format", "json")
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, os.WriteFile(p, []byte(out), 0o644))
	_, err = results.ReadSummary(p)
	require.NoError(t, err)
}

func TestReportCmdExitCodes(t *testing.T) {
	dir := fixtureRun(t)
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "summary.json"), []byte(`{"schema":"chaosbench.summary/v0"}`), 0o644))
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"report", dir}, exitOK},                                   // a failed run still renders
		{[]string{"report", dir, "--format", "md"}, exitOK},                 // written into the folder
		{[]string{"report", t.TempDir()}, exitBadInput},                     // no summary.json
		{[]string{"report", other}, exitBadInput},                           // another schema
		{[]string{"report", dir, "--format", "pdf"}, exitBadInput},          // unknown format
		{[]string{"report"}, exitBadInput},                                  // RUN_DIR missing
		{[]string{"report", filepath.Join(dir, "nope.json")}, exitBadInput}, // missing file
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			require.Equal(t, tt.want, run(context.Background(), tt.args))
		})
	}
	_, err := execCLI(t, "report", filepath.Join(dir, "nope.json"))
	require.ErrorContains(t, err, filepath.Join(dir, "nope.json")+": no such file")
}

// A suite folder re-renders as a suite: its combined table, its JUnit (a testsuite per scenario) and its
// suite.json, and writes the combined md/html into the suite folder.
func TestReportCmdSuite(t *testing.T) {
	dir := suiteRun(t, 1)
	out, err := execCLI(t, "report", dir)
	require.NoError(t, err)
	require.Contains(t, out, "steady-baseline")
	require.Contains(t, out, "compare-architectures")

	out, err = execCLI(t, "report", dir, "--format", "junit")
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(out, "<testsuite "), out)

	out, err = execCLI(t, "report", dir, "--format", "json")
	require.NoError(t, err)
	require.Contains(t, out, `"schema": "chaosbench.suite/v1"`)

	require.NoError(t, os.Remove(filepath.Join(dir, "report.html")))
	out, err = execCLI(t, "report", dir, "--format", "html")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "report.html"), strings.TrimSpace(out))
	require.FileExists(t, filepath.Join(dir, "report.html"))

	// A suite folder whose entry lost its summary is bad input naming the file.
	require.NoError(t, os.Remove(filepath.Join(dir, "01-steady-baseline", "summary.json")))
	require.Equal(t, exitBadInput, runCLI("report", dir))
}
