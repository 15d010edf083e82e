package results

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Rendering a Comparison: text for terminals and CI logs, Markdown for pull requests, JSON for tools.

// MarshalJSON writes infinite values as "+Inf"/"-Inf" (JSON has no
// infinity): a fault that never recovered is a real result, not an error.
func (m MetricChange) MarshalJSON() ([]byte, error) {
	type plain MetricChange
	type out struct {
		plain
		Base      jsonStat `json:"base"`
		New       jsonStat `json:"new"`
		Change    jsonNum  `json:"change"`
		ChangePct jsonNum  `json:"change_pct"`
	}
	return json.Marshal(out{plain: plain(m), Base: jstat(m.Base), New: jstat(m.New), Change: jsonNum(m.Change), ChangePct: jsonNum(m.ChangePct)})
}

type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(f):
		return []byte(`null`), nil
	}
	return json.Marshal(f)
}

type jsonStat struct {
	Median jsonNum   `json:"median"`
	Min    jsonNum   `json:"min"`
	Max    jsonNum   `json:"max"`
	Values []jsonNum `json:"values"`
}

func jstat(s Stat) jsonStat {
	j := jsonStat{Median: jsonNum(s.Median), Min: jsonNum(s.Min), Max: jsonNum(s.Max)}
	for _, v := range s.Values {
		j.Values = append(j.Values, jsonNum(v))
	}
	return j
}

// WriteJSON writes c as indented JSON.
func (c Comparison) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// changed reports whether a metric row is worth showing in the compact
// outputs: a verdict other than ok, or any change at all.
func (m MetricChange) changed() bool { return m.Verdict != VerdictOK || m.Change != 0 }

func (m MetricChange) fmtStat(s Stat) string {
	if len(s.Values) <= 1 || s.Min == s.Max {
		return FormatValue(m.kind, s.Median)
	}
	if m.Compared == "worst" {
		return fmt.Sprintf("worst %s (%s..%s)", FormatValue(m.kind, s.Max), FormatValue(m.kind, s.Min), FormatValue(m.kind, s.Max))
	}
	return fmt.Sprintf("%s (%s..%s)", FormatValue(m.kind, s.Median), FormatValue(m.kind, s.Min), FormatValue(m.kind, s.Max))
}

func (m MetricChange) fmtChange() string {
	if m.Change == 0 {
		return "="
	}
	var abs string
	switch {
	case math.IsInf(m.Change, 0) || math.IsNaN(m.Change):
		abs = FormatValue(m.kind, m.Change)
	case m.kind == KindRatio:
		abs = fmt.Sprintf("%+.2fpp", m.Change*100)
	default:
		abs = FormatValue(m.kind, math.Abs(m.Change))
		if m.Change > 0 {
			abs = "+" + abs
		} else {
			abs = "-" + abs
		}
	}
	if math.IsInf(m.ChangePct, 0) || math.IsNaN(m.ChangePct) || math.IsInf(m.Change, 0) {
		return abs
	}
	return fmt.Sprintf("%s (%+.1f%%)", abs, m.ChangePct)
}

func verdictMark(v string) string {
	switch v {
	case VerdictRegression:
		return "✗ regression"
	case VerdictImproved:
		return "✓ improved"
	case VerdictMissing:
		return "? missing"
	}
	return "ok"
}

// WriteText writes the comparison as aligned text for a terminal or a CI
// log. Unchanged metrics are left out unless all is set.
func (c Comparison) WriteText(w io.Writer, all bool) error {
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
			if !all && !m.changed() {
				continue
			}
			rows = append(rows, []string{"  " + m.Metric, m.fmtStat(m.Base), m.fmtStat(m.New), m.fmtChange(), m.Tolerance, verdictMark(m.Verdict)})
		}
		if len(rows) > 1 {
			WriteAligned(&b, rows)
		} else if len(a.Metrics) > 0 {
			b.WriteString("  every compared metric unchanged\n")
		}
	}
	b.WriteString("\n" + c.verdictLine() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison for a pull-request comment.
func (c Comparison) WriteMarkdown(w io.Writer, all bool) error {
	var b strings.Builder
	mark := "✅"
	if c.Regression {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s chaosbench compare\n\n**%s**\n\n", mark, EscapeMarkdown(c.verdictLine()))
	fmt.Fprintf(&b, "- base: %s\n- new: %s\n", EscapeMarkdown(strings.Join(c.Base, ", ")), EscapeMarkdown(strings.Join(c.New, ", ")))
	for _, x := range c.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", EscapeMarkdown(x))
	}
	for _, a := range c.Architectures {
		fmt.Fprintf(&b, "\n### %s: %s\n\nValid runs: base %s, new %s.\n", EscapeMarkdown(a.Name), verdictMark(a.Verdict), a.BaseValid, a.NewValid)
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "\n> %s\n", EscapeMarkdown(n))
		}
		var shown []MetricChange
		for _, m := range a.Metrics {
			if all || m.changed() {
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
			if m.Verdict == VerdictRegression {
				v = "**" + v + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", EscapeMarkdown(m.Metric), m.fmtStat(m.Base), m.fmtStat(m.New),
				m.fmtChange(), m.Tolerance, v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (c Comparison) verdictLine() string {
	var reg, imp []string
	for _, a := range c.Architectures {
		switch {
		case a.Verdict == VerdictRegression:
			var what []string
			for _, m := range a.Metrics {
				if m.Verdict == VerdictRegression {
					what = append(what, m.Metric)
				}
			}
			for _, n := range a.Notes {
				if strings.HasPrefix(n, "valid → invalid") || n == notInNew {
					what = append([]string{n}, what...)
				}
			}
			reg = append(reg, a.Name+" ("+strings.Join(what, ", ")+")")
		case a.Verdict == VerdictImproved:
			imp = append(imp, a.Name)
		}
	}
	if len(reg) > 0 {
		return "REGRESSION: " + strings.Join(reg, "; ")
	}
	if len(imp) > 0 {
		return "no regression; improved: " + strings.Join(imp, ", ")
	}
	return "no regression"
}
