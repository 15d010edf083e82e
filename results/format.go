package results

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

// ThresholdMetric returns the metric a threshold reads: by its name, or
// from its expression in a summary written before thresholds carried it.
func ThresholdMetric(t Threshold) (Metric, bool) {
	if t.Metric != "" {
		m, err := LookupThresholdMetric(t.Metric)
		return m, err == nil
	}
	e, err := ParseThreshold(t.Expr)
	if err != nil {
		return Metric{}, false
	}
	return e.Metric, true
}

// ThresholdValue formats a threshold's measured value in its metric's unit.
func ThresholdValue(t Threshold) string {
	if t.Unmeasured {
		return "not measured"
	}
	if t.Detail != "" && t.Value < 0 {
		return "∞ (not recovered)"
	}
	m, ok := ThresholdMetric(t)
	if !ok {
		return fmt.Sprintf("%g", t.Value)
	}
	return FormatValue(m.Kind, t.Value)
}

// FormatValue writes a value of a kind the way every report does.
func FormatValue(k Kind, v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	if math.IsNaN(v) {
		return "n/a"
	}
	switch k {
	case KindMS:
		return FormatMS(v)
	case KindSeconds:
		return fmt.Sprintf("%.1f s", v)
	case KindRatio:
		return FormatPct(v)
	case KindRate:
		return fmt.Sprintf("%.1f/s", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// FormatMS keeps three significant digits where they mean something.
func FormatMS(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func FormatPct(ratio float64) string {
	p := ratio * 100
	switch {
	case p == 0 || p == 100:
		return fmt.Sprintf("%.0f%%", p)
	case p < 0.1 || p > 99.9:
		return fmt.Sprintf("%.3f%%", p)
	}
	return fmt.Sprintf("%.2f%%", p)
}

// The rules the reports explain, written from the constants that apply them
// (analyze.go), so that prose and code cannot drift apart.
var (
	RecoveryRule = fmt.Sprintf("Recovery is the time from a fault's end until p99 latency is back within %g× its baseline p99 "+
		"(plus %s) with an error rate at most the baseline's plus %g%%, for %d seconds in a row. A fault's baseline is "+
		"the stretch as long as the fault just before its injection began (requests answered by then) or, when that "+
		"stretch overlaps an earlier fault or its recovery, the baseline of the first fault: never a window that a fault "+
		"disturbed.",
		RecoveryFactor, RecoverySlack, RecoveryErrorSlack*100, RecoveryRun)
	ValidityRule = fmt.Sprintf("A run is valid when every planned fault was injected and reverted, the load generator sent "+
		"at least %.0f%% of the planned rate before the first fault, and it dropped (never sent) at most %g%% of the planned "+
		"requests, over the whole run and within each fault; otherwise the numbers prove nothing and the run is marked "+
		"invalid, never passed.", MinValidRate*100, MaxDroppedShare*100)
)

// EscapeMarkdown keeps a value from breaking the table or turning into markup.
func EscapeMarkdown(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`").Replace(s)
}

// WriteAligned lays rows out in columns two spaces apart (text/tabwriter
// counts runes, so ✓ and ∞ take one column).
func WriteAligned(b *strings.Builder, rows [][]string) {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
}
