package render

import (
	"fmt"
	"io"
	"math"

	"github.com/chaosbench/chaosbench/results"
)

// Rendering a Comparison: text for terminals and CI logs, Markdown for pull requests, JSON for tools.

// CompareReporter renders a Comparison in one format, as a Reporter renders
// a run: one per --format value of `chaosbench compare`.
type CompareReporter interface {
	Format() string
	// Render writes c; unchanged metrics are left out unless all is set
	// (JSON always has every metric).
	Render(w io.Writer, c results.Comparison, all bool) error
}

type (
	compareText     struct{}
	compareMarkdown struct{}
	compareJSON     struct{}
)

var (
	_ CompareReporter = compareText{}
	_ CompareReporter = compareMarkdown{}
	_ CompareReporter = compareJSON{}
)

func (compareText) Format() string     { return "text" }
func (compareMarkdown) Format() string { return "md" }
func (compareJSON) Format() string     { return "json" }

func (compareJSON) Render(w io.Writer, c results.Comparison, _ bool) error { return c.WriteJSON(w) }

var compareReporters = NewRegistry[CompareReporter]("compare")

// JSON, for tools: the comparison's own encoding. Text (compare_text.go) and Markdown (compare_md.go)
// register themselves beside it; ranks order --format's list.
func init() { compareReporters.Register(300, compareJSON{}) }

// CompareReporters lists every compare format.
func CompareReporters() []CompareReporter { return compareReporters.All() }

// CompareFormats lists the --format values of `chaosbench compare`.
func CompareFormats() []string { return compareReporters.Names() }

// CompareReporterFor returns the compare reporter for a --format value.
func CompareReporterFor(format string) (CompareReporter, error) {
	return compareReporters.Lookup(format)
}

// changed reports whether a metric row is worth showing in the compact
// outputs: a verdict other than ok, or any change at all.
func changed(m results.MetricChange) bool { return m.Verdict != results.VerdictOK || m.Change != 0 }

func fmtStat(m results.MetricChange, s results.Stat) string {
	if len(s.Values) <= 1 || s.Min == s.Max {
		return results.FormatValue(m.Kind(), s.Median)
	}
	if m.Compared == "worst" {
		return fmt.Sprintf("worst %s (%s..%s)", results.FormatValue(m.Kind(), s.Max), results.FormatValue(m.Kind(), s.Min), results.FormatValue(m.Kind(), s.Max))
	}
	return fmt.Sprintf("%s (%s..%s)", results.FormatValue(m.Kind(), s.Median), results.FormatValue(m.Kind(), s.Min), results.FormatValue(m.Kind(), s.Max))
}

func fmtChange(m results.MetricChange) string {
	if m.Change == 0 {
		return "="
	}
	var abs string
	switch {
	case math.IsInf(m.Change, 0) || math.IsNaN(m.Change):
		abs = results.FormatValue(m.Kind(), m.Change)
	case m.Kind() == results.KindRatio:
		abs = fmt.Sprintf("%+.2fpp", m.Change*100)
	default:
		abs = results.FormatValue(m.Kind(), math.Abs(m.Change))
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
	case results.VerdictRegression:
		return "✗ regression"
	case results.VerdictImproved:
		return "✓ improved"
	case results.VerdictMissing:
		return "? missing"
	}
	return "ok"
}
