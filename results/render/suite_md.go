package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

// SuiteMarkdownReporter is the suite's report.md, for a pull request or a CI step summary: the verdict,
// the scenario × architecture table, then each scenario's own Markdown report as a section (its headings
// one level down). Compact leaves those sections out (the table and the failures stay), for places with
// a size limit such as GitHub's 1 MiB step summary; each scenario's report.md has the rest.
type SuiteMarkdownReporter struct {
	Compact bool
}

var _ SuiteReporter = SuiteMarkdownReporter{}

func init() { RegisterSuiteReporter(RankMarkdown, SuiteMarkdownReporter{}) }

func (SuiteMarkdownReporter) Format() string { return "md" }
func (SuiteMarkdownReporter) File() string   { return "report.md" }

func (r SuiteMarkdownReporter) Render(w io.Writer, s results.Suite) error {
	var b strings.Builder
	mark := "✅"
	if results.SuiteVerdict(s) != results.StatusPassed {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s chaosbench suite: %s\n\n%s\n\n", mark, results.EscapeMarkdown(s.Name), results.EscapeMarkdown(suiteHeader(s)))
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", results.EscapeMarkdown(s.Description))
	}
	v, failures := suiteVerdictLines(s)
	fmt.Fprintf(&b, "**%s**\n\n", results.EscapeMarkdown(v))
	for _, f := range failures {
		fmt.Fprintf(&b, "- %s\n", results.EscapeMarkdown(f))
	}
	if len(failures) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| scenario | architecture | verdict | p99 | errors | report |\n|---|---|---|---:|---:|---|\n")
	for _, x := range suiteRows(s) {
		verdict := x.statusText("✅", "❌")
		if x.Status != results.StatusPassed {
			verdict = "**" + verdict + "**"
		}
		report := "–"
		if x.Dir != "" {
			report = x.Dir + "/report.md"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", results.EscapeMarkdown(x.Scenario), results.EscapeMarkdown(x.Arch), verdict, x.P99, x.Errors, results.EscapeMarkdown(report))
	}
	if !r.Compact {
		for i, e := range s.Entries {
			fmt.Fprintf(&b, "\n---\n\n")
			if e.Run == nil || e.NotRun != "" {
				why := e.NotRun
				if why == "" {
					why = "not run"
				}
				fmt.Fprintf(&b, "### %d. %s: not run\n\n%s\n", i+1, results.EscapeMarkdown(e.Scenario), results.EscapeMarkdown(why))
				continue
			}
			var one strings.Builder
			if err := (MarkdownReporter{}).Render(&one, *e.Run); err != nil {
				return fmt.Errorf("%s: %w", e.Scenario, err)
			}
			b.WriteString(demoteHeadings(one.String()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// demoteHeadings moves every Markdown heading one level down, so that a scenario's report nests under
// the suite's title.
func demoteHeadings(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	return strings.Join(lines, "\n")
}
