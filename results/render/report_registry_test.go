package render_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/stretchr/testify/require"
)

// csvReporter is a report format declared from test code alone: one line per architecture.
type csvReporter struct{}

func (csvReporter) Format() string { return "test-csv" }
func (csvReporter) File() string   { return "report.test.csv" }
func (csvReporter) Render(w io.Writer, s results.Summary) error {
	fmt.Fprintln(w, "arch,verdict,p99_ms")
	for _, a := range s.Architectures {
		st, _ := results.ArchStatus(a)
		fmt.Fprintf(w, "%s,%s,%.2f\n", a.Name, st, a.Latency.P99)
	}
	return nil
}

// Between the built-in formats: html and junit.
func init() { render.RegisterReporter(render.RankHTML+1, csvReporter{}) }

// TestRegisteredReportFormat: a format registered from another package is written into every run folder
// beside the built-in ones and is what `chaosbench report --format` finds, with no edit to results.
func TestRegisteredReportFormat(t *testing.T) {
	s := results.Summary{Schema: results.SchemaVersion, Scenario: "x", Architectures: []results.Arch{
		{Name: "stateless", Valid: true, Latency: results.LatencyMS{P99: 12.5}},
	}}
	dir := t.TempDir()
	paths, err := render.WriteReports(dir, s)
	require.NoError(t, err)
	require.Contains(t, paths, filepath.Join(dir, "report.test.csv"))
	b, err := os.ReadFile(filepath.Join(dir, "report.test.csv"))
	require.NoError(t, err)
	require.Equal(t, "arch,verdict,p99_ms\nstateless,passed,12.50\n", string(b))

	r, err := render.ReporterFor("test-csv")
	require.NoError(t, err)
	require.Equal(t, "report.test.csv", r.File())
	require.Panics(t, func() { render.RegisterReporter(render.RankHTML+2, csvReporter{}) }, "a format registered twice")
}

// TestFormatOrder: the formats are listed by their explicit rank, summary.json first and JUnit last
// (RankJUnit), whatever the files that register them are called.
func TestFormatOrder(t *testing.T) {
	require.Equal(t, []string{"json", "text", "md", "html", "test-csv", "junit"}, render.ReportFormats())
	require.Equal(t, []string{"json", "text", "md", "html", "junit"}, render.SuiteReportFormats())
	require.Equal(t, []string{"text", "md", "json"}, render.CompareFormats())
	_, err := render.CompareReporterFor("html")
	require.EqualError(t, err, `unknown compare format "html" (want one of text, md, json)`)
	require.Panics(t, func() { render.RegisterSuiteReporter(render.RankJUnit, fakeSuite{}) }, "a rank used twice")
}

type fakeSuite struct{}

func (fakeSuite) Format() string                        { return "fake" }
func (fakeSuite) File() string                          { return "fake" }
func (fakeSuite) Render(io.Writer, results.Suite) error { return nil }
