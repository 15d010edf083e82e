package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

// SuiteTextReporter is the suite's report.txt and what `chaosbench run` prints at the end of a suite: the
// scenario × architecture table with each verdict, the suite's verdict and why, then each scenario's own
// text report. Color as TextReporter's (the CLI sets it for a terminal only).
type SuiteTextReporter struct {
	Color bool
}

var _ SuiteReporter = SuiteTextReporter{}

func init() { RegisterSuiteReporter(RankText, SuiteTextReporter{}) }

func (SuiteTextReporter) Format() string { return "text" }
func (SuiteTextReporter) File() string   { return "report.txt" }

func (r SuiteTextReporter) Render(w io.Writer, s results.Suite) error {
	var b strings.Builder
	fmt.Fprintf(&b, "chaosbench suite: %s\n", suiteHeader(s))
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n", s.Description)
	}
	b.WriteString("\n")
	if err := r.writeDetail(&b, s); err != nil {
		return err
	}
	r.writeSummary(&b, s)
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderSummary writes the table and the verdict only: the end of a suite in the terminal, after each
// scenario's table was printed as it finished.
func (r SuiteTextReporter) RenderSummary(w io.Writer, s results.Suite) error {
	var b strings.Builder
	fmt.Fprintf(&b, "chaosbench suite: %s\n\n", suiteHeader(s))
	r.writeSummary(&b, s)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDetail is every scenario's own report, in the suite's order.
func (r SuiteTextReporter) writeDetail(b *strings.Builder, s results.Suite) error {
	for i, e := range s.Entries {
		fmt.Fprintf(b, "== %d/%d %s", i+1, len(s.Entries), e.Scenario)
		if e.Run == nil || e.NotRun != "" {
			why := e.NotRun
			if why == "" {
				why = "not run"
			}
			fmt.Fprintf(b, ": not run (%s)\n\n", why)
			continue
		}
		fmt.Fprintf(b, " (%s/)\n", e.Dir)
		if err := (TextReporter{Color: r.Color}).Render(b, *e.Run); err != nil {
			return fmt.Errorf("%s: %w", e.Scenario, err)
		}
		b.WriteString("\n")
	}
	return nil
}

// writeSummary is the scenario × architecture table and the verdict, last so that it ends a CI log.
func (r SuiteTextReporter) writeSummary(b *strings.Builder, s results.Suite) {
	rows := [][]string{{"scenario", "architecture", "verdict", "p99", "errors", "folder"}}
	for _, x := range suiteRows(s) {
		dir := x.Dir
		if dir == "" {
			dir = "–"
		}
		rows = append(rows, []string{x.Scenario, x.Arch, x.statusText("✓", "✗"), x.P99, x.Errors, dir})
	}
	results.WriteAligned(b, rows)
	b.WriteString("\n")
	v, failures := suiteVerdictLines(s)
	writeVerdict(b, r.Color, results.SuiteVerdict(s), v, failures)
}
