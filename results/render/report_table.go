package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chaosbench/chaosbench/results"
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

// baselineText is a fault's baseline window, saying so when it is not the
// stretch just before the fault (it overlapped an earlier one).
func baselineText(f results.Fault) string {
	t := windowText(f.Before)
	if f.BaselineOfFirst {
		t += fmt.Sprintf(" (first fault's baseline, %g–%g s)", f.Before.FromS, f.Before.ToS)
	}
	return t
}

// healthText is the injector's health brackets around a fault: were the
// nodes ready before it, and how soon after its revert were they again.
// HealthText is the injector's health brackets of a fault that ran and was reverted, in words (the
// report's health column; the live dashboard's fault list), and whether they are bad.
func HealthText(f results.Fault) (text string, bad bool) { return healthText(f) }

func healthText(f results.Fault) (text string, bad bool) {
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
func healthCell(f results.Fault) cell {
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

func recoveryCell(f results.Fault) cell {
	node := results.FaultTarget(f)
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
func union(s results.Summary, names func(results.Arch) []string) []string {
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
func thresholdExprs(s results.Summary) []string {
	return union(s, func(a results.Arch) (out []string) {
		for _, t := range a.Thresholds {
			out = append(out, t.Expr)
		}
		return out
	})
}

func findThreshold(a results.Arch, expr string) (results.Threshold, bool) {
	for _, t := range a.Thresholds {
		if t.Expr == expr {
			return t, true
		}
	}
	return results.Threshold{}, false
}

func maxFaults(s results.Summary) int {
	n := 0
	for _, a := range s.Architectures {
		n = max(n, len(a.Faults))
	}
	return n
}

// opNames lists every op any architecture ran, in first-seen order.
func opNames(s results.Summary) []string {
	return union(s, func(a results.Arch) (out []string) {
		for _, o := range a.Ops {
			out = append(out, o.Name)
		}
		return out
	})
}

// opsHaveBytes: the engine counted request bytes for some op of the run.
func opsHaveBytes(s results.Summary) bool {
	for _, a := range s.Architectures {
		for _, o := range a.Ops {
			if o.ReqBytesPerRequest > 0 {
				return true
			}
		}
	}
	return false
}

// hasHarness: the engine measured its send lag for some architecture of the run.
func hasHarness(s results.Summary) bool {
	for _, a := range s.Architectures {
		if a.Harness != nil {
			return true
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
func buildTable(s results.Summary, ok, fail string) []row {
	var rows []row
	add := func(label string, section bool, f func(a results.Arch) cell) {
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

	add("verdict", true, func(a results.Arch) cell {
		switch st, _ := results.ArchStatus(a); st {
		case results.StatusPassed:
			return cell{text: ok + " pass", good: true}
		case results.StatusFailed:
			return cell{text: fail + " FAIL", bad: true}
		default:
			return cell{text: fail + " " + strings.ToUpper(string(st)), bad: true}
		}
	})
	add("valid", false, func(a results.Arch) cell {
		if ok, why := results.Validity(a); !ok {
			return cell{text: "NO: " + why, bad: true}
		}
		return cell{text: "yes"}
	})
	add("requests planned", true, func(a results.Arch) cell { return num(a.Requests.Planned) })
	add("  sent", false, func(a results.Arch) cell { return num(a.Requests.Sent) })
	add("  ok", false, func(a results.Arch) cell { return num(a.Requests.OK) })
	add("  failed", false, func(a results.Arch) cell { return num(a.Requests.Failed) })
	add("  dropped", false, func(a results.Arch) cell { return zeroGood(a.Requests.Dropped) })
	add("  retries", false, func(a results.Arch) cell { return num(a.Requests.Retries) })
	add("  rate before faults", false, func(a results.Arch) cell {
		return cell{
			text: fmt.Sprintf("%.1f of %.0f/s", a.Requests.AchievedRate, a.Requests.PlannedRate),
			bad:  a.Requests.PlannedRate > 0 && a.Requests.AchievedRate < results.MinValidRate*a.Requests.PlannedRate,
		}
	})
	add("latency p50", true, func(a results.Arch) cell { return cell{text: results.FormatMS(a.Latency.P50)} })
	add("  p95", false, func(a results.Arch) cell { return cell{text: results.FormatMS(a.Latency.P95)} })
	add("  p99", false, func(a results.Arch) cell { return cell{text: results.FormatMS(a.Latency.P99)} })
	add("  max", false, func(a results.Arch) cell { return cell{text: results.FormatMS(a.Latency.Max)} })
	// The engine's own share of those latencies (summaries from before it measured it have none).
	if hasHarness(s) {
		// Planned → written, every request: how much of each latency passed before the request left.
		add("  engine lag p50·p99·max", false, func(a results.Arch) cell {
			if a.Harness == nil {
				return cell{text: "-"}
			}
			l := a.Harness.SendLag
			return cell{text: strings.TrimSuffix(results.FormatMS(l.P50), " ms") + " · " +
				strings.TrimSuffix(results.FormatMS(l.P99), " ms") + " · " + results.FormatMS(l.Max)}
		})
	}
	add("error rate", true, func(a results.Arch) cell { return cell{text: results.FormatPct(a.ErrorRate), bad: a.ErrorRate > 0.01} })
	add("availability", false, func(a results.Arch) cell {
		return cell{text: results.FormatPct(a.Availability), bad: a.Availability < 0.99}
	})
	// One row per op: how many, p99 and errors, so that a slow or failing op
	// is not averaged away by the others.
	if ops := opNames(s); len(ops) > 0 {
		// Request bytes when the engine counted them (summaries before it did keep their table).
		withBytes := opsHaveBytes(s)
		head := "requests · p99 · errors"
		if withBytes {
			head += " · bytes/request"
		}
		add("ops", true, func(results.Arch) cell { return cell{text: head} })
		for _, name := range ops {
			add("  "+name, false, func(a results.Arch) cell {
				for _, o := range a.Ops {
					if o.Name == name {
						text := fmt.Sprintf("%d · %s · %s", o.Requests, results.FormatMS(o.P99MS), results.FormatPct(o.ErrorRate))
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
	for _, c := range results.RecordedChecks(s) {
		if c.Row == "" {
			continue
		}
		if c.Group != group {
			group = c.Group
			add(c.Group+" "+c.Row, true, func(a results.Arch) cell { return checkCell(c, a) })
			continue
		}
		add("  "+c.Row, false, func(a results.Arch) cell { return checkCell(c, a) })
	}

	for i := range maxFaults(s) {
		label := ""
		for _, a := range s.Architectures {
			if i < len(a.Faults) {
				label = results.FaultLabel(a.Faults[i])
				break
			}
		}
		add("fault "+label, i == 0, func(a results.Arch) cell {
			if i >= len(a.Faults) {
				return cell{text: "-"}
			}
			return recoveryCell(a.Faults[i])
		})
		add("  health checks", false, func(a results.Arch) cell {
			if i >= len(a.Faults) {
				return cell{text: "-"}
			}
			return healthCell(a.Faults[i])
		})
	}
	for i, expr := range thresholdExprs(s) {
		add(expr, i == 0, func(a results.Arch) cell {
			t, ok2 := findThreshold(a, expr)
			if !ok2 {
				return cell{text: "-"}
			}
			switch {
			case !t.OK:
				return cell{text: fail + " " + results.ThresholdValue(t), bad: true}
			case a.Error != "":
				return cell{text: results.ThresholdValue(t) + " " + results.PartRan}
			}
			return cell{text: ok + " " + results.ThresholdValue(t), good: true}
		})
	}
	return rows
}

// headerLine says which run this is.
func headerLine(s results.Summary) string {
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

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// checkCell is the check's cell in the side-by-side table.
func checkCell(c results.Check, a results.Arch) cell {
	r, ok := c.Result(a)
	switch {
	case !ok:
		return cell{text: "-"}
	case r.NotChecked != "":
		return cell{text: "not checked"}
	}
	return cell{text: fmt.Sprintf("%d", r.Value), bad: c.Violation && r.Value > 0}
}
