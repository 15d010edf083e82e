package results

import (
	"fmt"
	"math"

	"github.com/chaosbench/chaosbench/threshold"
)

// Thresholds are one-line expressions over one architecture's results, e.g.
// "latency.p99 < 300ms", "writes.duplicates == 0", or over one fault's
// window, "faults[kill].errors.rate < 5%" (fault_metrics.go). Their grammar
// is the threshold package's, which a scenario is validated with; the
// metrics it reads are declared here (metrics.go, check.go,
// fault_metrics.go, edge.go), which is the catalogue this package gives the
// grammar (catalogue below). An Expr is a parsed threshold bound to the
// metric it reads, so that Eval cannot fail.

// Op is a comparison operator (threshold.Op).
type Op = threshold.Op

const (
	OpLT = threshold.OpLT
	OpLE = threshold.OpLE
	OpGT = threshold.OpGT
	OpGE = threshold.OpGE
	OpEQ = threshold.OpEQ
	OpNE = threshold.OpNE
)

// ThresholdError says what is wrong with a threshold and where (threshold.Error).
type ThresholdError = threshold.Error

// FaultRef selects one fault of a scenario (threshold.FaultRef).
type FaultRef = threshold.FaultRef

// Expr is a parsed threshold (threshold.Expr: its source, operator, limit and fault) bound to the metric
// it reads, Metric, which shadows the grammar's name-only one. The zero Expr is not valid; use
// ParseThreshold or BindThreshold.
type Expr struct {
	threshold.Expr
	Metric Metric
}

// UnmarshalText lets decoders (YAML, JSON) hold an Expr directly, bound; the error is a *ThresholdError.
func (e *Expr) UnmarshalText(b []byte) error {
	x, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*e = x
	return nil
}

// ParseThreshold parses "metric op number[unit]" (threshold.Parse) and binds
// it to the metric it reads.
func ParseThreshold(expr string) (Expr, error) {
	t, err := threshold.Parse(expr)
	if err != nil {
		return Expr{}, err
	}
	return BindThreshold(t)
}

// BindThreshold binds a threshold a scenario parsed to the metric it reads.
// It fails only for a metric name this catalogue does not have, which
// threshold.Parse would have refused.
func BindThreshold(t threshold.Expr) (Expr, error) {
	m, err := bindMetric(t.Metric, t.Fault)
	if err != nil {
		return Expr{}, fmt.Errorf("threshold %q: %w", t.Source, err)
	}
	return Expr{Expr: t, Metric: m}, nil
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
	t := Threshold{Expr: e.Source, Metric: e.Metric.Name, Value: v, OK: !math.IsNaN(v) && e.Op.Holds(v, e.Limit), Unmeasured: math.IsNaN(v)}
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

// catalogue gives the threshold grammar the metrics declared here: the
// whole-run ones with the checks', and those of one fault's window. It reads
// the registries as they are, so that a check registered later is known.
type catalogue struct{}

func init() { threshold.SetCatalogue(catalogue{}) }

func (catalogue) Metric(name string) (threshold.Kind, bool) {
	m, ok := LookupMetric(name)
	return m.Kind, ok
}

func (catalogue) Metrics() []string {
	ms := Metrics()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

func (catalogue) FaultMetric(name string) (threshold.Kind, bool) {
	fm, ok := faultMetricByName[name]
	return fm.kind, ok
}

func (catalogue) FaultMetrics() []string { return FaultMetricNames() }
