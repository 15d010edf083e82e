package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

func init() { compareReporters.Register(100, compareText{}) }

// Render writes the comparison as aligned text for a terminal or a CI
// log. Unchanged metrics are left out unless all is set.
func (compareText) Render(w io.Writer, c results.Comparison, all bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "base: %s\nnew:  %s\n", strings.Join(c.Base, ", "), strings.Join(c.New, ", "))
	for _, x := range c.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", x)
	}
	for _, a := range c.Architectures {
		fmt.Fprintf(&b, "\n%s: %s (valid runs: base %s, new %s)\n", a.Name, verdictMark(a.Verdict), a.BaseValid, a.NewValid)
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		rows := [][]string{{"  metric", "base", "new", "change", "tolerance", "verdict"}}
		for _, m := range a.Metrics {
			if !all && !changed(m) {
				continue
			}
			rows = append(rows, []string{"  " + m.Metric, fmtStat(m, m.Base), fmtStat(m, m.New), fmtChange(m), m.Tolerance, verdictMark(m.Verdict)})
		}
		if len(rows) > 1 {
			results.WriteAligned(&b, rows)
		} else if len(a.Metrics) > 0 {
			b.WriteString("  every compared metric unchanged\n")
		}
	}
	b.WriteString("\n" + c.VerdictLine() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
