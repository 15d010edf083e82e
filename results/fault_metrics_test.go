package results

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFaultThresholdParse(t *testing.T) {
	tests := []struct {
		expr   string
		metric string // the name summary.json's threshold records
		ref    FaultRef
		limit  float64
	}{
		// by index, 0-based as faults[0] in a scenario's errors; latency in ms
		{"faults[1].latency.p99 < 800ms", "faults[1].latency.p99", FaultRef{Index: 1}, 800},
		// by kind; a ratio in %
		{"faults[kill].errors.rate < 5%", "faults[kill].errors.rate", FaultRef{Index: -1, Kind: "kill"}, 0.05},
		// a kind with dashes; a lower bound
		{"faults[redis-outage].errors.rate > 0", "faults[redis-outage].errors.rate", FaultRef{Index: -1, Kind: "redis-outage"}, 0},
		// seconds convert to ms for a window's percentile
		{"faults[0].latency.max <= 2s", "faults[0].latency.max", FaultRef{Index: 0}, 2000},
		// counts of the window: sent, failed, retried, dropped
		{"faults[0].requests.sent >= 1000", "faults[0].requests.sent", FaultRef{Index: 0}, 1000},
		{"faults[0].errors.count == 0", "faults[0].errors.count", FaultRef{Index: 0}, 0},
		{"faults[2].requests.retries < 500", "faults[2].requests.retries", FaultRef{Index: 2}, 500},
		{"faults[0].requests.dropped == 0", "faults[0].requests.dropped", FaultRef{Index: 0}, 0},
		// one fault's recovery, in seconds
		{"faults[clock-skew].recovery.seconds < 5000ms", "faults[clock-skew].recovery.seconds", FaultRef{Index: -1, Kind: "clock-skew"}, 5},
		// whitespace around the parts is optional, as for whole-run metrics
		{"  faults[10].latency.p95<100", "faults[10].latency.p95", FaultRef{Index: 10}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := ParseThreshold(tt.expr)
			require.NoError(t, err)
			require.Equal(t, tt.metric, e.Metric.Name)
			require.NotNil(t, e.Fault)
			require.Equal(t, tt.ref, *e.Fault)
			require.InDelta(t, tt.limit, e.Limit, 1e-9)
			// The recorded name finds the same metric again (reports format values by it).
			m, err := LookupThresholdMetric(e.Metric.Name)
			require.NoError(t, err)
			require.Equal(t, e.Metric.Kind, m.Kind)
		})
	}
	// A whole-run metric has no fault.
	e, err := ParseThreshold("errors.rate < 1%")
	require.NoError(t, err)
	require.Nil(t, e.Fault)
}

func TestFaultThresholdParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		column int
		token  string
		msg    string
	}{
		// the short form is refused with the one name to write: one name per metric
		{"faults[1].p99 < 800ms", 11, "p99", "write faults[1].latency.p99"},
		// a whole-run metric has no per-fault value
		{"faults[0].writes.lost == 0", 11, "writes.lost", "writes.lost is measured over the whole run, not per fault"},
		// an unknown name lists the window's metrics
		{"faults[0].cpu < 3", 11, "cpu", "known: errors.count, errors.rate, latency.max"},
		// no metric after the selector
		{"faults[0] < 3", 10, " < 3", "want a metric after faults[0], e.g. faults[0].errors.rate"},
		{"faults[0]. < 3", 11, "", "want a metric after faults[0]."},
		// the selector: empty, negative, leading zeros, upper case, unclosed
		{"faults[].errors.rate < 1%", 8, "", "empty faults[]: want an index from 0"},
		{"faults[-1].errors.rate < 1%", 8, "-1", "faults[-1]: want an index from 0"},
		{"faults[01].errors.rate < 1%", 8, "01", "faults[01]: want an index from 0"},
		{"faults[Kill].errors.rate < 1%", 8, "Kill", "faults[Kill]: want an index from 0"},
		{"faults[0.errors.rate < 1%", 1, "faults[0.errors.rate < 1%", "faults[ has no closing ]"},
		// the unit must fit the window's metric as it fits the run's
		{"faults[0].latency.p99 < 5%", 26, "%", `unit "%" does not fit faults[0].latency.p99, which is a duration in ms`},
		{"faults[0].errors.rate < 5", 25, "5", "faults[0].errors.rate is a ratio 0..1: write 5% or 0.05"},
		// a dotted guess at the syntax names the right one
		{"faults.kill.errors.rate < 1%", 1, "faults.kill.errors.rate", "faults[INDEX].METRIC or faults[KIND].METRIC"},
		// the column counts the user's leading spaces
		{"  faults[0].p50 < 3ms", 13, "p50", "write faults[0].latency.p50"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseThreshold(tt.expr)
			require.Error(t, err)
			var te *ThresholdError
			require.True(t, errors.As(err, &te), "error type %T", err)
			require.Equal(t, tt.column, te.Column, err.Error())
			require.Equal(t, tt.token, te.Token)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestFaultRefResolve(t *testing.T) {
	kinds := []string{"clock-skew", "kill", "clock-skew"}
	tests := []struct {
		ref   FaultRef
		kinds []string
		want  int
		err   string
	}{
		// an index in range
		{FaultRef{Index: 2}, kinds, 2, ""},
		// an index past the faults names the ones there are
		{FaultRef{Index: 3}, kinds, -1, "faults[3]: the scenario has 3 faults, faults[0] to faults[2] (faults[0] clock-skew, faults[1] kill, faults[2] clock-skew)"},
		{FaultRef{Index: 0}, nil, -1, "faults[0]: the scenario has no faults"},
		// a kind that one fault has
		{FaultRef{Index: -1, Kind: "kill"}, kinds, 1, ""},
		// a kind no fault has
		{FaultRef{Index: -1, Kind: "pause"}, kinds, -1, "faults[pause]: the scenario has no pause fault (faults[0] clock-skew, faults[1] kill, faults[2] clock-skew)"},
		{FaultRef{Index: -1, Kind: "kill"}, nil, -1, "faults[kill]: the scenario has no faults"},
		// a kind several faults share is ambiguous: "the worst of them" would make a lower bound lax
		{FaultRef{Index: -1, Kind: "clock-skew"}, kinds, -1, "faults[clock-skew] is ambiguous: faults[0], faults[2] are all clock-skew; name one by its index, e.g. faults[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.ref.String(), func(t *testing.T) {
			got, err := tt.ref.Resolve(tt.kinds)
			require.Equal(t, tt.want, got)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.err)
		})
	}
}

