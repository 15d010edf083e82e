package results

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaosbench/chaosbench/threshold"
)

// The tolerance grammar of compare: what counts as noise per metric, and how --tolerance writes it.

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

// DefaultTolerances are the bounds compare uses unless told otherwise:
// these, and each registered check's (check.go); docs/reports.md lists them.
// A metric not listed is not compared.
func DefaultTolerances() Tolerances {
	t := Tolerances{
		"latency.p50":            {Rel: 0.10, Abs: 1},
		"latency.p95":            {Rel: 0.10, Abs: 2},
		"latency.p99":            {Rel: 0.10, Abs: 2},
		"latency.max":            {Rel: 0.50, Abs: 50}, // one slow request: noisy
		"errors.rate":            {Abs: 0.005},         // 0.5 percentage points
		"availability":           {Abs: 0.005},
		"requests.dropped":       {Rel: 0.10, Abs: 10},
		"requests.achieved_rate": {Rel: 0.05},
		"recovery.seconds":       {Rel: 0.20, Abs: 1},
	}
	// The service's 431 share (giant tokens): 0.5 percentage points, as errors.rate.
	t["errors.headers_too_large"] = Tolerance{Abs: 0.005}
	for _, c := range Checks() {
		if c.Tolerance != nil {
			t[c.Name] = *c.Tolerance
		}
	}
	return t
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
		return "", Tolerance{}, fmt.Errorf("tolerance %q: unknown metric %q%s", s, name, threshold.Suggest(name))
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
