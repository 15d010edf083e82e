package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runs builds one summary per value, each with architecture "a" modified by
// set; the rest is testArch, so unrelated metrics are equal on both sides.
func runs[T any](set func(*Arch, T), vals ...T) []Summary {
	var out []Summary
	for _, v := range vals {
		a := testArch()
		a.Name = "a"
		set(&a, v)
		out = append(out, Summary{Schema: SchemaVersion, Scenario: "kill-node", Scale: 1, DurationS: 60, Architectures: []Arch{a}})
	}
	return out
}

func setP99(a *Arch, v float64)          { a.Latency.P99 = v }
func setErrRate(a *Arch, v float64)      { a.ErrorRate = v }
func setDups(a *Arch, v int64)           { a.Checks["writes.duplicates"] = CheckResult{Value: v} }
func setRate(a *Arch, v float64)         { a.Requests.AchievedRate = v }
func setRecovery(a *Arch, v *float64)    { a.Faults = a.Faults[:1]; a.Faults[0].RecoveryS = v }
func setValid(a *Arch, v bool)           { a.Valid = v }
func setSessionsLost(a *Arch, v int64)   { a.Checks["sessions.lost"] = CheckResult{Value: v} }
func setUpdatesLost(a *Arch, v int64)    { a.Checks["updates.lost"] = CheckResult{Value: v} }
func setMaxLatency(a *Arch, v float64)   { a.Latency.Max = v }
func setAvailability(a *Arch, v float64) { a.Availability = v }

func metricOf(t *testing.T, c Comparison, arch, metric string) MetricChange {
	t.Helper()
	for _, a := range c.Architectures {
		if a.Name != arch {
			continue
		}
		for _, m := range a.Metrics {
			if m.Metric == metric {
				return m
			}
		}
	}
	t.Fatalf("no %s/%s in comparison", arch, metric)
	return MetricChange{}
}

func TestCompareVerdicts(t *testing.T) {
	tests := []struct {
		name      string
		base, new []Summary
		metric    string
		want      string
	}{
		// +50% and +10 ms: beyond both bounds of p99 (10%, 2 ms)
		{"p99 regression", runs(setP99, 20, 21, 19), runs(setP99, 30, 31, 29), "latency.p99", VerdictRegression},
		// run-to-run noise: medians 20 -> 21 ms is +5%, within 10%
		{"p99 noise", runs(setP99, 20, 22, 19), runs(setP99, 21, 20.5, 22), "latency.p99", VerdictOK},
		// +50% but only +1 ms: the absolute bound keeps tiny values quiet
		{"p99 tiny", runs(setP99, 2, 2, 2), runs(setP99, 3, 3, 3), "latency.p99", VerdictOK},
		// one outlier run does not move the median
		{"p99 outlier", runs(setP99, 20, 20, 20), runs(setP99, 20, 21, 200), "latency.p99", VerdictOK},
		{"p99 improved", runs(setP99, 30.0), runs(setP99, 20.0), "latency.p99", VerdictImproved},
		// +0.3 percentage points is within 0.5 pp; +0.9 pp is not
		{"error rate within", runs(setErrRate, 0.001), runs(setErrRate, 0.004), "errors.rate", VerdictOK},
		{"error rate regression", runs(setErrRate, 0.001), runs(setErrRate, 0.010), "errors.rate", VerdictRegression},
		// any duplicate where there were none is a regression, even in one
		// run of three: correctness counters compare the worst run
		{"duplicates appear", runs(setDups, 0, 0, 0), runs(setDups, 0, 1, 0), "writes.duplicates", VerdictRegression},
		{"duplicates steady", runs(setDups, 2, 0, 2), runs(setDups, 2, 2, 1), "writes.duplicates", VerdictOK},
		{"duplicates gone", runs(setDups, int64(3)), runs(setDups, int64(0)), "writes.duplicates", VerdictImproved},
		{"sessions lost", runs(setSessionsLost, int64(0)), runs(setSessionsLost, int64(1)), "sessions.lost", VerdictRegression},
		{"updates lost", runs(setUpdatesLost, int64(0)), runs(setUpdatesLost, int64(2)), "updates.lost", VerdictRegression},
		// higher is better: -7.5% is beyond -5%, -2.5% is not
		{"rate drop", runs(setRate, 200.0), runs(setRate, 185.0), "requests.achieved_rate", VerdictRegression},
		{"rate wobble", runs(setRate, 200.0), runs(setRate, 195.0), "requests.achieved_rate", VerdictOK},
		{"availability drop", runs(setAvailability, 1.0), runs(setAvailability, 0.98), "availability", VerdictRegression},
		// a fault that stops recovering is a regression; both infinite is no change
		{"recovery lost", runs(setRecovery, f64(3)), runs(setRecovery, (*float64)(nil)), "recovery.seconds", VerdictRegression},
		{"recovery never", runs(setRecovery, (*float64)(nil)), runs(setRecovery, (*float64)(nil)), "recovery.seconds", VerdictOK},
		{"recovery regained", runs(setRecovery, (*float64)(nil)), runs(setRecovery, f64(3)), "recovery.seconds", VerdictImproved},
		// +20% and +1 s: 3 -> 3.5 s is +17%, within; 3 -> 5 s is not
		{"recovery noise", runs(setRecovery, f64(3)), runs(setRecovery, f64(3.5)), "recovery.seconds", VerdictOK},
		{"recovery slower", runs(setRecovery, f64(3)), runs(setRecovery, f64(5)), "recovery.seconds", VerdictRegression},
		// max is noisy: +40% passes the default 50%
		{"max noise", runs(setMaxLatency, 1000.0), runs(setMaxLatency, 1400.0), "latency.max", VerdictOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.base, tt.new, nil)
			m := metricOf(t, c, "a", tt.metric)
			require.Equal(t, tt.want, m.Verdict, "%+v", m)
			require.Equal(t, tt.want == VerdictRegression, c.Regression)
			_, err := json.Marshal(c)
			require.NoError(t, err, "infinite values must still encode")
		})
	}
}

