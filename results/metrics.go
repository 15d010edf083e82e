package results

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/chaosbench/chaosbench/threshold"
)

// The metric catalogue: every name a threshold, a comparison or a report
// reads from an architecture's results, with its unit and which way is
// better. The checks' counts (writes.duplicates, ...) are metrics too,
// declared with each check (check.go). Thresholds (thresholds.go) parse
// expressions over these; compare (compare.go) diffs them.

// Kind is what a metric measures; it decides which units a threshold may use
// (threshold.Kind, where the grammar converts the units).
type Kind = threshold.Kind

const (
	KindMS      = threshold.KindMS
	KindSeconds = threshold.KindSeconds
	KindRatio   = threshold.KindRatio
	KindCount   = threshold.KindCount
	KindRate    = threshold.KindRate
)

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
	// recorded, when set, says whether a summary holds the metric at all
	// (a check newer than the summary does not): compare leaves out a
	// metric no run on either side records.
	recorded func(Arch) bool
}

// Value reads the metric from a (NaN: not measured).
func (m Metric) Value(a Arch) float64 { return m.value(a) }

// Format writes v in the metric's unit, as the reports do.
func (m Metric) Format(v float64) string { return FormatValue(m.Kind, v) }

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
	{Name: "errors.headers_too_large", Kind: KindRatio,
		Help:  "share of sent requests refused 431 headers_too_large by the service (NGINX's own refusal is an HTML 400, http_400)",
		value: func(a Arch) float64 { return headersTooLargeShare(a) }},
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
	{Name: "recovery.seconds", Kind: KindSeconds,
		Help:  "slowest recovery over the faults (a fault that never recovered counts as infinite; one that did not run, or none at all, is not measured and fails)",
		value: MaxRecovery, detail: RecoveryDetail},
}

var metricByName = func() map[string]Metric {
	metrics = append(metrics, edgeMetrics...) // edge.go
	m := make(map[string]Metric, len(metrics))
	for _, x := range metrics {
		if _, dup := m[x.Name]; dup {
			panic("results: metric registered twice: " + x.Name)
		}
		m[x.Name] = x
	}
	return m
}()

// Metrics lists every metric thresholds and compare understand, by name:
// the ones above and one per registered check (check.go).
func Metrics() []Metric {
	out := append([]Metric(nil), metrics...)
	for _, c := range Checks() {
		out = append(out, c.metric())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupMetric returns the metric called name.
func LookupMetric(name string) (Metric, bool) {
	if m, ok := metricByName[name]; ok {
		return m, true
	}
	if c, ok := LookupCheck(name); ok {
		return c.metric(), true
	}
	return Metric{}, false
}

func achievedRatio(a Arch) float64 {
	if a.Requests.PlannedRate <= 0 {
		return 0
	}
	return a.Requests.AchievedRate / a.Requests.PlannedRate
}

// MaxRecovery is the slowest recovery; +Inf when a fault never recovered.
// It is NaN (not measured) when a planned fault did not happen or the run
// had none: a recovery from a fault that never ran is never 0.
func MaxRecovery(a Arch) float64 {
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

func RecoveryDetail(a Arch) string {
	if len(a.Faults) == 0 {
		return "not measured: no fault ran"
	}
	var failed, not []string
	for _, f := range a.Faults {
		switch {
		case f.Error != "":
			failed = append(failed, fmt.Sprintf("%s on %s did not run as planned (%s)", f.Kind, FaultTarget(f), f.Error))
		case f.RecoveryS == nil:
			not = append(not, fmt.Sprintf("%s %s at %gs", f.Kind, FaultTarget(f), f.StartS))
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

func FaultTarget(f Fault) string {
	if f.Resolved != "" {
		return f.Resolved
	}
	return f.Target
}

// headersTooLargeShare is the share of sent requests whose last answer was the service's 431: its JSON
// code, or the bare status from a service that sends none.
func headersTooLargeShare(a Arch) float64 {
	if a.Requests.Sent == 0 {
		return 0
	}
	return float64(a.Errors["headers_too_large"]+a.Errors["http_431"]) / float64(a.Requests.Sent)
}

// FaultLabel names the i-th fault of the scenario, as the first architecture
// that ran it saw it (every architecture runs the same timeline).
func FaultLabel(f Fault) string {
	return fmt.Sprintf("%s %s %g-%gs", f.Kind, f.Target, f.StartS, f.EndS)
}
