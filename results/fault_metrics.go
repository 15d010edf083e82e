package results

import (
	"fmt"
	"math"
	"sort"

	"github.com/chaosbench/chaosbench/threshold"
)

// A threshold may read one fault's window instead of the whole run (the grammar, and FaultRef.Resolve,
// the rule validation and evaluation share, are the threshold package's): faults[1].latency.p99,
// faults[kill].errors.rate. These are the metrics of a window.

// faultMetric is one metric of a fault's window. needsRequests: with no request in the window there is
// nothing to measure (a rate, a percentile); a count of zero is still a measurement.
type faultMetric struct {
	name          string
	kind          Kind
	better        Better
	help          string
	needsRequests bool
	value         func(Fault) float64
}

var faultMetrics = []faultMetric{
	{"errors.rate", KindRatio, LowerIsBetter, "failed / sent logical requests planned during the fault", true,
		func(f Fault) float64 { return f.During.ErrorRate }},
	{"errors.count", KindCount, LowerIsBetter, "failed logical requests planned during the fault", true,
		func(f Fault) float64 { return float64(f.During.Errors) }},
	{"latency.p50", KindMS, LowerIsBetter, "median latency of the requests planned during the fault", true,
		func(f Fault) float64 { return f.During.P50MS }},
	{"latency.p95", KindMS, LowerIsBetter, "95th percentile latency during the fault", true,
		func(f Fault) float64 { return f.During.P95MS }},
	{"latency.p99", KindMS, LowerIsBetter, "99th percentile latency during the fault", true,
		func(f Fault) float64 { return f.During.P99MS }},
	{"latency.max", KindMS, LowerIsBetter, "slowest request planned during the fault", true,
		func(f Fault) float64 { return f.During.MaxMS }},
	{"requests.sent", KindCount, HigherIsBetter, "logical requests sent with a planned time during the fault", false,
		func(f Fault) float64 { return float64(f.During.Requests) }},
	{"requests.retries", KindCount, LowerIsBetter, "extra attempts of the requests planned during the fault", true,
		func(f Fault) float64 { return float64(f.During.Retries) }},
	{"requests.dropped", KindCount, LowerIsBetter, "requests planned in the fault's seconds that the harness never sent", false,
		func(f Fault) float64 { return float64(f.Dropped) }},
	{"recovery.seconds", KindSeconds, LowerIsBetter, "this fault's recovery (never recovered: infinite, so an upper bound fails)", false,
		func(f Fault) float64 {
			if f.RecoveryS == nil {
				return math.Inf(1)
			}
			return *f.RecoveryS
		}},
}

var faultMetricByName = func() map[string]faultMetric {
	m := make(map[string]faultMetric, len(faultMetrics))
	for _, x := range faultMetrics {
		if _, dup := m[x.name]; dup {
			panic("results: fault metric registered twice: " + x.name)
		}
		m[x.name] = x
	}
	return m
}()

// FaultMetricNames lists the metrics a threshold can read of one fault's window (after faults[N].), sorted.
func FaultMetricNames() []string {
	out := make([]string, 0, len(faultMetrics))
	for _, m := range faultMetrics {
		out = append(out, m.name)
	}
	sort.Strings(out)
	return out
}

// metric binds a fault-window metric to the fault ref selects: a Metric named faults[1].latency.p99 that
// reads an architecture's result. A value it cannot read is NaN (not measured), and detail says why.
func (fm faultMetric) metric(ref FaultRef) Metric {
	pick := func(a Arch) (Fault, string) {
		kinds := make([]string, len(a.Faults))
		for i, f := range a.Faults {
			kinds[i] = f.Kind
		}
		i, err := ref.Resolve(kinds)
		if err != nil {
			return Fault{}, "not measured: " + err.Error()
		}
		f := a.Faults[i]
		switch {
		case f.Error != "":
			return f, fmt.Sprintf("not measured: %s (%s on %s) did not run as planned (%s)", ref, f.Kind, FaultTarget(f), f.Error)
		case fm.needsRequests && f.During.Requests == 0:
			return f, fmt.Sprintf("not measured: no request was sent during %s (%s on %s, %g-%gs)", ref, f.Kind, FaultTarget(f), f.StartS, f.EndS)
		}
		return f, ""
	}
	return Metric{
		Name: ref.String() + "." + fm.name, Kind: fm.kind, Better: fm.better, Help: fm.help + " (" + ref.String() + ")",
		value: func(a Arch) float64 {
			f, why := pick(a)
			if why != "" {
				return math.NaN()
			}
			return fm.value(f)
		},
		detail: func(a Arch) string {
			f, why := pick(a)
			if why == "" && fm.name == "recovery.seconds" && f.RecoveryS == nil {
				return fmt.Sprintf("not recovered: %s %s at %gs", f.Kind, FaultTarget(f), f.StartS)
			}
			return why
		},
	}
}

// LookupThresholdMetric returns the metric a threshold names: a whole-run one (LookupMetric) or one fault's
// (faults[1].latency.p99, faults[kill].errors.rate), or says why there is none.
func LookupThresholdMetric(name string) (Metric, error) {
	m, ref, err := threshold.LookupMetric(name)
	if err != nil {
		return Metric{}, err
	}
	return bindMetric(m, ref)
}

// bindMetric is the Metric the grammar's m names, read from an architecture's results.
func bindMetric(m threshold.Metric, ref *FaultRef) (Metric, error) {
	if ref == nil {
		rm, ok := LookupMetric(m.Name)
		if !ok {
			return Metric{}, fmt.Errorf("unknown metric %q", m.Name)
		}
		return rm, nil
	}
	fm, ok := faultMetricByName[m.Window]
	if !ok {
		return Metric{}, fmt.Errorf("unknown metric %q of a fault's window", m.Window)
	}
	return fm.metric(*ref), nil
}
