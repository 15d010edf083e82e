package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

func render(t *testing.T, r Reporter, s results.Summary) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.Render(&b, s))
	return b.Bytes()
}

func TestReportTextGolden(t *testing.T) {
	out := render(t, TextReporter{}, fixtureSummary())
	golden(t, "report.txt", out)
	require.NotContains(t, string(out), "\x1b[", "no color unless asked")
	// The failures a reader must see close the report, one architecture a line.
	tail := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	tail = tail[len(tail)-3:]
	require.Equal(t, "FAILED: 2 of 3 architectures", tail[0])
	require.Contains(t, tail[1], "  stateful: ")
	require.Contains(t, tail[1], "sessions.lost == 0 (was 17)")
	require.Contains(t, tail[1], "recovery.seconds < 10 (was not recovered: packet-loss api-1 at 40s)")
	require.Equal(t, "  stateless-no-idempotency: writes.duplicates == 0 (was 12)", tail[2])
}

func TestReportTextAligned(t *testing.T) {
	out := string(render(t, TextReporter{}, fixtureSummary()))
	// Every table line puts the second column at the same rune offset.
	lines := strings.Split(out, "\n")
	header := lines[2]
	col := strings.Index(header, "stateless")
	require.Positive(t, col)
	for _, l := range lines[3:] {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "PASSED") || strings.HasPrefix(l, "FAILED") {
			break
		}
		r := []rune(l)
		require.Greater(t, len(r), col, l)
		require.Equal(t, ' ', r[col-1], "column misaligned: %q", l)
		require.NotEqual(t, ' ', r[col], "column misaligned: %q", l)
	}
}

func TestReportTextColor(t *testing.T) {
	out := string(render(t, TextReporter{Color: true}, fixtureSummary()))
	require.Contains(t, out, ansiRed+"✗ FAIL")
	require.Contains(t, out, ansiGreen+"✓ pass")
	require.Contains(t, out, ansiBold+ansiRed+"FAILED")
}

func TestReportMarkdownGolden(t *testing.T) {
	out := string(render(t, MarkdownReporter{}, fixtureSummary()))
	golden(t, "report.md", []byte(out))
	require.True(t, strings.HasPrefix(out, "## ❌ chaosbench: compare-architectures"))
	// A table row has one cell per architecture plus the label.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| **verdict**") {
			require.Equal(t, 1+3, strings.Count(l, " |"), l)
		}
	}
}

// A run where everything passed says so, and no threshold is marked failed.
func TestReportPassed(t *testing.T) {
	s := fixtureSummary()
	s.Architectures = s.Architectures[:1]
	require.Equal(t, results.StatusPassed, results.RunVerdict(s))
	txt := string(render(t, TextReporter{}, s))
	require.Contains(t, lastLine(txt), "PASSED: all 1 architectures")
	require.NotContains(t, txt, "✗")
	md := string(render(t, MarkdownReporter{}, s))
	require.True(t, strings.HasPrefix(md, "## ✅"))
}

// An invalid run never passes, even with every threshold met.
func TestReportInvalid(t *testing.T) {
	s := fixtureSummary()
	s.Architectures = s.Architectures[:1]
	s.Architectures[0].Valid = false
	s.Architectures[0].InvalidReasons = []string{"achieved 120/s of 200/s before the first fault"}
	require.NotEqual(t, results.StatusPassed, results.RunVerdict(s))
	txt := string(render(t, TextReporter{}, s))
	require.Contains(t, txt, "NO: achieved 120/s")
	require.Contains(t, lastLine(txt), "invalid run: achieved 120/s")
}

// A run that did not finish is shown as not valid, and a zero among its violations as a zero of the part
// that ran, never as a proof: before, an interrupted run's reports read "Run valid ✓ yes" and "✓ 0".
func TestReportErrored(t *testing.T) {
	s := fixtureSummary()
	s.Architectures = s.Architectures[:1]
	a := &s.Architectures[0]
	require.True(t, a.Valid, "the fixture's faults ran and its load was delivered")
	a.Error = "interrupted (signal interrupt)"
	require.Equal(t, results.StatusErrored, results.RunVerdict(s))
	txt := string(render(t, TextReporter{}, s))
	require.Contains(t, txt, "NO: did not run to the end: interrupted")
	html := string(render(t, HTMLReporter{}, s))
	require.Contains(t, html, "✗ did not run to the end: interrupted")
	require.Contains(t, html, "0 in the part that ran")
	require.Contains(t, html, "28.8 ms in the part that ran", "the fixture's p99 threshold keeps its value, without a tick")
	require.NotContains(t, html, "✓", "no tick anywhere: a part of a run proves nothing")
}

func TestWriteReports(t *testing.T) {
	dir := t.TempDir()
	paths, err := WriteReports(dir, fixtureSummary())
	require.NoError(t, err)
	require.Len(t, paths, len(Reporters()), "one file per registered format (the built-in ones, junit among them, and the test-csv of report_registry_test.go)")
	for _, p := range paths {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Positive(t, st.Size(), p)
	}
	_, err = results.ReadSummary(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "report.html.tmp"))
	require.True(t, os.IsNotExist(err), "no temp file left")

	_, err = ReporterFor("pdf")
	require.ErrorContains(t, err, `unknown report format "pdf" (want one of json, text, md, html`)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestReportHTMLGolden(t *testing.T) {
	out := string(render(t, HTMLReporter{}, fixtureSummary()))
	golden(t, "report.html", []byte(out))
	// Self-contained: nothing is fetched when it opens.
	for _, ext := range []string{"<script", "<link", "src=", "@import", "url("} {
		require.NotContains(t, out, ext)
	}
	// Fault bands are labelled; every architecture has its charts.
	require.Equal(t, 6, strings.Count(out, `<text class="bl"`)/2, "2 faults × 3 architectures × 2 charts")
	require.Equal(t, 7, strings.Count(out, "<svg"), "1 percentile chart + 2 per architecture")
	require.Contains(t, out, "✗ not recovered: packet-loss api-1 at 40s")
}

// Names come from scenario files: they must not inject markup.
func TestReportHTMLEscapes(t *testing.T) {
	s := fixtureSummary()
	s.Architectures[0].Name = `<img onerror=x>`
	s.Architectures[0].Faults[0].Kind = `<b>kill</b>`
	out := string(render(t, HTMLReporter{}, s))
	require.NotContains(t, out, "<img")
	require.NotContains(t, out, "<b>kill")
}

// An architecture that sent nothing still renders (empty charts, no NaN).
func TestReportHTMLEmpty(t *testing.T) {
	s := results.Summary{Schema: results.SchemaVersion, Scenario: "empty", Architectures: []results.Arch{{Name: "a"}}}
	out := string(render(t, HTMLReporter{}, s))
	require.NotContains(t, out, "NaN")
	require.NotContains(t, out, "Inf")
}
