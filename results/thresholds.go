package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Thresholds are one-line expressions over one architecture's results, e.g.
// "latency.p99 < 300ms", "writes.duplicates == 0", or over one fault's
// window, "faults[kill].errors.rate < 5%" (fault_metrics.go):
//
//	metric op number[unit]
//
// They are parsed once, when the scenario is validated, so that a typo or a
// unit that does not fit the metric is reported with the scenario's line
// before any container starts; Eval then cannot fail.

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
	// Fault is the fault whose window Metric reads (faults[1].latency.p99,
	// fault_metrics.go); nil for a whole-run metric. A scenario checks it
	// against its faults with Fault.Resolve.
	Fault *FaultRef
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
// run makes it NaN, not measured, which fails whatever the operator, as does
// a fault window with nothing measured (faults[1].errors.rate when faults[1]
// did not run, is not in the run, or no request was sent during it). JSON
// cannot hold either, so the stored Value is then -1 and Detail says why.
func (e Expr) Eval(a Arch) Threshold {
	v := e.Metric.value(a)
	// NaN is "nothing was measured": it fails every comparison, != included.
	t := Threshold{Expr: e.Source, Metric: e.Metric.Name, Value: v, OK: !math.IsNaN(v) && e.Op.holds(v, e.Limit), Unmeasured: math.IsNaN(v)}
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

// ParseThreshold parses "metric op number[unit]", where metric is a whole-run
// one (latency.p99) or one fault's window (faults[1].latency.p99,
// faults[kill].errors.rate: fault_metrics.go). Whitespace between the parts is
// optional.
func ParseThreshold(expr string) (Expr, error) {
	src := strings.TrimSpace(expr)
	lead := strings.Index(expr, src) // keep columns relative to what the user wrote
	fail := func(at int, tok, format string, args ...any) (Expr, error) {
		return Expr{}, &ThresholdError{Expr: expr, Column: lead + at + 1, Token: tok, Msg: fmt.Sprintf(format, args...)}
	}
	if src == "" {
		return fail(0, "", "empty threshold; want e.g. %q", "latency.p99 < 300ms")
	}

	// metric: a whole-run name, or faults[SELECTOR].name for one fault's window
	m, ref, i, serr := scanMetric(src)
	if serr != nil {
		return fail(serr.at, serr.tok, "%s", serr.msg)
	}
	name := src[:i]
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
	return Expr{Source: src, Metric: m, Op: op, Limit: limit, Fault: ref}, nil
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