func TestCompareStats(t *testing.T) {
	c := Compare(runs(setP99, 20, 22, 19), runs(setP99, 30, 31, 29, 40), nil)
	m := metricOf(t, c, "a", "latency.p99")
	require.Equal(t, Stat{Median: 20, Min: 19, Max: 22, Values: []float64{20, 22, 19}}, m.Base)
	require.Equal(t, 30.5, m.New.Median, "even count: mean of the middle two")
	require.Equal(t, 10.5, m.Change)
	require.InDelta(t, 52.5, m.ChangePct, 1e-9)
	require.Equal(t, "10% and 2ms", m.Tolerance)
}

func TestCompareValidity(t *testing.T) {
	base := runs(setValid, true, true)
	cand := runs(setValid, true, false)
	cand[1].Architectures[0].InvalidReasons = []string{"achieved 120/s of 200/s"}
	c := Compare(base, cand, nil)
	require.True(t, c.Regression)
	require.Equal(t, VerdictRegression, c.Architectures[0].Verdict)
	require.Equal(t, "1/2", c.Architectures[0].NewValid)
	require.Contains(t, c.Architectures[0].Notes[0], "valid → invalid: achieved 120/s of 200/s")

	c = Compare(cand, base, nil)
	require.False(t, c.Regression)
	require.Equal(t, VerdictImproved, c.Architectures[0].Verdict)
}

func TestCompareMissingArch(t *testing.T) {
	base := []Summary{fixtureSummary()}
	cand := []Summary{fixtureSummary()}
	cand[0].Architectures = cand[0].Architectures[:2]
	c := Compare(base, cand, nil)
	require.True(t, c.Regression, "an architecture gone from the candidate is not checked any more")
	require.Equal(t, VerdictRegression, c.Architectures[2].Verdict)

	// New in the candidate: nothing to compare, no regression.
	c = Compare(cand, base, nil)
	require.False(t, c.Regression)
	require.Equal(t, VerdictMissing, c.Architectures[2].Verdict)
}

