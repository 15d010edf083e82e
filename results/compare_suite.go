package results

import (
	"fmt"
	"strings"
)

// Comparing suites: each scenario × architecture of a suite is compared as an architecture of a run is,
// under the name "scenario/architecture", so the tolerances, verdicts and every compare format are the
// ones of Compare. A scenario on one side only is listed as an architecture on one side only is: missing
// from the new runs, a regression (nothing checks it any more); missing from the baseline, reported.

// SuiteOfRun makes a single run a suite of one, so that a run folder can be compared with a suite folder.
func SuiteOfRun(s Summary) Suite {
	e := SuiteEntry{Scenario: s.Scenario, Scale: s.Scale, Architectures: s.ArchNames(), Run: &s}
	return Suite{Name: s.Scenario, StartedAt: s.StartedAt, DurationS: s.DurationS, Entries: []SuiteEntry{e}}
}

// CompareSuites compares baseline suite runs with candidate suite runs per scenario × architecture
// (several runs of a suite per side: medians, as Compare). tol overrides the default tolerances.
func CompareSuites(base, cand []Suite, tol Tolerances) Comparison {
	c := Compare(flattenSuites(base), flattenSuites(cand), tol)
	c.Base, c.New = suiteLabels(base), suiteLabels(cand)
	c.Warnings = suiteCompareWarnings(base, cand)
	notRun := map[string]string{} // scenario key → why the candidate never ran it
	for _, s := range cand {
		for i, e := range s.Entries {
			if e.Run == nil || e.NotRun != "" {
				notRun[entryKey(s, i)] = e.NotRun
			}
		}
	}
	for i, a := range c.Architectures {
		scenario, _, _ := strings.Cut(a.Name, "/")
		if why, ok := notRun[scenario]; ok && a.Verdict == VerdictRegression && why != "" {
			c.Architectures[i].Notes = append(c.Architectures[i].Notes, "not run in the new suite: "+why)
		}
	}
	return c
}

// flattenSuites turns each suite into one Summary whose architectures are its scenarios × architectures,
// named "scenario/architecture"; a scenario that did not run adds none (and so shows as missing).
func flattenSuites(ss []Suite) []Summary {
	var out []Summary
	for _, s := range ss {
		f := Summary{Scenario: "suite " + s.Name, StartedAt: s.StartedAt, DurationS: s.DurationS}
		for i, e := range s.Entries {
			if e.Run == nil || e.NotRun != "" {
				continue
			}
			for _, a := range e.Run.Architectures {
				a.Name = entryKey(s, i) + "/" + a.Name
				f.Architectures = append(f.Architectures, a)
			}
		}
		out = append(out, f)
	}
	return out
}

// entryKey names entry i of s: its scenario, with #2, #3 ... when the suite runs that scenario again.
func entryKey(s Suite, i int) string {
	n := 1
	for _, e := range s.Entries[:i] {
		if e.Scenario == s.Entries[i].Scenario {
			n++
		}
	}
	if n == 1 {
		return s.Entries[i].Scenario
	}
	return fmt.Sprintf("%s#%d", s.Entries[i].Scenario, n)
}

func suiteLabels(ss []Suite) []string {
	var out []string
	for _, s := range ss {
		l := "suite " + s.Name
		if !s.StartedAt.IsZero() {
			l += " " + s.StartedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		out = append(out, l)
	}
	return out
}

// suiteCompareWarnings are Compare's warnings per scenario (another scale or duration of the same
// scenario on the two sides), named by scenario, and the one about a single run per side.
func suiteCompareWarnings(base, cand []Suite) []string {
	type sides struct{ b, n []Summary }
	var order []string
	by := map[string]*sides{}
	collect := func(ss []Suite, isBase bool) {
		for _, s := range ss {
			for i, e := range s.Entries {
				if e.Run == nil || e.NotRun != "" {
					continue
				}
				k := entryKey(s, i)
				if by[k] == nil {
					by[k] = &sides{}
					order = append(order, k)
				}
				if isBase {
					by[k].b = append(by[k].b, *e.Run)
				} else {
					by[k].n = append(by[k].n, *e.Run)
				}
			}
		}
	}
	collect(base, true)
	collect(cand, false)
	var w []string
	if len(base) == 0 || len(cand) == 0 {
		w = append(w, "no runs to compare")
	}
	for _, k := range order {
		for _, x := range compareWarnings(by[k].b, by[k].n) {
			if strings.HasPrefix(x, "runs differ in") {
				w = append(w, k+": "+x)
			}
		}
	}
	if len(base) == 1 || len(cand) == 1 {
		w = append(w, "one run on a side: no spread to judge noise by; several runs per side make medians")
	}
	return w
}

// ArchNames are the names of s's architectures, in its order.
func (s Summary) ArchNames() []string {
	var n []string
	for _, a := range s.Architectures {
		n = append(n, a.Name)
	}
	return n
}
