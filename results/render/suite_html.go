package render

import (
	_ "embed"
	"html/template"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
)

// SuiteHTMLReporter is the suite's report.html: one self-contained page (no script, no network) with the
// suite's verdict, the scenario × architecture table, and per scenario a section with each
// architecture's verdict and latency chart, linking to the scenario's own report.html for the rest.
type SuiteHTMLReporter struct{}

var _ SuiteReporter = SuiteHTMLReporter{}

func init() { RegisterSuiteReporter(RankHTML, SuiteHTMLReporter{}) }

func (SuiteHTMLReporter) Format() string { return "html" }
func (SuiteHTMLReporter) File() string   { return runfolder.ReportHTMLFile }

//go:embed suite.html.tmpl
var suiteHTMLTemplate string

var suiteHTMLTmpl = template.Must(template.New("suite").Parse(suiteHTMLTemplate))

// reportCSS is the run report's style sheet (report.html.tmpl's, with the shared charts.css in its
// place), so that a suite's page looks like its scenarios' pages and the style is written once.
var reportCSS = func() template.CSS {
	_, after, _ := strings.Cut(htmlTemplate, "<style>")
	css, _, _ := strings.Cut(after, "</style>")
	return template.CSS(strings.Replace(css, "{{.Styles}}", chartsCSS, 1)) //nolint:gosec // our own embedded files
}()

type suiteHTMLRow struct {
	suiteRow
	Status string
	Passed bool
}

type suiteHTMLEntry struct {
	N                     int
	Scenario, Dir, Header string
	Description           string
	Status                results.Status
	Passed                bool
	NotRun                string
	Archs                 []htmlArch
}

type suiteHTMLPage struct {
	Title, Header, Description string
	CSS                        template.CSS
	Passed                     bool
	Verdict                    string
	Failures                   []string
	Rows                       []suiteHTMLRow
	Entries                    []suiteHTMLEntry
}

func (SuiteHTMLReporter) Render(w io.Writer, s results.Suite) error {
	p := suiteHTMLPage{Title: "chaosbench suite: " + s.Name, Header: suiteHeader(s), Description: s.Description,
		CSS: reportCSS, Passed: results.SuiteVerdict(s) == results.StatusPassed}
	p.Verdict, p.Failures = suiteVerdictLines(s)
	for _, r := range suiteRows(s) {
		p.Rows = append(p.Rows, suiteHTMLRow{suiteRow: r, Status: r.statusText("✓", "✗"), Passed: r.Status == results.StatusPassed})
	}
	for i, e := range s.Entries {
		st := results.EntryVerdict(e)
		he := suiteHTMLEntry{N: i + 1, Scenario: e.Scenario, Dir: e.Dir, Status: st, Passed: st == results.StatusPassed}
		if e.Run == nil || e.NotRun != "" {
			he.NotRun = e.NotRun
			if he.NotRun == "" {
				he.NotRun = "the suite did not reach it"
			}
			he.Status = "not run"
			p.Entries = append(p.Entries, he)
			continue
		}
		he.Header, he.Description = headerLine(*e.Run), e.Run.Description
		for _, a := range e.Run.Architectures {
			ast, why := results.ArchStatus(a)
			he.Archs = append(he.Archs, htmlArch{Name: a.Name, Status: ast, Passed: ast == results.StatusPassed, Why: why, Latency: latencyChart(a)})
		}
		p.Entries = append(p.Entries, he)
	}
	return suiteHTMLTmpl.Execute(w, p)
}
