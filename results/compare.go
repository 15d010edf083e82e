package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
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

// Tolerance is how much worse a metric may get before it is a regression. A
// change is a regression only when it is worse by more than Rel (relative
// to the baseline's median) AND by more than Abs (in the metric's unit):
// the relative bound ignores noise on large values, the absolute one on
// small values (p99 from 2 ms to 3 ms is +50% and means nothing). Both zero:
// any worsening is a regression. The same bounds, mirrored, say "improved".
type Tolerance struct {
	Rel float64 `json:"rel"` // fraction: 0.10 = 10%
	Abs float64 `json:"abs"` // metric's base unit: ms, s, ratio, count, per second
	Off bool    `json:"off,omitempty"`
	// Worst compares each side's worst run instead of its median: for
	// correctness counters, where one duplicate in one run of three is a
	// bug that showed itself, not noise to be voted away.
	Worst bool `json:"worst,omitempty"`
}

// Tolerances maps a metric name (see Metrics) to its tolerance.
type Tolerances map[string]Tolerance

// DefaultTolerances are the bounds compare uses unless told otherwise;
// docs/reports.md lists them. A metric not listed is not compared.
func DefaultTolerances() Tolerances {
	return Tolerances{
		"latency.p50":            {Rel: 0.10, Abs: 1},
		"latency.p95":            {Rel: 0.10, Abs: 2},
		"latency.p99":            {Rel: 0.10, Abs: 2},
		"latency.max":            {Rel: 0.50, Abs: 50}, // one slow request: noisy
		"errors.rate":            {Abs: 0.005},         // 0.5 percentage points
		"availability":           {Abs: 0.005},
		"requests.dropped":       {Rel: 0.10, Abs: 10},
		"requests.achieved_rate": {Rel: 0.05},
		"writes.duplicates":      {Worst: true},
		"writes.lost":            {Worst: true},
		"updates.lost":           {Worst: true},
		"sessions.lost":          {Worst: true},
		"writes.indeterminate":   {Rel: 0.20, Abs: 5},
		"recovery.seconds":       {Rel: 0.20, Abs: 1},
	}
}

// ParseTolerance reads a --tolerance flag: METRIC=BOUND[,BOUND], where a
// bound is relative with % ("10%"), absolute in the metric's unit ("2ms",
// "1s", "0.5pp" for ratios, a plain number for counts and rates), or "off".
// A bound not given is zero.
func ParseTolerance(s string) (string, Tolerance, error) {
	name, spec, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(spec) == "" {
		return "", Tolerance{}, fmt.Errorf("tolerance %q: want METRIC=BOUND, e.g. latency.p99=10%%,2ms", s)
	}
	m, ok := LookupMetric(name)
	if !ok {
		return "", Tolerance{}, fmt.Errorf("tolerance %q: unknown metric %q%s", s, name, suggest(name))
	}
	// Bounds replace the default's; whether it compares the worst run stays.
	t := Tolerance{Worst: DefaultTolerances()[name].Worst}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "off" {
			t.Off = true
			continue
		}
		if num, ok := strings.CutSuffix(part, "%"); ok {
			v, err := strconv.ParseFloat(strings.TrimPrefix(num, "+"), 64)
			if err != nil || v < 0 {
				return "", Tolerance{}, fmt.Errorf("tolerance %q: %q is not a percentage", s, part)
			}
			t.Rel = v / 100
			continue
		}
		v, err := parseAbs(m, strings.TrimPrefix(part, "+"))
		if err != nil {
			return "", Tolerance{}, fmt.Errorf("tolerance %q: %w", s, err)
		}
		t.Abs = v
	}
	return name, t, nil
}

// parseAbs reads an absolute bound in the metric's unit. Ratios take
// percentage points ("pp") because "%" already means relative here.
func parseAbs(m Metric, s string) (float64, error) {
	if m.Kind == KindRatio {
		num, ok := strings.CutSuffix(s, "pp")
		v, err := strconv.ParseFloat(num, 64)
		if !ok || err != nil || v < 0 {
			return 0, fmt.Errorf("%s is a ratio: write the absolute bound in percentage points, e.g. 0.5pp (or a relative bound, 10%%)", m.Name)
		}
		return v / 100, nil
	}
	e, err := ParseThreshold(m.Name + " <= " + s)
	if err != nil {
		var te *ThresholdError
		if errors.As(err, &te) {
			return 0, fmt.Errorf("%q: %s", s, te.Msg)
		}
		return 0, err
	}
	if e.Limit < 0 {
		return 0, fmt.Errorf("%q: a bound cannot be negative", s)
	}
	return e.Limit, nil
}

// describe writes a tolerance as ParseTolerance reads it.
func (t Tolerance) describe(k Kind) string {
	if t.Off {
		return "off"
	}
	var parts []string
	if t.Rel > 0 {
		parts = append(parts, fmt.Sprintf("%g%%", round2(t.Rel*100)))
	}
	if t.Abs > 0 {
		if k == KindRatio {
			parts = append(parts, fmt.Sprintf("%gpp", round2(t.Abs*100)))
		} else {
			parts = append(parts, fmt.Sprintf("%g%s", t.Abs, k.Unit()))
		}
	}
	d := "any"
	if len(parts) > 0 {
		d = strings.Join(parts, " and ")
	}
	if t.Worst {
		d += ", worst run"
	}
	return d
}

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
			if !ok || t.Off {
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

func statOf(m Metric, as []Arch) Stat {
	s := Stat{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, a := range as {
		v := m.Value(a)
		s.Values = append(s.Values, v)
		s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
	}
	s.Median = medianOf(s.Values)
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
		return formatValue(m.kind, s.Median)
	}
	if m.Compared == "worst" {
		return fmt.Sprintf("worst %s (%s..%s)", formatValue(m.kind, s.Max), formatValue(m.kind, s.Min), formatValue(m.kind, s.Max))
	}
	return fmt.Sprintf("%s (%s..%s)", formatValue(m.kind, s.Median), formatValue(m.kind, s.Min), formatValue(m.kind, s.Max))
}

func (m MetricChange) fmtChange() string {
	if m.Change == 0 {
		return "="
	}
	var abs string
	switch {
	case math.IsInf(m.Change, 0) || math.IsNaN(m.Change):
		abs = formatValue(m.kind, m.Change)
	case m.kind == KindRatio:
		abs = fmt.Sprintf("%+.2fpp", m.Change*100)
	default:
		abs = formatValue(m.kind, math.Abs(m.Change))
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
			writeAligned(&b, rows)
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
	fmt.Fprintf(&b, "## %s chaosbench compare\n\n**%s**\n\n", mark, mdEscape(c.verdictLine()))
	fmt.Fprintf(&b, "- base: %s\n- new: %s\n", mdEscape(strings.Join(c.Base, ", ")), mdEscape(strings.Join(c.New, ", ")))
	for _, x := range c.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", mdEscape(x))
	}
	for _, a := range c.Architectures {
		fmt.Fprintf(&b, "\n### %s: %s\n\nValid runs: base %s, new %s.\n", mdEscape(a.Name), verdictMark(a.Verdict), a.BaseValid, a.NewValid)
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "\n> %s\n", mdEscape(n))
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
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(m.Metric), m.fmtStat(m.Base), m.fmtStat(m.New),
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

func writeAligned(b *strings.Builder, rows [][]string) {
	w := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(padRunes(c, w[i]))
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
