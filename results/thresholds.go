package results

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Thresholds are one-line expressions over one architecture's results, e.g.
// "latency.p99 < 300ms" or "writes.duplicates == 0":
//
//	metric op number[unit]
//
// They are parsed once, when the scenario is validated, so that a typo or a
// unit that does not fit the metric is reported with the scenario's line
// before any container starts; Eval then cannot fail.

// Kind is what a metric measures; it decides which units a threshold may use.
type Kind int

const (
	// KindMS is a duration in milliseconds; thresholds may say ms, s or us.
	KindMS Kind = iota
	// KindSeconds is a duration in seconds; thresholds may say s or ms.
	KindSeconds
	// KindRatio is a fraction 0..1; thresholds say 1% or 0.01.
	KindRatio
	// KindCount is a plain number of things.
	KindCount
	// KindRate is per second; thresholds say 450 or 450/s.
	KindRate
)

// Unit is how values of the kind are written in reports.
func (k Kind) Unit() string {
	switch k {
	case KindMS:
		return "ms"
	case KindSeconds:
		return "s"
	case KindRatio:
		return "%"
	case KindRate:
		return "/s"
	}
	return ""
}

// Better says which direction of change is an improvement (for compare).
type Better int

const (
	LowerIsBetter Better = iota
	HigherIsBetter
)

// Metric is one name a threshold or a comparison can use.
type Metric struct {
	Name   string
	Kind   Kind
	Better Better
	Help   string
	// value reads the metric from an architecture's results; detail, when
	// set, explains a value a number alone would mislead about (a fault
	// that never recovered).
	value  func(Arch) float64
	detail func(Arch) string
}

// Value reads the metric from a.
func (m Metric) Value(a Arch) float64 { return m.value(a) }

var metrics = []Metric{
	{Name: "latency.p50", Kind: KindMS, Help: "median latency from the planned send time, retries included",
		value: func(a Arch) float64 { return a.Latency.P50 }},
	{Name: "latency.p95", Kind: KindMS, Help: "95th percentile latency",
		value: func(a Arch) float64 { return a.Latency.P95 }},
	{Name: "latency.p99", Kind: KindMS, Help: "99th percentile latency",
		value: func(a Arch) float64 { return a.Latency.P99 }},
	{Name: "latency.p999", Kind: KindMS, Help: "99.9th percentile latency",
		value: func(a Arch) float64 { return a.Latency.P999 }},
	{Name: "latency.max", Kind: KindMS, Help: "slowest request",
		value: func(a Arch) float64 { return a.Latency.Max }},
	{Name: "latency.mean", Kind: KindMS, Help: "mean latency",
		value: func(a Arch) float64 { return a.Latency.Mean }},
	{Name: "errors.rate", Kind: KindRatio, Help: "failed / sent logical requests (after all retries)",
		value: func(a Arch) float64 { return a.ErrorRate }},
	{Name: "errors.count", Kind: KindCount, Help: "failed logical requests (after all retries)",
		value: func(a Arch) float64 { return float64(a.Requests.Failed) }},
	{Name: "availability", Kind: KindRatio, Better: HigherIsBetter,
		Help:  "share of seconds with at least one success and under 50% errors",
		value: func(a Arch) float64 { return a.Availability }},
	{Name: "requests.dropped", Kind: KindCount, Help: "planned requests never sent (shed or too late)",
		value: func(a Arch) float64 { return float64(a.Requests.Dropped) }},
	{Name: "requests.late", Kind: KindCount, Help: "requests sent later than the late threshold",
		value: func(a Arch) float64 { return float64(a.Requests.Late) }},
	{Name: "requests.retries", Kind: KindCount, Help: "extra attempts made by the retry policy",
		value: func(a Arch) float64 { return float64(a.Requests.Retries) }},
	{Name: "requests.achieved_rate", Kind: KindRate, Better: HigherIsBetter,
		Help:  "requests sent per second before the first fault",
		value: func(a Arch) float64 { return a.Requests.AchievedRate }},
	{Name: "requests.achieved_ratio", Kind: KindRatio, Better: HigherIsBetter,
		Help:  "achieved / planned rate before the first fault",
		value: achievedRatio},
	{Name: "writes.duplicates", Kind: KindCount, Help: "extra orders created for one logical write",
		value: func(a Arch) float64 { return float64(a.Writes.Duplicates) }},
	{Name: "writes.lost", Kind: KindCount, Help: "acknowledged orders absent from Redis",
		value: func(a Arch) float64 { return float64(a.Writes.Lost) }},
	{Name: "writes.indeterminate", Kind: KindCount, Help: "writes with no answer after all retries",
		value: func(a Arch) float64 { return float64(a.Writes.Indeterminate) }},
	{Name: "updates.lost", Kind: KindCount, Help: "acknowledged increments missing from the final values",
		value: func(a Arch) float64 { return float64(a.Updates.Lost) }},
	{Name: "sessions.lost", Kind: KindCount, Help: "live sessions rejected as unknown",
		value: func(a Arch) float64 { return float64(a.Sessions.Lost) }},
	{Name: "recovery.seconds", Kind: KindSeconds,
		Help:  "slowest recovery over the faults (a fault that never recovered counts as infinite; one that did not run, or none at all, is not measured and fails)",
		value: maxRecovery, detail: recoveryDetail},
}

