package results

import (
	"fmt"
	"sort"
	"strings"
)

// The side-by-side table that the text and Markdown reports share, and the helpers that fill it.

// cell is one value in the shared table; bad marks what a reader must see.
type cell struct {
	text string
	bad  bool
	good bool
}

type row struct {
	label string
	cells []cell
	// section rows start a group (a blank line in text, bold in Markdown).
	section bool
}

// faultLabel names the i-th fault of the scenario, as the first architecture
// that ran it saw it (every architecture runs the same timeline).
func faultLabel(f Fault) string {
	return fmt.Sprintf("%s %s %g-%gs", f.Kind, f.Target, f.StartS, f.EndS)
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

// baselineText is a fault's baseline window, saying so when it is not the
// stretch just before the fault (it overlapped an earlier one).
func baselineText(f Fault) string {
	t := windowText(f.Before)
	if f.BaselineOfFirst {
		t += fmt.Sprintf(" (first fault's baseline, %g–%g s)", f.Before.FromS, f.Before.ToS)
	}
	return t
}

// healthText is the injector's health brackets around a fault: were the
// nodes ready before it, and how soon after its revert were they again.
func healthText(f Fault) (text string, bad bool) {
	if f.Error != "" {
		return "–", false
	}
	before := "ready before"
	if f.HealthBefore != "" {
		before, bad = "NOT ready before ("+f.HealthBefore+")", true
	}
	if f.ReadyAfterS == nil {
		return before + "; not ready again after the revert", true
	}
	return fmt.Sprintf("%s; ready %.1f s after the revert", before, *f.ReadyAfterS), bad
}

// healthCell is healthText, short enough for a column of the shared table.
func healthCell(f Fault) cell {
	switch {
	case f.Error != "":
		return cell{text: "–"}
	case f.HealthBefore != "":
		return cell{text: "NOT ready before", bad: true}
	case f.ReadyAfterS == nil:
		return cell{text: "not ready after", bad: true}
	}
	return cell{text: fmt.Sprintf("ready, again %.1f s after", *f.ReadyAfterS)}
}

func recoveryCell(f Fault) cell {
	node := faultTarget(f)
	switch {
	case f.Error != "":
		return cell{text: node + ": did not run as planned", bad: true}
	case f.RecoveryS == nil:
		return cell{text: node + ": not recovered", bad: true}
	}
	return cell{text: fmt.Sprintf("%s: %.1f s", node, *f.RecoveryS)}
}

// union lists what names returns for every architecture of s, each once, in
// order of first appearance.
func union(s Summary, names func(Arch) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range s.Architectures {
		for _, n := range names(a) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// thresholdExprs is the union of every architecture's thresholds
// (architectures may carry their own).
func thresholdExprs(s Summary) []string {
	return union(s, func(a Arch) (out []string) {
		for _, t := range a.Thresholds {
			out = append(out, t.Expr)
		}
		return out
	})
}

func findThreshold(a Arch, expr string) (Threshold, bool) {
	for _, t := range a.Thresholds {
		if t.Expr == expr {
			return t, true
		}
	}
	return Threshold{}, false
}

func maxFaults(s Summary) int {
	n := 0
	for _, a := range s.Architectures {
		n = max(n, len(a.Faults))
	}
	return n
}

// opNames lists every op any architecture ran, in first-seen order.
func opNames(s Summary) []string {
	return union(s, func(a Arch) (out []string) {
		for _, o := range a.Ops {
			out = append(out, o.Name)
		}
		return out
	})
}

// opsHaveBytes: the engine counted request bytes for some op of the run.
func opsHaveBytes(s Summary) bool {
	for _, a := range s.Architectures {
		for _, o := range a.Ops {
			if o.ReqBytesPerRequest > 0 {
				return true
			}
		}
	}
	return false
}

// fmtBytes is a byte count in B, KiB or MiB with three significant digits.
func fmtBytes(v float64) string {
	switch {
	case v < 1024:
		return fmt.Sprintf("%.0f B", v)
	case v < 1<<20:
		return fmtSig(v/1024) + " KiB"
	}
	return fmtSig(v/(1<<20)) + " MiB"
}

// fmtSig keeps three significant digits of v >= 1.
func fmtSig(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// buildTable is the architectures-side-by-side table that the text and
// Markdown reports share, so they cannot disagree.
func buildTable(s Summary, ok, fail string) []row {
	var rows []row
	add := func(label string, section bool, f func(a Arch) cell) {
		r := row{label: label, section: section}
		for _, a := range s.Architectures {
			r.cells = append(r.cells, f(a))
		}
		rows = append(rows, r)
	}
	num := func(v int64) cell { return cell{text: fmt.Sprintf("%d", v)} }
	zeroGood := func(v int64) cell {
		return cell{text: fmt.Sprintf("%d", v), bad: v > 0}
	}

	add("verdict", true, func(a Arch) cell {
		switch st, _ := ArchStatus(a); st {
		case StatusPassed:
			return cell{text: ok + " pass", good: true}
		case StatusFailed:
			return cell{text: fail + " FAIL", bad: true}
		default:
			return cell{text: fail + " " + strings.ToUpper(string(st)), bad: true}
		}
	})
	add("valid", false, func(a Arch) cell {
		if a.Valid {
			return cell{text: "yes"}
		}
		return cell{text: "NO: " + strings.Join(a.InvalidReasons, "; "), bad: true}
	})
	add("requests planned", true, func(a Arch) cell { return num(a.Requests.Planned) })
	add("  sent", false, func(a Arch) cell { return num(a.Requests.Sent) })
	add("  ok", false, func(a Arch) cell { return num(a.Requests.OK) })
	add("  failed", false, func(a Arch) cell { return num(a.Requests.Failed) })
	add("  dropped", false, func(a Arch) cell { return zeroGood(a.Requests.Dropped) })
	add("  retries", false, func(a Arch) cell { return num(a.Requests.Retries) })
	add("  rate before faults", false, func(a Arch) cell {
		return cell{
			text: fmt.Sprintf("%.1f of %.0f/s", a.Requests.AchievedRate, a.Requests.PlannedRate),
			bad:  a.Requests.PlannedRate > 0 && a.Requests.AchievedRate < MinValidRate*a.Requests.PlannedRate,
		}
	})
	add("latency p50", true, func(a Arch) cell { return cell{text: fmtMS(a.Latency.P50)} })
	add("  p95", false, func(a Arch) cell { return cell{text: fmtMS(a.Latency.P95)} })
	add("  p99", false, func(a Arch) cell { return cell{text: fmtMS(a.Latency.P99)} })
	add("  max", false, func(a Arch) cell { return cell{text: fmtMS(a.Latency.Max)} })
	add("error rate", true, func(a Arch) cell { return cell{text: fmtPct(a.ErrorRate), bad: a.ErrorRate > 0.01} })
	add("availability", false, func(a Arch) cell { return cell{text: fmtPct(a.Availability), bad: a.Availability < 0.99} })
	// One row per op: how many, p99 and errors, so that a slow or failing op
	// is not averaged away by the others.
	if ops := opNames(s); len(ops) > 0 {
		// Request bytes when the engine counted them (summaries before it did keep their table).
		withBytes := opsHaveBytes(s)
		head := "requests · p99 · errors"
		if withBytes {
			head += " · bytes/request"
		}
		add("ops", true, func(Arch) cell { return cell{text: head} })
		for _, name := range ops {
			add("  "+name, false, func(a Arch) cell {
				for _, o := range a.Ops {
					if o.Name == name {
						text := fmt.Sprintf("%d · %s · %s", o.Requests, fmtMS(o.P99MS), fmtPct(o.ErrorRate))
						if withBytes {
							text += " · " + fmtBytes(o.ReqBytesPerRequest)
						}
						return cell{text: text, bad: o.ErrorRate > 0.01}
					}
				}
				return cell{text: "-"}
			})
		}
	}
	// The checks, from the registry: a group's first row opens a section.
	group := ""
	for _, c := range recordedChecks(s) {
		if c.Row == "" {
			continue
		}
		if c.Group != group {
			group = c.Group
			add(c.Group+" "+c.Row, true, c.cell)
			continue
		}
		add("  "+c.Row, false, c.cell)
	}

	for i := range maxFaults(s) {
		label := ""
		for _, a := range s.Architectures {
			if i < len(a.Faults) {
				label = faultLabel(a.Faults[i])
				break
			}
		}
		add("fault "+label, i == 0, func(a Arch) cell {
			if i >= len(a.Faults) {
				return cell{text: "-"}
			}
			return recoveryCell(a.Faults[i])
		})
		add("  health checks", false, func(a Arch) cell {
			if i >= len(a.Faults) {
				return cell{text: "-"}
			}
			return healthCell(a.Faults[i])
		})
	}
	for i, expr := range thresholdExprs(s) {
		add(expr, i == 0, func(a Arch) cell {
			t, ok2 := findThreshold(a, expr)
			if !ok2 {
				return cell{text: "-"}
			}
			if t.OK {
				return cell{text: ok + " " + thresholdValue(t), good: true}
			}
			return cell{text: fail + " " + thresholdValue(t), bad: true}
		})
	}
	return rows
}

// headerLine says which run this is.
func headerLine(s Summary) string {
	parts := []string{s.Scenario, fmt.Sprintf("seed %d", s.Seed)}
	if s.Scale != 0 && s.Scale != 1 {
		parts = append(parts, fmt.Sprintf("scale %g", s.Scale))
	}
	parts = append(parts, fmt.Sprintf("%.0f s", s.DurationS))
	if !s.StartedAt.IsZero() {
		parts = append(parts, "started "+s.StartedAt.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return strings.Join(parts, " · ")
}

func archNames(s Summary) []string {
	var n []string
	for _, a := range s.Architectures {
		n = append(n, a.Name)
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
