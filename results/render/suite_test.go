package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// fixtureSuite is a suite of three: a scenario whose one architecture passed, the compare-architectures
// fixture (two of three fail), and a scenario the suite never reached (interrupted).
func fixtureSuite() results.Suite {
	pass := fixtureSummary()
	pass.Scenario, pass.Description = "steady-baseline", "One architecture, no fault."
	pass.Architectures = pass.Architectures[:1]
	full := fixtureSummary()
	return results.Suite{Name: "nightly", Description: "Every night on main.", Source: "nightly.yaml",
		StartedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), DurationS: 190,
		Entries: []results.SuiteEntry{
			{Scenario: "steady-baseline", Dir: "01-steady-baseline", Scale: 1, Architectures: []string{"stateless"}, Run: &pass},
			{Scenario: "compare-architectures", Dir: "02-compare-architectures", Scale: 1,
				Architectures: []string{"stateless", "stateful", "stateless-no-idempotency"}, Run: &full},
			{Scenario: "kill-node", Scale: 0.5, Architectures: []string{"stateless"}, NotRun: "the suite was interrupted before it"},
		}}
}

func renderSuite(t *testing.T, r SuiteReporter, s results.Suite) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.Render(&b, s))
	return b.String()
}

// TestSuiteReportsGolden: the combined reports, text, Markdown (full and compact) and HTML.
func TestSuiteReportsGolden(t *testing.T) {
	s := fixtureSuite()
	txt := renderSuite(t, SuiteTextReporter{}, s)
	golden(t, "suite.txt", []byte(txt))
	md := renderSuite(t, SuiteMarkdownReporter{}, s)
	golden(t, "suite.md", []byte(md))
	compact := renderSuite(t, SuiteMarkdownReporter{Compact: true}, s)
	golden(t, "suite.compact.md", []byte(compact))
	html := renderSuite(t, SuiteHTMLReporter{}, s)
	golden(t, "suite.html", []byte(html))

	// The verdict ends the text: every scenario × architecture that did not pass, the one not run included.
	tail := strings.Split(strings.TrimRight(txt, "\n"), "\n")
	tail = tail[len(tail)-4:]
	require.Equal(t, "ERRORED: 3 of 5 scenario × architecture runs did not pass, and a run that did not finish proves nothing (1 not run)", tail[0])
	require.Contains(t, tail[1], "compare-architectures × stateful: ")
	require.Equal(t, "  kill-node × stateless: the suite was interrupted before it", tail[3])
	require.Contains(t, txt, "kill-node              stateless                 – not run")
	require.NotContains(t, txt, "kill-node              stateless                 ✓")
	// Each scenario's own report is inside, under its number and folder.
	require.Contains(t, txt, "== 2/3 compare-architectures (02-compare-architectures/)\nchaosbench: compare-architectures · seed")
	require.Contains(t, txt, "== 3/3 kill-node: not run (the suite was interrupted before it)")

	require.True(t, strings.HasPrefix(md, "## ❌ chaosbench suite: nightly"))
	require.Contains(t, md, "\n### ✅ chaosbench: steady-baseline\n", "a scenario's headings nest under the suite's")
	require.Contains(t, md, "| kill-node | stateless | **– not run** | – | – | – |")
	require.NotContains(t, compact, "### Faults", "compact leaves the scenarios' details out")
	require.Contains(t, compact, "| compare-architectures | stateful | **❌ FAIL** |")
	require.Less(t, len(compact), len(md)/3)

	require.Contains(t, html, `<a href="02-compare-architectures/report.html">compare-architectures</a>`)
	require.Contains(t, html, "Not run: the suite was interrupted before it")
	require.NotContains(t, html, "<script")
}

