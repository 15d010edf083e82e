package threshold

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

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

// Catalogue is the metric names a threshold may read, with their kinds. The grammar does not own them:
// results declares the metrics (and its checks, one metric each) and sets its catalogue with
// SetCatalogue when it is linked, so that this package stays small and a scenario can be validated
// without linking the analysis and the reports.
type Catalogue interface {
	// Metric is the whole-run metric called name (latency.p99, writes.duplicates).
	Metric(name string) (Kind, bool)
	// Metrics lists the whole-run metrics' names, sorted.
	Metrics() []string
	// FaultMetric is the metric of one fault's window called name (errors.rate in faults[0].errors.rate).
	FaultMetric(name string) (Kind, bool)
	// FaultMetrics lists the fault-window metrics' names, sorted.
	FaultMetrics() []string
}

var catalogue struct {
	sync.RWMutex
	c Catalogue
}

// SetCatalogue sets the metric names Parse and LookupMetric accept (results does, when it is linked).
func SetCatalogue(c Catalogue) {
	catalogue.Lock()
	defer catalogue.Unlock()
	catalogue.c = c
}

func names() Catalogue {
	catalogue.RLock()
	defer catalogue.RUnlock()
	if catalogue.c == nil {
		panic("threshold: no metric catalogue: the metrics are declared in results, which sets it; link it (import _ \"github.com/chaosbench/chaosbench/results\")")
	}
	return catalogue.c
}

// IsMetricByte says whether c may appear in a metric's name: letters, digits, '.' and '_'.
func IsMetricByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
}

// Metric is the metric a threshold names, as the grammar resolved it.
type Metric struct {
	// Name is as written: latency.p99, faults[1].latency.p99.
	Name string
	Kind Kind
	// Window is the name of a fault-window metric without its selector (latency.p99 in
	// faults[1].latency.p99); "" for a whole-run metric.
	Window string
}

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

// LookupMetric returns the metric a threshold names: a whole-run one or one fault's
// (faults[1].latency.p99, faults[kill].errors.rate, then with the fault it selects), or says why there
// is none.
func LookupMetric(name string) (Metric, *FaultRef, error) {
	m, ref, end, err := scanMetric(name)
	switch {
	case err != nil:
		return Metric{}, nil, fmt.Errorf("%s", err.msg)
	case end != len(name):
		return Metric{}, nil, fmt.Errorf("%q is not a metric name", name)
	}
	return m, ref, nil
}

// scanError is where (a byte offset into what was scanned), at which token, and why a metric name is not one.
type scanError struct {
	at       int
	tok, msg string
}

// scanMetric reads the metric name that starts src and returns it with the offset where it ends: a
// whole-run name, or faults[SELECTOR].NAME for one fault's window (then with the fault it selects).
func scanMetric(src string) (Metric, *FaultRef, int, *scanError) {
	cat := names()
	const prefix = "faults["
	if !strings.HasPrefix(src, prefix) {
		i := 0
		for i < len(src) && IsMetricByte(src[i]) {
			i++
		}
		name := src[:i]
		if name == "" {
			return Metric{}, nil, 0, &scanError{0, src[:min(1, len(src))], "want a metric name first, e.g. latency.p99"}
		}
		k, ok := cat.Metric(name)
		if !ok {
			hint := ""
			if strings.HasPrefix(name, "faults") || strings.HasPrefix(name, "fault.") {
				hint = "; one fault's window is read as faults[INDEX].METRIC or faults[KIND].METRIC, e.g. faults[0].errors.rate"
			}
			return Metric{}, nil, 0, &scanError{0, name, fmt.Sprintf("unknown metric %q%s%s", name, suggest(cat, name), hint)}
		}
		return Metric{Name: name, Kind: k}, nil, i, nil
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
	for i < len(src) && IsMetricByte(src[i]) {
		i++
	}
	name := src[nameAt:i]
	k, ok := cat.FaultMetric(name)
	if !ok {
		known := strings.Join(cat.FaultMetrics(), ", ")
		var msg string
		_, latency := cat.FaultMetric("latency." + name)
		switch {
		case name == "":
			msg = fmt.Sprintf("want a metric after %s., e.g. %s.errors.rate; known: %s", ref, ref, known)
		case latency:
			msg = fmt.Sprintf("unknown metric %q of a fault's window: write %s.latency.%s; known: %s", name, ref, name, known)
		default:
			if _, run := cat.Metric(name); run {
				msg = fmt.Sprintf("%s is measured over the whole run, not per fault: write it without %s; a fault's window has %s", name, ref, known)
			} else {
				msg = fmt.Sprintf("unknown metric %q of a fault's window; known: %s", name, known)
			}
		}
		return Metric{}, nil, 0, &scanError{nameAt, name, msg}
	}
	return Metric{Name: ref.String() + "." + name, Kind: k, Window: name}, &ref, i, nil
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

// Suggest names the known whole-run metrics sharing the unknown one's prefix
// (or all), as "; known: ...", so that a typo is fixed without opening the docs.
func Suggest(name string) string { return suggest(names(), name) }

func suggest(cat Catalogue, name string) string {
	prefix := name
	if i := strings.IndexByte(name, '.'); i >= 0 {
		prefix = name[:i+1]
	}
	var near []string
	all := cat.Metrics()
	for _, m := range all {
		if strings.HasPrefix(m, prefix) {
			near = append(near, m)
		}
	}
	if len(near) == 0 {
		near = all
	}
	return "; known: " + strings.Join(near, ", ")
}
