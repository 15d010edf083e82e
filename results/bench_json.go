package results

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// BenchEntry is one headline number in github-action-benchmark's customSmallerIsBetter format: the tool
// keeps each name's history and alerts when a value grows. Every entry chaosbench writes is one where
// smaller is better.
type BenchEntry struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	// Extra is shown beside the value: the run's seed and size on an architecture's first entry, and the
	// headline numbers it could not measure (left out, never written as 0).
	Extra string `json:"extra,omitempty"`
}

// Bench is the headline numbers of runs, per scenario and architecture, named "<scenario>/<arch> <metric>":
// latency.p50 and latency.p99 (ms), errors.rate (%), recovery.seconds of each fault (s, named after the
// fault as the scenario places it) and the count of each violation check (lost writes, duplicates, ...).
//
// Only measured values are written. An architecture that errored or was invalid has none (its numbers prove
// nothing, and a benchmark history would take them for a change); a fault that never recovered or did not
// run, and a check the ground truth could not answer, are left out and named in the Extra of the
// architecture's first entry.
func Bench(runs []Summary) []BenchEntry {
	out := []BenchEntry{}
	seen := map[string]int{}
	for _, s := range runs {
		checks := ViolationChecks(s)
		for _, a := range s.Architectures {
			if st, _ := ArchStatus(a); st == StatusErrored || st == StatusInvalid || a.Requests.Sent == 0 {
				continue
			}
			entries, missing := benchArch(a, checks)
			if len(entries) == 0 {
				continue
			}
			for i := range entries {
				name := s.Scenario + "/" + a.Name + " " + entries[i].Name
				// Names are the history's keys: two identical faults of one scenario must not share one.
				if seen[name]++; seen[name] > 1 {
					name += fmt.Sprintf(" #%d", seen[name])
				}
				entries[i].Name = name
			}
			extra := fmt.Sprintf("seed %d, scale %g, %d requests sent", s.Seed, s.Scale, a.Requests.Sent)
			if len(missing) > 0 {
				extra += "; not measured: " + strings.Join(missing, "; ")
			}
			entries[0].Extra = extra
			out = append(out, entries...)
		}
	}
	return out
}

// benchArch is a's entries (metric names only) and what it could not measure.
func benchArch(a Arch, checks []Check) (entries []BenchEntry, missing []string) {
	add := func(name, unit string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			missing = append(missing, name)
			return
		}
		entries = append(entries, BenchEntry{Name: name, Unit: unit, Value: v})
	}
	add("latency.p50", "ms", a.Latency.P50)
	add("latency.p99", "ms", a.Latency.P99)
	add("errors.rate", "%", a.ErrorRate*100)
	for _, f := range a.Faults {
		name := "recovery.seconds[" + FaultLabel(f) + "]"
		switch {
		case f.Error != "":
			missing = append(missing, name+" (did not run as planned)")
		case f.RecoveryS == nil:
			missing = append(missing, name+" (not recovered)")
		default:
			add(name, "s", *f.RecoveryS)
		}
	}
	for _, c := range checks {
		r, ok := c.Result(a)
		switch {
		case !ok:
			missing = append(missing, c.Name+" (not recorded)")
		case r.NotChecked != "":
			missing = append(missing, c.Name+" (not checked: "+r.NotChecked+")")
		default:
			add(c.Name, "count", float64(r.Value))
		}
	}
	return entries, missing
}

// WriteBenchJSON writes Bench(runs) as a JSON array.
func WriteBenchJSON(w io.Writer, runs []Summary) error {
	b, err := json.MarshalIndent(Bench(runs), "", "  ")
	if err != nil {
		return fmt.Errorf("encode bench json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
