package results

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Compare puts the runs of a baseline beside the runs of a candidate, per
// architecture and metric: the median of each side (runs are noisy; the
// median of several resists one bad run), the spread (min..max), the change,
// and a verdict against a tolerance. This is what a CI regression benchmark
// gates on.

// Verdicts of a comparison.
const (
	VerdictOK         = "ok"
	VerdictImproved   = "improved"
	VerdictRegression = "regression"
	// VerdictMissing: the architecture ran on one side only.
	VerdictMissing = "missing"
)

// Stat is one side's runs of one metric.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"` // per run, in the order given
}

// MetricChange is one metric of one architecture, baseline vs candidate.
// Values are in the metric's base unit; an infinite value (a fault that never
// recovered) is encoded in JSON as the string "+Inf".
type MetricChange struct {
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	Base   Stat   `json:"base"`
	New    Stat   `json:"new"`
	// Compared is the statistic the verdict used: "median", or "worst"
	// (the worst run) for correctness counters.
	Compared  string  `json:"compared"`
	Change    float64 `json:"change"`     // new - base, of the compared statistic
	ChangePct float64 `json:"change_pct"` // relative to base, percent; +Inf from 0
	Tolerance string  `json:"tolerance"`
	Verdict   string  `json:"verdict"`
	kind      Kind
}

// ArchComparison is one architecture on both sides.
type ArchComparison struct {
	Name string `json:"name"`
	// BaseValid and NewValid count valid runs, e.g. "3/3".
	BaseValid string `json:"base_valid"`
	NewValid  string `json:"new_valid"`
	// Verdict is the worst of the metrics' verdicts and validity; "missing"
	// when the architecture ran on one side only.
	Verdict string         `json:"verdict"`
	Notes   []string       `json:"notes,omitempty"`
	Metrics []MetricChange `json:"metrics"`
}

// Comparison is the whole result; it is what --format json writes.
type Comparison struct {
	Schema        string           `json:"schema"`
	Base          []string         `json:"base"` // where each run came from, as given to the CLI
	New           []string         `json:"new"`
	Regression    bool             `json:"regression"`
	Warnings      []string         `json:"warnings,omitempty"`
	Architectures []ArchComparison `json:"architectures"`
}

const notInNew = "not in the new runs"

// ComparisonSchema versions the JSON of a Comparison.
const ComparisonSchema = "chaosbench.compare/v1"

// Compare compares baseline runs with candidate runs. tol overrides the
// defaults metric by metric (nil: the defaults).
func Compare(base, cand []Summary, tol Tolerances) Comparison {
	tols := DefaultTolerances()
	for k, v := range tol {
		tols[k] = v
	}
	c := Comparison{Schema: ComparisonSchema}
	for _, s := range base {
		c.Base = append(c.Base, runLabel(s))
	}
	for _, s := range cand {
		c.New = append(c.New, runLabel(s))
	}
	c.Warnings = compareWarnings(base, cand)

	for _, name := range unionArchNames(base, cand) {
		b, n := archRuns(base, name), archRuns(cand, name)
		ac := ArchComparison{Name: name, BaseValid: validCount(b), NewValid: validCount(n), Verdict: VerdictOK}
		switch {
		case len(n) == 0:
			// Gone from the candidate: nothing checks it any more, which a
			// gate must not wave through.
			ac.Verdict = VerdictRegression
			ac.Notes = append(ac.Notes, notInNew)
			c.Regression = true
			c.Architectures = append(c.Architectures, ac)
			continue
		case len(b) == 0:
			ac.Verdict = VerdictMissing
			ac.Notes = append(ac.Notes, "not in the baseline: nothing to compare with")
			c.Architectures = append(c.Architectures, ac)
			continue
		}
		bOK, nOK := allValid(b), allValid(n)
		switch {
		case bOK && !nOK:
			ac.Verdict = VerdictRegression
			ac.Notes = append(ac.Notes, "valid → invalid: "+strings.Join(invalidReasons(n), "; "))
		case !bOK && nOK:
			ac.Verdict = VerdictImproved
			ac.Notes = append(ac.Notes, "invalid → valid")
		case !bOK && !nOK:
			ac.Notes = append(ac.Notes, "invalid on both sides: the numbers prove little")
		}
		for _, m := range Metrics() {
			t, ok := tols[m.Name]
			if !ok || t.Off || !recordedAnywhere(m, b, n) {
				continue
			}
			mc := compareMetric(m, t, b, n)
			ac.Metrics = append(ac.Metrics, mc)
			ac.Verdict = worseVerdict(ac.Verdict, mc.Verdict)
		}
		if ac.Verdict == VerdictRegression {
			c.Regression = true
		}
		c.Architectures = append(c.Architectures, ac)
	}
	return c
}

