package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

// MarkdownReporter writes report.md for pull-request comments: the verdict
// as the title, the side-by-side table, then each fault's before / during /
// after windows and each threshold.
type MarkdownReporter struct {
	// Compact leaves out the detail tables (each fault's windows, the list of thresholds) and keeps the
	// verdict and the side-by-side table, which holds every threshold's result too: for places with a size
	// limit, such as GitHub's step summary (stepsummary.go).
	Compact bool
}

var _ Reporter = MarkdownReporter{}

func init() { RegisterReporter(RankMarkdown, MarkdownReporter{}) }

func (MarkdownReporter) Format() string { return "md" }
func (MarkdownReporter) File() string   { return "report.md" }

func (r MarkdownReporter) Render(w io.Writer, s results.Summary) error {
	var b strings.Builder
	mark := "✅"
	if results.RunVerdict(s) != results.StatusPassed {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s chaosbench: %s\n\n", mark, results.EscapeMarkdown(s.Scenario))
	fmt.Fprintf(&b, "%s\n\n", results.EscapeMarkdown(headerLine(s)))
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", results.EscapeMarkdown(s.Description))
	}
	v, failures := results.VerdictLines(s)
	fmt.Fprintf(&b, "**%s**\n\n", results.EscapeMarkdown(v))
	for _, f := range failures {
		fmt.Fprintf(&b, "- %s\n", results.EscapeMarkdown(f))
	}
	if len(failures) > 0 {
		b.WriteString("\n")
	}

	names := s.ArchNames()
	b.WriteString("| |")
	for _, n := range names {
		fmt.Fprintf(&b, " %s |", results.EscapeMarkdown(n))
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, rw := range buildTable(s, "✅", "❌") {
		label := results.EscapeMarkdown(strings.TrimSpace(rw.label))
		if rw.section {
			label = "**" + label + "**"
		} else {
			label = "&nbsp;&nbsp;" + label
		}
		fmt.Fprintf(&b, "| %s |", label)
		for _, c := range rw.cells {
			t := results.EscapeMarkdown(c.text)
			if c.bad {
				t = "**" + t + "**"
			}
			fmt.Fprintf(&b, " %s |", t)
		}
		b.WriteString("\n")
	}

	if r.Compact {
		b.WriteString("\n" + compactNote + "\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	if maxFaults(s) > 0 {
		b.WriteString("\n### Faults\n\n")
		b.WriteString("Latency and errors in the baseline before each fault, during it and after it. " + results.EscapeMarkdown(results.RecoveryRule) + "\n\n")
		b.WriteString("| architecture | fault | node | baseline p99 · errors | during p99 · errors | after p99 · errors | recovery | health checks |\n")
		b.WriteString("|---|---|---|---:|---:|---:|---:|---|\n")
		for _, a := range s.Architectures {
			for _, f := range a.Faults {
				rec := recoveryCell(f)
				before, during, after := results.EscapeMarkdown(baselineText(f)), windowText(f.During), windowText(f.After)
				if f.Error != "" {
					before, during, after = "**did not run as planned: "+results.EscapeMarkdown(f.Error)+"**", "–", "–"
				}
				health, _ := healthText(f)
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
					results.EscapeMarkdown(a.Name), results.EscapeMarkdown(results.FaultLabel(f)), results.EscapeMarkdown(results.FaultTarget(f)), before, during, after,
					results.EscapeMarkdown(strings.TrimPrefix(rec.text, results.FaultTarget(f)+": ")), results.EscapeMarkdown(health))
			}
		}
	}

	if exprs := thresholdExprs(s); len(exprs) > 0 {
		b.WriteString("\n### Thresholds\n\n| architecture | threshold | value | result |\n|---|---|---:|:---:|\n")
		for _, a := range s.Architectures {
			for _, t := range a.Thresholds {
				res := "✅"
				if !t.OK {
					res = "❌"
				}
				fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", results.EscapeMarkdown(a.Name), t.Expr, results.EscapeMarkdown(results.ThresholdValue(t)), res)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compactNote ends a compact report: what it left out, and where it is.
const compactNote = "_Compact report: each fault's before, during and after windows and the threshold list are in the run folder's report.md and report.html._"

func windowText(w results.Window) string {
	if w.Requests == 0 {
		return "–"
	}
	return fmt.Sprintf("%s · %s", results.FormatMS(w.P99MS), results.FormatPct(w.ErrorRate))
}