var metricByName = func() map[string]Metric {
	m := make(map[string]Metric, len(metrics))
	for _, x := range metrics {
		if _, dup := m[x.Name]; dup {
			panic("results: metric registered twice: " + x.Name)
		}
		m[x.Name] = x
	}
	return m
}()

// Metrics lists every metric thresholds and compare understand, by name.
func Metrics() []Metric {
	out := append([]Metric(nil), metrics...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupMetric returns the metric called name.
func LookupMetric(name string) (Metric, bool) {
	m, ok := metricByName[name]
	return m, ok
}

func achievedRatio(a Arch) float64 {
	if a.Requests.PlannedRate <= 0 {
		return 0
	}
	return a.Requests.AchievedRate / a.Requests.PlannedRate
}

// maxRecovery is the slowest recovery; +Inf when a fault never recovered.
// It is NaN (not measured) when a planned fault did not happen or the run
// had none: a recovery from a fault that never ran is never 0.
func maxRecovery(a Arch) float64 {
	if len(a.Faults) == 0 {
		return math.NaN()
	}
	worst := 0.0
	for _, f := range a.Faults {
		switch {
		case f.Error != "":
			return math.NaN()
		case f.RecoveryS == nil:
			worst = math.Inf(1)
		default:
			worst = math.Max(worst, *f.RecoveryS)
		}
	}
	return worst
}

func recoveryDetail(a Arch) string {
	if len(a.Faults) == 0 {
		return "not measured: no fault ran"
	}
	var failed, not []string
	for _, f := range a.Faults {
		switch {
		case f.Error != "":
			failed = append(failed, fmt.Sprintf("%s on %s did not run as planned (%s)", f.Kind, faultTarget(f), f.Error))
		case f.RecoveryS == nil:
			not = append(not, fmt.Sprintf("%s %s at %gs", f.Kind, faultTarget(f), f.StartS))
		}
	}
	var parts []string
	if len(failed) > 0 {
		parts = append(parts, "not measured: "+strings.Join(failed, ", "))
	}
	if len(not) > 0 {
		parts = append(parts, "not recovered: "+strings.Join(not, ", "))
	}
	return strings.Join(parts, "; ")
}

func faultTarget(f Fault) string {
	if f.Resolved != "" {
		return f.Resolved
	}
	return f.Target
}

// Op is a comparison operator.
type Op string

const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

func (o Op) holds(v, limit float64) bool {
	switch o {
	case OpLT:
		return v < limit
	case OpLE:
		return v <= limit
	case OpGT:
		return v > limit
	case OpGE:
		return v >= limit
	case OpEQ:
		return v == limit
	case OpNE:
		return v != limit
	}
	return false
}

// Expr is a parsed threshold. The zero Expr is not valid; use ParseThreshold.
type Expr struct {
	Source string  // as written, trimmed
	Metric Metric  // what it reads
	Op     Op      // how it compares
	Limit  float64 // in the metric's base unit (ms, s, ratio, count, per second)
}

// String returns the expression as written.
func (e Expr) String() string { return e.Source }

// MarshalText and UnmarshalText let scenario decoders (YAML, JSON) hold an
// Expr directly; the error is a *ThresholdError.
func (e Expr) MarshalText() ([]byte, error) { return []byte(e.Source), nil }

func (e *Expr) UnmarshalText(b []byte) error {
	x, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*e = x
	return nil
}

// Eval evaluates the expression on a. A fault that never recovered makes
// recovery.seconds +Inf, so "recovery.seconds < 10" fails; one that did not
// run makes it NaN, not measured, which fails whatever the operator. JSON
// cannot hold either, so the stored Value is then -1 and Detail says why.
func (e Expr) Eval(a Arch) Threshold {
	v := e.Metric.value(a)
	// NaN is "nothing was measured": it fails every comparison, != included.
	t := Threshold{Expr: e.Source, Value: v, OK: !math.IsNaN(v) && e.Op.holds(v, e.Limit), Unmeasured: math.IsNaN(v)}
	if e.Metric.detail != nil {
		t.Detail = e.Metric.detail(a)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		// summary.json cannot encode Inf; Detail carries the meaning.
		t.Value = -1
	}
	return t
}

// EvalAll evaluates every expression on a, in order.
func EvalAll(exprs []Expr, a Arch) []Threshold {
	out := make([]Threshold, 0, len(exprs))
	for _, e := range exprs {
		out = append(out, e.Eval(a))
	}
	return out
}

// ThresholdError says what is wrong with a threshold and where: Column is the
// 1-based byte offset of Token in Expr, so a caller can add it to the column
// of the YAML string that held it.
type ThresholdError struct {
	Expr   string
	Column int
	Token  string
	Msg    string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Column, e.Msg)
}

// ParseThreshold parses "metric op number[unit]". Whitespace between the parts
// is optional.
func ParseThreshold(expr string) (Expr, error) {
	src := strings.TrimSpace(expr)
	lead := strings.Index(expr, src) // keep columns relative to what the user wrote
	fail := func(at int, tok, format string, args ...any) (Expr, error) {
		return Expr{}, &ThresholdError{Expr: expr, Column: lead + at + 1, Token: tok, Msg: fmt.Sprintf(format, args...)}
	}
	if src == "" {
		return fail(0, "", "empty threshold; want e.g. %q", "latency.p99 < 300ms")
	}

	// metric
	i := 0
	for i < len(src) && isMetricByte(src[i]) {
		i++
	}
	name := src[:i]
	if name == "" {
		return fail(0, src[:1], "want a metric name first, e.g. latency.p99")
	}
	m, ok := metricByName[name]
	if !ok {
		return fail(0, name, "unknown metric %q%s", name, suggest(name))
	}
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}

	// operator
	opAt := i
	for i < len(src) && strings.IndexByte("<>=!", src[i]) >= 0 {
		i++
	}
	op := Op(src[opAt:i])
	switch op {
	case OpLT, OpLE, OpGT, OpGE, OpEQ, OpNE:
	case "":
		return fail(opAt, rest(src, opAt), "want an operator (< <= > >= == !=) after %s", name)
	default:
		return fail(opAt, string(op), "unknown operator %q; use < <= > >= == !=", op)
	}
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}

	// number
	numAt := i
	if i < len(src) && (src[i] == '-' || src[i] == '+') {
		i++
	}
	for i < len(src) && (src[i] >= '0' && src[i] <= '9' || src[i] == '.') {
		i++
	}
	num, err := strconv.ParseFloat(src[numAt:i], 64)
	if err != nil {
		return fail(numAt, rest(src, numAt), "want a number after %s", op)
	}

	// unit
	unitAt := i
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if i > unitAt {
		unitAt = i
	}
	unit := src[unitAt:]
	limit, msg := convert(m, num, unit)
	if msg != "" {
		at := unitAt
		tok := unit
		if unit == "" {
			at, tok = numAt, src[numAt:]
		}
		return fail(at, tok, "%s", msg)
	}
	return Expr{Source: src, Metric: m, Op: op, Limit: limit}, nil
}

