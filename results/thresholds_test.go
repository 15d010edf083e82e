package results

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func f64(v float64) *float64 { return &v }

// testArch is a small architecture whose every metric has a distinct value,
// so that a threshold reading the wrong field cannot pass by accident.
func testArch() Arch {
	return Arch{
		Name:         "stateless",
		Valid:        true,
		Requests:     Requests{Planned: 1000, Sent: 990, OK: 980, Failed: 10, Dropped: 10, Late: 3, Retries: 25, PlannedRate: 500, AchievedRate: 495},
		Latency:      LatencyMS{P50: 4, P95: 30, P99: 250, P999: 800, Max: 1200, Mean: 9},
		ErrorRate:    0.0101,
		Availability: 0.995,
		Checks: Findings{"writes.acknowledged": {Value: 300}, "writes.duplicates": {}, "writes.lost": {}, "writes.indeterminate": {Value: 5},
			"writes.rejected": {}, "writes.indeterminate_applied": {}, "updates.acknowledged": {Value: 100}, "updates.lost": {Value: 2},
			"updates.extra": {}, "sessions.total": {Value: 50}, "sessions.lost": {}},
		Faults: []Fault{
			{Kind: "kill", Target: "any-api", Resolved: "api-2", StartS: 20, EndS: 30, RecoveryS: f64(3.5), Dropped: 2,
				During: Window{FromS: 20, ToS: 30, Requests: 2000, Errors: 62, ErrorRate: 0.031, Retries: 140, P50MS: 6, P95MS: 120, P99MS: 640, MaxMS: 1900}},
			{Kind: "pause", Target: "api-1", StartS: 40, EndS: 45, RecoveryS: f64(7),
				During: Window{FromS: 40, ToS: 45, Requests: 1000, Errors: 3, ErrorRate: 0.003, Retries: 11, P50MS: 5, P95MS: 90, P99MS: 810, MaxMS: 2100}},
		},
	}
}

func TestThresholdEval(t *testing.T) {
	a := testArch()
	tests := []struct {
		expr  string
		ok    bool
		value float64
	}{
		// latency is in ms; 250 < 300 holds
		{"latency.p99 < 300ms", true, 250},
		// seconds convert to ms: 250ms < 0.2s is false
		{"latency.p99 < 0.2s", false, 250},
		// boundary: <= holds on equality, < does not
		{"latency.p50 <= 4ms", true, 4},
		{"latency.p50 < 4ms", false, 4},
		// a bare number is the metric's own unit (ms)
		{"latency.max<1500", true, 1200},
		// 1.01% is not under 1%
		{"errors.rate < 1%", false, 0.0101},
		// a ratio may be written as a fraction
		{"errors.rate < 0.02", true, 0.0101},
		{"availability >= 99.5%", true, 0.995},
		{"writes.duplicates == 0", true, 0},
		{"writes.lost == 0", true, 0},
		{"writes.indeterminate <= 5", true, 5},
		// 2 lost updates break "== 0" and satisfy "!= 0"
		{"updates.lost == 0", false, 2},
		{"updates.lost != 0", true, 2},
		{"sessions.lost == 0", true, 0},
		// recovery is the max over faults (7 s), in seconds
		{"recovery.seconds < 10", true, 7},
		{"recovery.seconds < 5s", false, 7},
		// ms convert to seconds for a seconds metric
		{"recovery.seconds < 7500ms", true, 7},
		{"requests.dropped == 0", false, 10},
		{"requests.achieved_rate >= 450", true, 495},
		{"requests.achieved_rate >= 450/s", true, 495},
		{"requests.achieved_ratio >= 99%", true, 0.99},
		// surrounding whitespace is ignored
		{"  latency.p95 > 10ms  ", true, 30},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := ParseThreshold(tt.expr)
			require.NoError(t, err)
			got := e.Eval(a)
			require.Equal(t, tt.ok, got.OK)
			require.InDelta(t, tt.value, got.Value, 1e-9)
			require.Empty(t, got.Detail)
		})
	}
}