// The same run on both sides is no change at all.
func TestCompareIdentical(t *testing.T) {
	s := []Summary{fixtureSummary()}
	c := Compare(s, s, nil)
	require.False(t, c.Regression)
	for _, a := range c.Architectures {
		require.Equal(t, VerdictOK, a.Verdict, a.Name)
		for _, m := range a.Metrics {
			require.Zero(t, m.Change, m.Metric)
		}
	}
	require.Contains(t, strings.Join(c.Warnings, "\n"), "one run on a side")
	require.Equal(t, "no regression", c.VerdictLine())
}

func TestCompareTolerancesOverride(t *testing.T) {
	base, cand := runs(setP99, 20.0), runs(setP99, 30.0)
	// A looser bound accepts the change; "off" drops the metric.
	c := Compare(base, cand, Tolerances{"latency.p99": {Rel: 0.6}})
	require.Equal(t, VerdictOK, metricOf(t, c, "a", "latency.p99").Verdict)
	c = Compare(base, cand, Tolerances{"latency.p99": {Off: true}})
	require.False(t, c.Regression)
	for _, m := range c.Architectures[0].Metrics {
		require.NotEqual(t, "latency.p99", m.Metric)
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		in   string
		name string
		want Tolerance
		err  string
	}{
		// relative and absolute together, absolute converted to ms
		{in: "latency.p99=15%,5ms", name: "latency.p99", want: Tolerance{Rel: 0.15, Abs: 5}},
		{in: "latency.p99=0.01s", name: "latency.p99", want: Tolerance{Abs: 10}},
		// seconds metric takes ms too
		{in: "recovery.seconds=500ms", name: "recovery.seconds", want: Tolerance{Abs: 0.5}},
		// ratios: absolute in percentage points
		{in: "errors.rate=1pp", name: "errors.rate", want: Tolerance{Abs: 0.01}},
		{in: "errors.rate=+10%", name: "errors.rate", want: Tolerance{Rel: 0.10}},
		// a correctness counter keeps comparing the worst run
		{in: "writes.duplicates=2", name: "writes.duplicates", want: Tolerance{Abs: 2, Worst: true}},
		{in: "requests.achieved_rate=10/s", name: "requests.achieved_rate", want: Tolerance{Abs: 10}},
		{in: "latency.max=off", name: "latency.max", want: Tolerance{Off: true}},
		// a bare ratio number is ambiguous between relative and pp
		{in: "errors.rate=0.5", err: "percentage points"},
		{in: "latency.p99", err: "want METRIC=BOUND"},
		{in: "latency.p90=10%", err: `unknown metric "latency.p90"`},
		{in: "latency.p99=fast", err: `"fast": want a number`},
		{in: "writes.lost=1ms", err: `unit "ms" does not fit writes.lost`},
		{in: "latency.p99=-5%", err: "not a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, tol, err := ParseTolerance(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.name, name)
			require.InDelta(t, tt.want.Rel, tol.Rel, 1e-12)
			require.InDelta(t, tt.want.Abs, tol.Abs, 1e-12)
			require.Equal(t, tt.want.Off, tol.Off)
			require.Equal(t, tt.want.Worst, tol.Worst)
		})
	}
}

// Every default names a metric that exists, so a renamed metric cannot
// silently stop being compared.
func TestDefaultTolerancesKnown(t *testing.T) {
	for name := range DefaultTolerances() {
		_, ok := LookupMetric(name)
		require.True(t, ok, name)
	}
}

func TestCompareOutputs(t *testing.T) {
	base := []Summary{fixtureSummary(), fixtureSummary()}
	worse := fixtureSummary()
	a := &worse.Architectures[0]
	a.Latency.P99 *= 2
	a.Checks["writes.duplicates"] = CheckResult{Value: 4}
	a.Faults[1].RecoveryS = nil
	cand := []Summary{worse, worse}
	c := Compare(base, cand, nil)
	require.True(t, c.Regression)

	var js bytes.Buffer
	require.NoError(t, c.WriteJSON(&js))
	require.Equal(t, "REGRESSION: stateless (latency.p99, recovery.seconds, writes.duplicates)", c.VerdictLine())

	// JSON keeps the infinite recovery readable and the rest numeric.
	var back map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, ComparisonSchema, back["schema"])
	require.Equal(t, true, back["regression"])
	require.Contains(t, js.String(), `"median": "+Inf"`)
}