func rest(s string, at int) string {
	if at >= len(s) {
		return ""
	}
	return s[at:]
}

func isMetricByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
}

// convert turns number+unit into the metric's base unit, or says why the unit
// does not fit.
func convert(m Metric, n float64, unit string) (float64, string) {
	bad := func(want string) (float64, string) {
		if unit == "" {
			return 0, fmt.Sprintf("%s is %s; the number needs a unit (%s)", m.Name, m.Kind.describe(), want)
		}
		return 0, fmt.Sprintf("unit %q does not fit %s, which is %s; use %s", unit, m.Name, m.Kind.describe(), want)
	}
	switch m.Kind {
	case KindMS, KindSeconds:
		ms, ok := map[string]float64{"us": 0.001, "µs": 0.001, "ms": 1, "s": 1000, "": math.NaN()}[unit]
		if !ok {
			return bad("ms or s")
		}
		if math.IsNaN(ms) {
			// A bare number is read in the metric's own unit, which is
			// what Value reports.
			return n, ""
		}
		if m.Kind == KindSeconds {
			return n * ms / 1000, ""
		}
		return n * ms, ""
	case KindRatio:
		switch unit {
		case "%":
			return n / 100, ""
		case "":
			// "availability >= 99.5" means percent, but would be read as a
			// ratio and never hold: refuse rather than guess.
			if n < 0 || n > 1 {
				return 0, fmt.Sprintf("%s is a ratio 0..1: write %g%% or %g", m.Name, n, n/100)
			}
			return n, ""
		}
		return bad("% or a ratio 0..1")
	case KindCount:
		if unit == "" {
			return n, ""
		}
		return bad("a plain number")
	case KindRate:
		if unit == "" || unit == "/s" {
			return n, ""
		}
		return bad("a plain number or /s")
	}
	return 0, "unknown metric kind"
}

func (k Kind) describe() string {
	switch k {
	case KindMS:
		return "a duration in ms"
	case KindSeconds:
		return "a duration in seconds"
	case KindRatio:
		return "a ratio"
	case KindCount:
		return "a count"
	case KindRate:
		return "a rate per second"
	}
	return "?"
}

// suggest names the known metrics sharing the unknown one's prefix (or all),
// so that a typo is fixed without opening the docs.
func suggest(name string) string {
	prefix := name
	if i := strings.IndexByte(name, '.'); i >= 0 {
		prefix = name[:i+1]
	}
	var near, all []string
	for _, m := range Metrics() {
		all = append(all, m.Name)
		if strings.HasPrefix(m.Name, prefix) {
			near = append(near, m.Name)
		}
	}
	if len(near) == 0 {
		near = all
	}
	return "; known: " + strings.Join(near, ", ")
}
