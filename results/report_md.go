package results

import (
	"fmt"
	"io"
	"strings"
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

func (r MarkdownReporter) Render(w io.Writer, s Summary) error {
	var b strings.Builder
	mark := "✅"
	if RunVerdict(s) != StatusPassed {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s chaosbench: %s\n\n", mark, mdEscape(s.Scenario))
	fmt.Fprintf(&b, "%s\n\n", mdEscape(headerLine(s)))
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", mdEscape(s.Description))
	}
	v, failures := verdictLines(s)
	fmt.Fprintf(&b, "**%s**\n\n", mdEscape(v))
	for _, f := range failures {
		fmt.Fprintf(&b, "- %s\n", mdEscape(f))
	}
	if len(failures) > 0 {
		b.WriteString("\n")
	}

	names := archNames(s)
	b.WriteString("| |")
	for _, n := range names {
		fmt.Fprintf(&b, " %s |", mdEscape(n))
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, rw := range buildTable(s, "✅", "❌") {
		label := mdEscape(strings.TrimSpace(rw.label))
		if rw.section {
			label = "**" + label + "**"
		} else {
			label = "&nbsp;&nbsp;" + label
		}
		fmt.Fprintf(&b, "| %s |", label)
		for _, c := range rw.cells {
			t := mdEscape(c.text)
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
		b.WriteString("Latency and errors in the baseline before each fault, during it and after it. " + mdEscape(RecoveryRule) + "\n\n")
		b.WriteString("| architecture | fault | node | baseline p99 · errors | during p99 · errors | after p99 · errors | recovery | health checks |\n")
		b.WriteString("|---|---|---|---:|---:|---:|---:|---|\n")
		for _, a := range s.Architectures {
			for _, f := range a.Faults {
				rec := recoveryCell(f)
				before, during, after := mdEscape(baselineText(f)), windowText(f.During), windowText(f.After)
				if f.Error != "" {
					before, during, after = "**did not run as planned: "+mdEscape(f.Error)+"**", "–", "–"
				}
				health, _ := healthText(f)
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
					mdEscape(a.Name), mdEscape(faultLabel(f)), mdEscape(faultTarget(f)), before, during, after,
					mdEscape(strings.TrimPrefix(rec.text, faultTarget(f)+": ")), mdEscape(health))
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
				fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", mdEscape(a.Name), t.Expr, mdEscape(thresholdValue(t)), res)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compactNote ends a compact report: what it left out, and where it is.
const compactNote = "_Compact report: each fault's before, during and after windows and the threshold list are in the run folder's report.md and report.html._"

func windowText(w Window) string {
	if w.Requests == 0 {
		return "–"
	}
	return fmt.Sprintf("%s · %s", fmtMS(w.P99MS), fmtPct(w.ErrorRate))
}

// mdEscape keeps a value from breaking the table or turning into markup.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`").Replace(s)
}
