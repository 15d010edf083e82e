package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
)

// Reporter renders a Summary in one format. One file per format
// (report_text.go, report_md.go, report_html.go); docs/reports.md says how
// to add one.
type Reporter interface {
	// Format is the name --format takes: text, md, html, json.
	Format() string
	// File is the report's name inside a run folder.
	File() string
	// Render writes the report. It reads only s, so a report can be
	// re-rendered from summary.json long after the run.
	Render(w io.Writer, s results.Summary) error
}

// JSONReporter writes summary.json itself.
type JSONReporter struct{}

var _ Reporter = JSONReporter{}

func (JSONReporter) Format() string                              { return "json" }
func (JSONReporter) File() string                                { return runfolder.SummaryFile }
func (JSONReporter) Render(w io.Writer, s results.Summary) error { return s.Encode(w) }

// The ranks of the built-in run reports: the order a run writes them into its folder and --format lists
// them. A format of its own (another file, a test, another package) takes a rank between them.
const (
	// RankJSON is first: summary.json is what every other report renders from, and WriteReports stops at
	// the first report that fails, so a run folder whose other reports broke can still be re-rendered
	// (chaosbench report).
	RankJSON     = 100
	RankText     = 200
	RankMarkdown = 300
	RankHTML     = 400
	// RankJUnit is last, after every other report: report.junit.xml is what CI picks up (docs/ci.md), so
	// it appears only once the reports a person reads are in the folder beside it, and a JUnit render that
	// fails cannot keep them from being written.
	RankJUnit = 1000
)

var reporters = NewRegistry[Reporter]("report")

func init() { RegisterReporter(RankJSON, JSONReporter{}) }

// RegisterReporter adds a run report format at rank (RankJSON ... RankJUnit): every run writes it into its
// folder and `chaosbench report --format` renders it. A format name, file name or rank used twice is a
// programming error.
func RegisterReporter(rank int, r Reporter) {
	for _, have := range reporters.All() {
		if have.File() == r.File() {
			panic(fmt.Sprintf("render: report formats %q and %q both write %s", have.Format(), r.Format(), r.File()))
		}
	}
	reporters.Register(rank, r)
}

// Reporters lists every format, in the order a run writes them.
func Reporters() []Reporter { return reporters.All() }

// ReportFormats lists the --format values of a run's reports, in the same order.
func ReportFormats() []string { return reporters.Names() }

// ReporterFor returns the reporter for a --format value.
func ReporterFor(format string) (Reporter, error) { return reporters.Lookup(format) }

// WriteReports writes every report into a run folder and returns the paths
// written. The text report goes to a file too: a run's folder should say on
// its own what the terminal said.
func WriteReports(dir string, s results.Summary) ([]string, error) {
	var paths []string
	for _, r := range Reporters() {
		p := filepath.Join(dir, r.File())
		if err := WriteReport(p, r, s); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteReport renders one report into path (complete or not at all: a
// crashed render must not leave half a report.html that looks whole).
func WriteReport(path string, r Reporter, s results.Summary) error {
	var buf bytes.Buffer
	if err := r.Render(&buf, s); err != nil {
		return fmt.Errorf("%s: render %s report: %w", path, r.Format(), err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file renamed over it: a reader (a CI step, a person
// reloading the report) sees the old file or the new one, never half of one. The one atomic writer of the
// run and suite reports.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
