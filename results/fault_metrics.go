package results

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// A threshold may read one fault's window instead of the whole run:
//
//	faults[1].latency.p99 < 800ms       the scenario's second fault (0-based, as faults[1] in its errors)
//	faults[kill].errors.rate < 5%       the scenario's one fault of kind kill
//
// The window is the fault's During: requests planned from its start to its end (summary.json's
// faults[i].during). A kind must name exactly one fault of the scenario: where several share it, a
// "worst of them" would make an upper bound strict and a lower bound lax, so the scenario is refused at
// validation and asked for the index (FaultRef.Resolve says so, for validation and evaluation alike).
// Nothing a window did not measure passes: a fault that did not run, a selector that finds no fault or
// several, or a window no request was sent in is not measured, and its threshold fails whatever the
// operator.

// FaultRef selects one fault of a scenario: by Index (0-based, Kind "") or by Kind (Index -1).
type FaultRef struct {
	Index int
	Kind  string
}

// String is the selector as a threshold writes it: faults[1], faults[kill].
func (r FaultRef) String() string {
	if r.Kind != "" {
		return "faults[" + r.Kind + "]"
	}
	return "faults[" + strconv.Itoa(r.Index) + "]"
}

// Resolve finds the fault r selects among a scenario's faults, given their kinds in order. It is the one
// rule both the scenario's validation and the evaluation of a run apply.
func (r FaultRef) Resolve(kinds []string) (int, error) {
	if r.Kind == "" {
		switch {
		case len(kinds) == 0:
			return -1, fmt.Errorf("%s: the scenario has no faults", r)
		case r.Index < 0 || r.Index >= len(kinds):
			return -1, fmt.Errorf("%s: the scenario has %d fault%s, faults[0] to faults[%d] (%s)", r, len(kinds), plural(len(kinds)), len(kinds)-1, faultList(kinds))
		}
		return r.Index, nil
	}
	var at []string
	found := -1
	for i, k := range kinds {
		if k == r.Kind {
			at = append(at, fmt.Sprintf("faults[%d]", i))
			found = i
		}
	}
	switch len(at) {
	case 0:
		if len(kinds) == 0 {
			return -1, fmt.Errorf("%s: the scenario has no faults", r)
		}
		return -1, fmt.Errorf("%s: the scenario has no %s fault (%s)", r, r.Kind, faultList(kinds))
	case 1:
		return found, nil
	}
	return -1, fmt.Errorf("%s is ambiguous: %s are all %s; name one by its index, e.g. %s", r, strings.Join(at, ", "), r.Kind, at[0])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// faultList names each fault by index and kind: "faults[0] kill, faults[1] pause".
func faultList(kinds []string) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("faults[%d] %s", i, k)
	}
	return strings.Join(parts, ", ")
}

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
	m, _, end, err := scanMetric(name)
	switch {
	case err != nil:
		return Metric{}, fmt.Errorf("%s", err.msg)
	case end != len(name):
		return Metric{}, fmt.Errorf("%q is not a metric name", name)
	}
	return m, nil
}

// scanError is where (a byte offset into what was scanned), at which token, and why a metric name is not one.
type scanError struct {
	at       int
	tok, msg string
}

// scanMetric reads the metric name that starts src and returns it with the offset where it ends: a
// whole-run name, or faults[SELECTOR].NAME for one fault's window (then with the fault it selects).
func scanMetric(src string) (Metric, *FaultRef, int, *scanError) {
	const prefix = "faults["
	if !strings.HasPrefix(src, prefix) {
		i := 0
		for i < len(src) && isMetricByte(src[i]) {
			i++
		}
		name := src[:i]
		if name == "" {
			return Metric{}, nil, 0, &scanError{0, src[:min(1, len(src))], "want a metric name first, e.g. latency.p99"}
		}
		m, ok := LookupMetric(name)
		if !ok {
			hint := ""
			if strings.HasPrefix(name, "faults") || strings.HasPrefix(name, "fault.") {
				hint = "; one fault's window is read as faults[INDEX].METRIC or faults[KIND].METRIC, e.g. faults[0].errors.rate"
			}
			return Metric{}, nil, 0, &scanError{0, name, fmt.Sprintf("unknown metric %q%s%s", name, suggest(name), hint)}
		}
		return m, nil, i, nil
	}
	selAt := len(prefix)
	end := strings.IndexByte(src[selAt:], ']')
	if end < 0 {
		return Metric{}, nil, 0, &scanError{0, src, "faults[ has no closing ]: want faults[INDEX].METRIC or faults[KIND].METRIC, e.g. faults[0].errors.rate"}
	}
	sel := src[selAt : selAt+end]
	ref, msg := parseFaultRef(sel)
	if msg != "" {
		return Metric{}, nil, 0, &scanError{selAt, sel, msg}
	}
	i := selAt + end + 1
	if i >= len(src) || src[i] != '.' {
		return Metric{}, nil, 0, &scanError{i, rest(src, i), fmt.Sprintf("want a metric after %s, e.g. %s.errors.rate", ref, ref)}
	}
	nameAt := i + 1
	i = nameAt
	for i < len(src) && isMetricByte(src[i]) {
		i++
	}
	name := src[nameAt:i]
	fm, ok := faultMetricByName[name]
	if !ok {
		known := strings.Join(FaultMetricNames(), ", ")
		var msg string
		switch {
		case name == "":
			msg = fmt.Sprintf("want a metric after %s., e.g. %s.errors.rate; known: %s", ref, ref, known)
		case faultMetricByName["latency."+name].name != "":
			msg = fmt.Sprintf("unknown metric %q of a fault's window: write %s.latency.%s; known: %s", name, ref, name, known)
		default:
			if _, run := LookupMetric(name); run {
				msg = fmt.Sprintf("%s is measured over the whole run, not per fault: write it without %s; a fault's window has %s", name, ref, known)
			} else {
				msg = fmt.Sprintf("unknown metric %q of a fault's window; known: %s", name, known)
			}
		}
		return Metric{}, nil, 0, &scanError{nameAt, name, msg}
	}
	return fm.metric(ref), &ref, i, nil
}

// parseFaultRef reads what is between faults[ and ]: a 0-based index, or a fault kind.
func parseFaultRef(sel string) (FaultRef, string) {
	const want = "want an index from 0 (faults[0]) or a fault kind (faults[kill], faults[redis-outage])"
	if sel == "" {
		return FaultRef{}, "empty faults[]: " + want
	}
	if sel[0] >= '0' && sel[0] <= '9' {
		n, err := strconv.Atoi(sel)
		if err != nil || strconv.Itoa(n) != sel {
			return FaultRef{}, fmt.Sprintf("faults[%s]: %s", sel, want)
		}
		return FaultRef{Index: n}, ""
	}
	for i := 0; i < len(sel); i++ {
		c := sel[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') || i == 0 && c == '-' {
			return FaultRef{}, fmt.Sprintf("faults[%s]: %s", sel, want)
		}
	}
	return FaultRef{Index: -1, Kind: sel}, ""
}