// TestSuiteVerdict: the worst entry decides; an entry not run is errored, never passed.
func TestSuiteVerdict(t *testing.T) {
	pass := fixtureSummary()
	pass.Architectures = pass.Architectures[:1]
	invalid := fixtureSummary()
	invalid.Architectures = invalid.Architectures[:1]
	invalid.Architectures[0].Valid = false
	fail := fixtureSummary()
	tests := []struct {
		entries []results.SuiteEntry
		want    results.Status
	}{
		{nil, results.StatusErrored},                                                         // an empty suite proves nothing
		{[]results.SuiteEntry{{Run: &pass}}, results.StatusPassed},                           // one passing entry
		{[]results.SuiteEntry{{Run: &pass}, {Run: &fail}}, results.StatusFailed},             // a failure anywhere fails the suite
		{[]results.SuiteEntry{{Run: &fail}, {Run: &invalid}}, results.StatusInvalid},         // invalid is worse than failed
		{[]results.SuiteEntry{{Run: &pass}, {NotRun: "interrupted"}}, results.StatusErrored}, // not run: errored, never a pass
		{[]results.SuiteEntry{{Run: &pass}, {}}, results.StatusErrored},                      // no summary at all: errored too
	}
	for i, tc := range tests {
		require.Equal(t, tc.want, results.SuiteVerdict(results.Suite{Entries: tc.entries}), "case %d", i)
	}
	head, _ := suiteVerdictLines(results.Suite{Entries: []results.SuiteEntry{{Scenario: "a", Architectures: []string{"x"}, Run: &pass}}})
	require.Equal(t, "PASSED: all 1 scenario × architecture runs valid and within every threshold", head)
}

// TestSuiteRuns: every entry is a run for JUnit and the like; one not run is errored, with why.
func TestSuiteRuns(t *testing.T) {
	runs := results.SuiteRuns(fixtureSuite())
	require.Len(t, runs, 3)
	require.Equal(t, "compare-architectures", runs[1].Scenario)
	nr := runs[2]
	require.Equal(t, "kill-node", nr.Scenario)
	require.Len(t, nr.Architectures, 1)
	require.Equal(t, "not run: the suite was interrupted before it", nr.Architectures[0].Error)
	require.Equal(t, results.StatusErrored, results.RunVerdict(nr))
}

// TestWriteReadSuite: suite.json and the combined reports round-trip through a folder; ReadSuite reads
// each entry's own summary.json.
func TestWriteReadSuite(t *testing.T) {
	dir := t.TempDir()
	s := fixtureSuite()
	for _, e := range s.Entries {
		if e.Run != nil {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, e.Dir), 0o755))
			require.NoError(t, e.Run.WriteFile(filepath.Join(dir, e.Dir, "summary.json")))
		}
	}
	paths, err := WriteSuite(dir, s)
	require.NoError(t, err)
	require.Len(t, paths, 4)
	for _, f := range []string{"suite.json", "report.txt", "report.md", "report.html"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	require.True(t, results.IsSuiteDir(dir))
	require.False(t, results.IsSuiteDir(filepath.Join(dir, s.Entries[0].Dir)))

	got, err := results.ReadSuite(dir)
	require.NoError(t, err)
	require.Equal(t, results.SuiteSchemaVersion, got.Schema)
	require.Equal(t, results.StatusErrored, got.Verdict)
	require.False(t, got.Passed)
	require.Len(t, got.Entries, 3)
	require.Equal(t, results.StatusPassed, got.Entries[0].Verdict)
	require.Equal(t, results.StatusFailed, got.Entries[1].Verdict)
	require.Equal(t, results.StatusErrored, got.Entries[2].Verdict)
	require.NotNil(t, got.Entries[1].Run)
	require.Equal(t, "compare-architectures", got.Entries[1].Run.Scenario)
	require.Nil(t, got.Entries[2].Run)

	// An entry's summary gone: an error that names it.
	require.NoError(t, os.Remove(filepath.Join(dir, s.Entries[1].Dir, "summary.json")))
	_, err = results.ReadSuite(dir)
	require.ErrorContains(t, err, "entries[1] (compare-architectures)")
}