// A fault that never recovered counts as infinite: every upper bound fails,
// and the stored value stays JSON-encodable.
func TestThresholdNotRecovered(t *testing.T) {
	a := testArch()
	a.Faults[1].RecoveryS = nil
	e, err := ParseThreshold("recovery.seconds < 1000")
	require.NoError(t, err)
	got := e.Eval(a)
	require.False(t, got.OK)
	require.Equal(t, -1.0, got.Value)
	require.Equal(t, "not recovered: pause api-1 at 40s", got.Detail)
	_, err = json.Marshal(got)
	require.NoError(t, err)

	// A fault that did not happen is not measured, and fails whatever the
	// operator: before, it was skipped and the recovery read 0.0 s, a pass.
	a.Faults[1].Error = "no such container"
	for _, expr := range []string{"recovery.seconds < 1000", "recovery.seconds != 0", "recovery.seconds >= 0"} {
		e, err := ParseThreshold(expr)
		require.NoError(t, err)
		got = e.Eval(a)
		require.False(t, got.OK, expr)
		require.True(t, got.Unmeasured, expr)
		require.Equal(t, -1.0, got.Value, expr)
		require.Contains(t, got.Detail, "not measured: pause on api-1 did not run as planned (no such container)", expr)
	}

	// No faults at all: nothing recovered, so nothing is measured.
	require.True(t, math.IsNaN(MaxRecovery(Arch{})))
	require.True(t, math.IsInf(MaxRecovery(Arch{Faults: []Fault{{Kind: "kill"}}}), 1))
}

func TestThresholdParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		column int
		token  string
		msg    string
	}{
		// a typo names the metrics of the same family
		{"latency.p90 < 3ms", 1, "latency.p90", `unknown metric "latency.p90"; known: latency.max, latency.mean, latency.p50`},
		// an unknown family lists every metric
		{"cpu < 3", 1, "cpu", "known: availability, errors.count"},
		// the column counts the user's leading spaces
		{"  latency.p99 300ms", 15, "300ms", "want an operator"},
		{"latency.p99 => 300ms", 13, "=>", `unknown operator "=>"`},
		{"latency.p99 < fast", 15, "fast", "want a number"},
		// a percentage does not fit a latency
		{"latency.p99 < 3%", 16, "%", `unit "%" does not fit latency.p99, which is a duration in ms; use ms or s`},
		// a duration does not fit a count
		{"writes.lost == 0s", 17, "s", "use a plain number"},
		// "99.5" for a ratio is almost certainly meant as percent
		{"availability >= 99.5", 17, "99.5", "write 99.5% or 0.995"},
		{"requests.achieved_rate >= 450rps", 30, "rps", "use a plain number or /s"},
		{"", 1, "", "empty threshold"},
		{"< 3", 1, "<", "want a metric name first"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseThreshold(tt.expr)
			require.Error(t, err)
			var te *ThresholdError
			require.True(t, errors.As(err, &te), "error type %T", err)
			require.Equal(t, tt.column, te.Column)
			require.Equal(t, tt.token, te.Token)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

// Scenario decoders hold an Expr directly through encoding.TextUnmarshaler.
func TestThresholdText(t *testing.T) {
	var v struct{ T []Expr }
	require.NoError(t, json.Unmarshal([]byte(`{"T":["writes.lost == 0","latency.p99<1s"]}`), &v))
	require.Len(t, v.T, 2)
	require.Equal(t, 1000.0, v.T[1].Limit)
	out, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"T":["writes.lost == 0","latency.p99<1s"]}`, string(out))

	err = json.Unmarshal([]byte(`{"T":["writes.lots == 0"]}`), &v)
	var te *ThresholdError
	require.True(t, errors.As(err, &te))
}

func TestMetricsListed(t *testing.T) {
	ms := Metrics()
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.NotEmpty(t, m.Help, m.Name)
		if i > 0 {
			require.Less(t, ms[i-1].Name, m.Name, "sorted, no duplicates")
		}
		_, ok := LookupMetric(m.Name)
		require.True(t, ok)
	}
}

// TestThresholdNotChecked: a check recorded as not checked (a declared scenario's run) is not measured, and
// its threshold fails whatever the operator, its reason in the detail; never a measured 0.
func TestThresholdNotChecked(t *testing.T) {
	var a Arch
	NotChecked("declared ops: no contract orders").Fill(&a)
	for _, c := range Checks() {
		require.Equal(t, "declared ops: no contract orders", a.Checks[c.Name].NotChecked, c.Name)
	}
	for _, expr := range []string{"writes.duplicates == 0", "writes.lost <= 0", "updates.lost != 1", "sessions.lost >= 0"} {
		e, err := ParseThreshold(expr)
		require.NoError(t, err)
		got := e.Eval(a)
		require.False(t, got.OK, expr)
		require.True(t, got.Unmeasured, expr)
		require.Equal(t, "not checked: declared ops: no contract orders", got.Detail, expr)
	}
}