func compareMetric(m Metric, t Tolerance, b, n []Arch) MetricChange {
	mc := MetricChange{Metric: m.Name, Unit: m.Kind.Unit(), Tolerance: t.describe(m.Kind), kind: m.Kind}
	mc.Base, mc.New = statOf(m, b), statOf(m, n)
	bv, nv := mc.Base.Median, mc.New.Median
	mc.Compared = "median"
	if t.Worst {
		mc.Compared = "worst"
		bv, nv = mc.Base.worst(m), mc.New.worst(m)
	}
	// Not measured (a check the truth could not answer, a recovery of a
	// fault that did not run): a run of the candidate that measured nothing
	// where the baseline measured is a regression, as an architecture that
	// nothing checks any more is; the other way round, there is nothing to
	// compare with.
	if bn, nn := unmeasured(mc.Base.Values), unmeasured(mc.New.Values); bn > 0 || nn > 0 {
		mc.Change, mc.ChangePct, mc.Verdict = math.NaN(), math.NaN(), VerdictOK
		if nn > 0 && bn == 0 {
			mc.Verdict = VerdictRegression
		}
		return mc
	}
	mc.Change = nv - bv
	switch {
	case bv == nv:
		// Also both +Inf: unchanged, not NaN.
		mc.Change, mc.ChangePct = 0, 0
	case bv == 0:
		mc.ChangePct = math.Copysign(math.Inf(1), mc.Change)
	default:
		mc.ChangePct = 100 * mc.Change / math.Abs(bv)
	}
	// worsening > 0 means worse, whatever the metric's direction.
	worsening := mc.Change
	if m.Better == HigherIsBetter {
		worsening = -worsening
	}
	beyond := func(d float64) bool {
		if d <= 0 {
			return false
		}
		rel := math.IsInf(d, 1) || bv == 0 || d/math.Abs(bv) > t.Rel
		return rel && d > t.Abs
	}
	switch {
	case beyond(worsening):
		mc.Verdict = VerdictRegression
	case beyond(-worsening):
		mc.Verdict = VerdictImproved
	default:
		mc.Verdict = VerdictOK
	}
	return mc
}

// recordedAnywhere: some run on either side records m (a check newer than
// every summary compared is left out, not compared as "not measured").
func recordedAnywhere(m Metric, sides ...[]Arch) bool {
	if m.recorded == nil {
		return true
	}
	for _, as := range sides {
		for _, a := range as {
			if m.recorded(a) {
				return true
			}
		}
	}
	return false
}

func unmeasured(vs []float64) int {
	n := 0
	for _, v := range vs {
		if math.IsNaN(v) {
			n++
		}
	}
	return n
}

// statOf is one side's statistics of m over the runs that measured it
// (Values keeps every run, NaN for one that measured nothing).
func statOf(m Metric, as []Arch) Stat {
	s := Stat{Min: math.Inf(1), Max: math.Inf(-1)}
	var measured []float64
	for _, a := range as {
		v := m.Value(a)
		s.Values = append(s.Values, v)
		if !math.IsNaN(v) {
			measured = append(measured, v)
			s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
		}
	}
	if len(measured) == 0 {
		s.Min, s.Max = math.NaN(), math.NaN()
	}
	s.Median = medianOf(measured)
	return s
}

func (s Stat) worst(m Metric) float64 {
	if m.Better == HigherIsBetter {
		return s.Min
	}
	return s.Max
}

// medianOf an even count is the mean of the middle two (+Inf if either is).
func medianOf(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// worse orders verdicts: a regression anywhere makes the architecture one.
func worseVerdict(a, b string) string {
	rank := map[string]int{VerdictOK: 0, VerdictImproved: 1, VerdictRegression: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func archRuns(ss []Summary, name string) []Arch {
	var out []Arch
	for _, s := range ss {
		if a, ok := s.Arch(name); ok {
			out = append(out, a)
		}
	}
	return out
}

func unionArchNames(sides ...[]Summary) []string {
	seen := map[string]bool{}
	var out []string
	for _, side := range sides {
		for _, s := range side {
			for _, a := range s.Architectures {
				if !seen[a.Name] {
					seen[a.Name] = true
					out = append(out, a.Name)
				}
			}
		}
	}
	return out
}

func validCount(as []Arch) string {
	n := 0
	for _, a := range as {
		if a.Valid {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(as))
}

func allValid(as []Arch) bool {
	for _, a := range as {
		if !a.Valid {
			return false
		}
	}
	return true
}

func invalidReasons(as []Arch) []string {
	var out []string
	for _, a := range as {
		if !a.Valid {
			r := strings.Join(a.InvalidReasons, "; ")
			if r == "" {
				r = "marked invalid"
			}
			out = append(out, r)
		}
	}
	return out
}

func runLabel(s Summary) string {
	l := s.Scenario
	if !s.StartedAt.IsZero() {
		l += " " + s.StartedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return l
}

// compareWarnings names differences that make a comparison of apples with
// pears: another scenario, scale or duration.
func compareWarnings(base, cand []Summary) []string {
	var w []string
	all := append(append([]Summary(nil), base...), cand...)
	if len(all) == 0 {
		return []string{"no runs to compare"}
	}
	diff := func(what string, f func(Summary) string) {
		seen := map[string]bool{}
		var vals []string
		for _, s := range all {
			if v := f(s); !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
		if len(vals) > 1 {
			w = append(w, fmt.Sprintf("runs differ in %s: %s", what, strings.Join(vals, ", ")))
		}
	}
	diff("scenario", func(s Summary) string { return s.Scenario })
	diff("scale", func(s Summary) string { return fmt.Sprint(s.Scale) })
	diff("duration", func(s Summary) string { return fmt.Sprintf("%.0fs", s.DurationS) })
	if len(base) == 1 || len(cand) == 1 {
		w = append(w, "one run on a side: no spread to judge noise by; several runs per side make medians")
	}
	return w
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
