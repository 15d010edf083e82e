package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

func init() { compareReporters.Register(200, compareMarkdown{}) }

// Render writes the comparison for a pull-request comment.
func (compareMarkdown) Render(w io.Writer, c results.Comparison, all bool) error {
	var b strings.Builder
	mark := "✅"
	if c.Regression {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s chaosbench compare\n\n**%s**\n\n", mark, results.EscapeMarkdown(c.VerdictLine()))
	fmt.Fprintf(&b, "- base: %s\n- new: %s\n", results.EscapeMarkdown(strings.Join(c.Base, ", ")), results.EscapeMarkdown(strings.Join(c.New, ", ")))
	for _, x := range c.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", results.EscapeMarkdown(x))
	}
	for _, a := range c.Architectures {
		fmt.Fprintf(&b, "\n### %s: %s\n\nValid runs: base %s, new %s.\n", results.EscapeMarkdown(a.Name), verdictMark(a.Verdict), a.BaseValid, a.NewValid)
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "\n> %s\n", results.EscapeMarkdown(n))
		}
		var shown []results.MetricChange
		for _, m := range a.Metrics {
			if all || changed(m) {
				shown = append(shown, m)
			}
		}
		if len(shown) == 0 {
			if len(a.Metrics) > 0 {
				b.WriteString("\nEvery compared metric unchanged.\n")
			}
			continue
		}
		b.WriteString("\n| metric | base | new | change | tolerance | verdict |\n|---|---:|---:|---:|---|---|\n")
		for _, m := range shown {
			v := verdictMark(m.Verdict)
			if m.Verdict == results.VerdictRegression {
				v = "**" + v + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", results.EscapeMarkdown(m.Metric), fmtStat(m, m.Base), fmtStat(m, m.New),
				fmtChange(m), m.Tolerance, v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
