// Package threshold is the grammar of a threshold: a one-line expression over one architecture's
// results, e.g. "latency.p99 < 300ms", "writes.duplicates == 0", or over one fault's window,
// "faults[kill].errors.rate < 5%" (metric.go):
//
//	metric op number[unit]
//
// Thresholds are parsed once, when the scenario is validated, so that a typo or a unit that does not fit
// the metric is reported with the scenario's line before any container starts. The metric names and
// their kinds come from results (SetCatalogue), which also evaluates a parsed Expr against a run; this
// package imports neither, so a scenario is validated without linking the analysis and the reports.
package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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

// Holds says whether v op limit.
func (o Op) Holds(v, limit float64) bool {
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

// Expr is a parsed threshold. The zero Expr is not valid; use Parse.
type Expr struct {
	Source string  // as written, trimmed
	Metric Metric  // what it reads
	Op     Op      // how it compares
	Limit  float64 // in the metric's base unit (ms, s, ratio, count, per second)
	// Fault is the fault whose window Metric reads (faults[1].latency.p99,
	// metric.go); nil for a whole-run metric. A scenario checks it against
	// its faults with Fault.Resolve.
	Fault *FaultRef
}

// String returns the expression as written.
func (e Expr) String() string { return e.Source }

// MarshalText and UnmarshalText let scenario decoders (YAML, JSON) hold an
// Expr directly; the error is an *Error.
func (e Expr) MarshalText() ([]byte, error) { return []byte(e.Source), nil }

func (e *Expr) UnmarshalText(b []byte) error {
	x, err := Parse(string(b))
	if err != nil {
		return err
	}
	*e = x
	return nil
}

// Error says what is wrong with a threshold and where: Column is the
// 1-based byte offset of Token in Expr, so a caller can add it to the column
// of the YAML string that held it.
type Error struct {
	Expr   string
	Column int
	Token  string
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Column, e.Msg)
}

// Parse parses "metric op number[unit]", where metric is a whole-run
// one (latency.p99) or one fault's window (faults[1].latency.p99,
// faults[kill].errors.rate: metric.go). Whitespace between the parts is
// optional.
func Parse(expr string) (Expr, error) {
	src := strings.TrimSpace(expr)
	lead := strings.Index(expr, src) // keep columns relative to what the user wrote
	fail := func(at int, tok, format string, args ...any) (Expr, error) {
		return Expr{}, &Error{Expr: expr, Column: lead + at + 1, Token: tok, Msg: fmt.Sprintf(format, args...)}
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