func TestFaultThresholdEval(t *testing.T) {
	tests := []struct {
		expr       string
		change     func(*Arch) // nil: testArch as it is
		ok         bool
		value      float64 // as stored: -1 for not measured or infinite
		unmeasured bool
		detail     string
	}{
		// the kill's window, by kind and by index: the same numbers
		{"faults[kill].errors.rate < 5%", nil, true, 0.031, false, ""},
		{"faults[0].errors.rate < 3%", nil, false, 0.031, false, ""},
		// the pause's window, not the run's p99 (250 ms)
		{"faults[pause].latency.p99 < 800ms", nil, false, 810, false, ""},
		{"faults[1].latency.p50 <= 5ms", nil, true, 5, false, ""},
		{"faults[0].latency.p95 < 100ms", nil, false, 120, false, ""},
		{"faults[1].latency.max < 2s", nil, false, 2100, false, ""},
		// the window's counts
		{"faults[0].errors.count == 62", nil, true, 62, false, ""},
		{"faults[0].requests.sent >= 2000", nil, true, 2000, false, ""},
		{"faults[0].requests.retries > 100", nil, true, 140, false, ""},
		{"faults[0].requests.dropped == 0", nil, false, 2, false, ""},
		// one fault's recovery, not the slowest of all (7 s)
		{"faults[kill].recovery.seconds < 5", nil, true, 3.5, false, ""},
		// a fault that never recovered is infinite: an upper bound fails, and the detail names it
		{"faults[1].recovery.seconds < 1000", func(a *Arch) { a.Faults[1].RecoveryS = nil }, false, -1, false, "not recovered: pause api-1 at 40s"},
		// a fault that did not run is not measured, whatever the operator: never a 0 that passes
		{"faults[0].errors.rate >= 0", func(a *Arch) { a.Faults[0].Error = "no such container"; a.Faults[0].During = Window{} },
			false, -1, true, "not measured: faults[0] (kill on api-2) did not run as planned (no such container)"},
		{"faults[kill].requests.sent == 0", func(a *Arch) { a.Faults[0].Error = "refused"; a.Faults[0].During = Window{} },
			false, -1, true, "not measured: faults[kill] (kill on api-2) did not run as planned (refused)"},
		// a window no request was sent in measured no rate and no percentile...
		{"faults[1].errors.rate < 1%", func(a *Arch) { a.Faults[1].During = Window{FromS: 40, ToS: 45} },
			false, -1, true, "not measured: no request was sent during faults[1] (pause on api-1, 40-45s)"},
		{"faults[1].latency.p99 < 1s", func(a *Arch) { a.Faults[1].During = Window{FromS: 40, ToS: 45} }, false, -1, true, "not measured: no request was sent during faults[1]"},
		// ...but its count of requests is a measurement: none
		{"faults[1].requests.sent > 0", func(a *Arch) { a.Faults[1].During = Window{FromS: 40, ToS: 45} }, false, 0, false, ""},
		// a run that holds fewer faults than the scenario named (an old summary), or none of the kind
		{"faults[2].errors.rate < 1%", nil, false, -1, true, "not measured: faults[2]: the scenario has 2 faults"},
		{"faults[kill].errors.rate < 1%", func(a *Arch) { a.Faults = nil }, false, -1, true, "not measured: faults[kill]: the scenario has no faults"},
		// two faults of the kind: never the worst or the first, not measured
		{"faults[kill].errors.rate < 100%", func(a *Arch) { a.Faults[1].Kind = "kill" }, false, -1, true, "not measured: faults[kill] is ambiguous"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			a := testArch()
			if tt.change != nil {
				tt.change(&a)
			}
			e, err := ParseThreshold(tt.expr)
			require.NoError(t, err)
			got := e.Eval(a)
			require.Equal(t, tt.ok, got.OK)
			require.InDelta(t, tt.value, got.Value, 1e-9)
			require.Equal(t, tt.unmeasured, got.Unmeasured)
			require.Equal(t, e.Metric.Name, got.Metric)
			if tt.detail == "" {
				require.Empty(t, got.Detail)
			} else {
				require.Contains(t, got.Detail, tt.detail)
			}
			_, err = json.Marshal(got)
			require.NoError(t, err, "summary.json must hold it")
			// The reports format it in the window metric's unit, or say it was not measured.
			switch v := ThresholdValue(got); {
			case tt.unmeasured:
				require.Equal(t, "not measured", v)
			case math.IsInf(e.Metric.Value(a), 1):
				require.Equal(t, "∞ (not recovered)", v)
			}
		})
	}
}

func TestFaultMetricNames(t *testing.T) {
	names := FaultMetricNames()
	require.Equal(t, []string{"errors.count", "errors.rate", "latency.max", "latency.p50", "latency.p95", "latency.p99",
		"recovery.seconds", "requests.dropped", "requests.retries", "requests.sent"}, names)
	for _, n := range names {
		require.NotEmpty(t, faultMetricByName[n].help, n)
		// A name the run has too means the same kind of thing over the fault's window.
		if m, ok := LookupMetric(n); ok {
			require.Equal(t, m.Kind, faultMetricByName[n].kind, n)
		}
	}
	_, err := LookupThresholdMetric("faults[0].latency.p99 < 3")
	require.Error(t, err, "a name, not an expression")
}
