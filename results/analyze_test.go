package results

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/require"
)

// shape describes a synthetic 30 s run at 100/s with 5 ms latency, except
// during a fault (slow, and every failEvery-th request fails) and for lag
// after it (slow/2: the service still recovering).
type shape struct {
	faultAt, faultEnd, lag time.Duration
	slow                   time.Duration
	failEvery              int
	sentShare              float64 // share of planned actually sent before the fault (validity)
}

func synthetic(sh shape) (*load.Result, func(func(load.Record) error) error) {
	return syntheticRun(sh.sentShare, sh.faultAt, func(i int, r *load.Record) {
		switch p := r.Planned; {
		case p >= sh.faultAt && p < sh.faultEnd:
			r.Latency = sh.slow
			if sh.failEvery > 0 && i%sh.failEvery == 0 {
				r.Class, r.Status, r.Code, r.Node = "http_5xx", 503, "state_store_unavailable", ""
			}
		case p >= sh.faultEnd && p < sh.faultEnd+sh.lag:
			r.Latency = sh.slow / 2
		}
	})
}

// syntheticRun is a 30 s run at 100/s with 5 ms latency that shape changes
// request by request; sentShare < 1 sends less than planned before weakAt.
func syntheticRun(sentShare float64, weakAt time.Duration, shape func(i int, r *load.Record)) (*load.Result, func(func(load.Record) error) error) {
	var recs []load.Record
	h := load.NewHistogram()
	res := &load.Result{Planned: 30 * time.Second, Hist: map[load.HistKey]*hdrhistogram.Histogram{}}
	for i := 0; i < 3000; i++ {
		p := time.Duration(i) * 10 * time.Millisecond
		r := load.Record{Seq: uint64(i), Op: "profile.read", Phase: "load", Planned: p, Latency: 5 * time.Millisecond,
			Class: "ok", Status: 200, Node: []string{"api-1", "api-2"}[i%2]}
		shape(i, &r)
		if r.Class != "ok" {
			res.Totals.Errors++
		}
		_ = h.RecordValue(r.Latency.Microseconds())
		recs = append(recs, r)
	}
	res.Hist[load.HistKey{Op: "profile.read", Phase: "load"}] = h
	// The engine's timeline, filled as its per-second windows are (by planned time).
	perSec := map[int]*hdrhistogram.Histogram{}
	fails := map[int]int64{}
	for _, r := range recs {
		sec := int(r.Planned / time.Second)
		if perSec[sec] == nil {
			perSec[sec] = load.NewWindowHistogram()
		}
		_ = perSec[sec].RecordValue(r.Latency.Microseconds())
		if r.Class != "ok" {
			fails[sec]++
		}
	}
	for s := 0; s < 30; s++ {
		sent := int64(100)
		if time.Duration(s)*time.Second < weakAt && sentShare > 0 {
			sent = int64(100 * sentShare)
		}
		w := perSec[s]
		res.Timeline = append(res.Timeline, load.Second{Second: s, Phase: "load",
			Counts: load.Counts{Planned: 100, Sent: sent, Completed: w.TotalCount(), Errors: fails[s]},
			P50:    time.Duration(w.ValueAtQuantile(50)) * time.Microsecond,
			P99:    time.Duration(w.ValueAtQuantile(99)) * time.Microsecond,
			Max:    time.Duration(w.Max()) * time.Microsecond})
		res.Totals.Planned += 100
		res.Totals.Sent += sent
	}
	res.Totals.Completed = res.Totals.Sent
	return res, func(fn func(load.Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestAnalyzeFaultWindowsAndRecovery(t *testing.T) {
	cases := []struct {
		name      string
		shape     shape
		wantValid bool
		// wantRecovery < 0 means "not recovered".
		wantRecovery float64
	}{
		// Latency is back to normal the second the fault ends.
		{"immediate", shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, slow: 200 * time.Millisecond, failEvery: 10}, true, 0},
		// Three seconds of lingering slowness after the fault.
		{"lagging", shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, lag: 3 * time.Second, slow: 200 * time.Millisecond}, true, 3},
		// Still slow when the run ends: not recovered, which the threshold must treat as a failure.
		{"never", shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, lag: 20 * time.Second, slow: 200 * time.Millisecond}, true, -1},
		// The generator sent 80% of the plan before the fault: the run is invalid.
		{"too weak", shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, slow: 50 * time.Millisecond, sentShare: 0.8}, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, recs := synthetic(tc.shape)
			expr, err := ParseThreshold("recovery.seconds < 10")
			require.NoError(t, err)
			a, err := Analyze(Input{
				Name: "x", Load: res, Records: recs, Thresholds: []Expr{expr},
				Faults: []chaos.Injection{{Kind: "kill", Target: "any-api", Resolved: "api-2", Start: tc.shape.faultAt, End: tc.shape.faultEnd}},
			})
			require.NoError(t, err)
			require.Equal(t, tc.wantValid, a.Valid, a.InvalidReasons)
			require.Len(t, a.Faults, 1)
			f := a.Faults[0]
			require.Equal(t, 10.0, f.StartS)
			require.Equal(t, 15.0, f.EndS)
			// The windows are as long as the fault (5 s at 100/s).
			require.EqualValues(t, 500, f.Before.Requests)
			require.EqualValues(t, 500, f.During.Requests)
			require.InDelta(t, 5, f.Before.P99MS, 0.1)
			require.InDelta(t, tc.shape.slow.Seconds()*1000, f.During.P99MS, tc.shape.slow.Seconds()*10)
			if tc.wantRecovery < 0 {
				require.Nil(t, f.RecoveryS)
				require.False(t, a.Thresholds[0].OK, "a fault that never recovered fails recovery.seconds")
			} else {
				require.NotNil(t, f.RecoveryS)
				require.InDelta(t, tc.wantRecovery, *f.RecoveryS, 0.01)
				require.True(t, a.Thresholds[0].OK)
			}
		})
	}
}

func TestAnalyzeTimelineErrorsAndNodes(t *testing.T) {
	res, recs := synthetic(shape{faultAt: 10 * time.Second, faultEnd: 20 * time.Second, slow: 10 * time.Millisecond, failEvery: 1})
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs})
	require.NoError(t, err)
	require.Len(t, a.Timeline, 30)
	require.EqualValues(t, 100, a.Timeline[0].OK)
	require.EqualValues(t, 0, a.Timeline[12].OK, "every request failed during the fault")
	require.EqualValues(t, 100, a.Timeline[12].Errors)
	require.InDelta(t, 5, a.Timeline[0].P99MS, 0.1)
	// 10 of 30 seconds were all errors.
	require.InDelta(t, 20.0/30, a.Availability, 0.001)
	require.EqualValues(t, 1000, a.Errors["state_store_unavailable"])
	require.EqualValues(t, 1000, a.PerNode["api-1"])
	require.InDelta(t, 1000.0/3000, a.ErrorRate, 1e-9)
}

// TestAnalyzeBaselineSkipsEarlierFault: a fault's baseline is steady state.
// Before, the kill's "before" window held the packet loss that ended 2 s
// earlier (p99 1.5 s), so the kill, which left the service slow for 4 s,
// "recovered" at once.
func TestAnalyzeBaselineSkipsEarlierFault(t *testing.T) {
	ms := time.Millisecond
	res, recs := syntheticRun(1, 0, func(_ int, r *load.Record) {
		switch p := r.Planned; {
		case p >= 5*time.Second && p < 10*time.Second: // the packet loss
			r.Latency = 1500 * ms
		case p >= 10*time.Second && p < 11*time.Second: // its recovery
			r.Latency = 600 * ms
		case p >= 12*time.Second && p < 15*time.Second: // the kill, right after
			r.Latency = 200 * ms
		case p >= 15*time.Second && p < 19*time.Second: // four slow seconds after it
			r.Latency = 100 * ms
		}
	})
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs, Faults: []chaos.Injection{
		{Kind: "packet-loss", Target: "api-1", Start: 5 * time.Second, End: 10 * time.Second},
		{Kind: "kill", Target: "api-2", Start: 12 * time.Second, End: 15 * time.Second},
		// Far from both: the stretch just before it is clean and is its own baseline.
		{Kind: "pause", Target: "api-3", Start: 25 * time.Second, End: 26 * time.Second},
	}})
	require.NoError(t, err)
	loss, kill, pause := a.Faults[0], a.Faults[1], a.Faults[2]
	require.NotNil(t, loss.RecoveryS)
	require.InDelta(t, 9, *loss.RecoveryS, 0.01, "3 healthy seconds in a row first start at 19 s: the kill came before the loss's")

	// The kill's baseline (9-12 s) overlaps the loss and its recovery: it takes the first fault's, 0-5 s.
	require.Equal(t, 0.0, kill.Before.FromS)
	require.Equal(t, 5.0, kill.Before.ToS)
	require.True(t, kill.BaselineOfFirst)
	require.False(t, loss.BaselineOfFirst)
	require.InDelta(t, 5, kill.Before.P99MS, 0.1)
	require.NotNil(t, kill.RecoveryS)
	require.InDelta(t, 4, *kill.RecoveryS, 0.01, "judged against steady state, the kill took 4 s to recover")

	require.Equal(t, 24.0, pause.Before.FromS)
	require.Equal(t, 25.0, pause.Before.ToS)
	require.EqualValues(t, 100, pause.Before.Requests)
}

// TestAnalyzeDroppedRequestsInvalidate: requests the harness never sent are
// not measured; past MaxDroppedShare within a fault the run is invalid, even
// when the run as a whole dropped less.
func TestAnalyzeDroppedRequestsInvalidate(t *testing.T) {
	res, recs := synthetic(shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, slow: 2 * time.Second})
	for s := 10; s < 13; s++ { // 15 of the 500 planned during the fault: 3%
		res.Timeline[s].Dropped, res.Timeline[s].Sent = 5, 95
	}
	res.Totals.Dropped, res.Totals.Sent = 15, res.Totals.Sent-15 // 0.5% of the run
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs,
		Faults: []chaos.Injection{{Kind: "pause", Target: "api-1", Start: 10 * time.Second, End: 15 * time.Second}}})
	require.NoError(t, err)
	require.False(t, a.Valid)
	require.EqualValues(t, 15, a.Faults[0].Dropped)
	require.Len(t, a.InvalidReasons, 1)
	require.Contains(t, a.InvalidReasons[0], "during pause on api-1 (10-15s) the harness dropped 15 of 500 planned requests")
	st, _ := ArchStatus(a)
	require.Equal(t, StatusInvalid, st)

	// Over the whole run too.
	res.Totals.Dropped = 40
	a, err = Analyze(Input{Name: "x", Load: res, Records: recs})
	require.NoError(t, err)
	require.False(t, a.Valid)
	require.Contains(t, a.InvalidReasons[0], "the harness dropped 40 of 3000 planned requests")
}

// TestAnalyzeFaultThatDidNotRun: before, a fault that failed at injection
// left "recovery 0.0 s" and a passing run.
func TestAnalyzeFaultThatDidNotRun(t *testing.T) {
	res, recs := synthetic(shape{faultAt: 10 * time.Second, faultEnd: 15 * time.Second, slow: 5 * time.Millisecond})
	thr := []Expr{}
	for _, x := range []string{"recovery.seconds < 5", "errors.rate < 1%"} {
		e, err := ParseThreshold(x)
		require.NoError(t, err)
		thr = append(thr, e)
	}
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs, Thresholds: thr, Faults: []chaos.Injection{
		{Kind: "redis-outage", Target: "redis", Start: 4 * time.Second, End: 4 * time.Second, Ready: -1,
			Error: "inject redis-outage on redis: kill redis: no such container"}}})
	require.NoError(t, err)
	require.False(t, a.Valid)
	require.Contains(t, a.InvalidReasons[0], "fault redis-outage on redis did not run as planned: inject redis-outage")
	f := a.Faults[0]
	require.Nil(t, f.RecoveryS)
	require.Nil(t, f.ReadyAfterS)
	require.Zero(t, f.Before.Requests, "nothing around a fault that did not happen is measured")
	require.False(t, a.Thresholds[0].OK)
	require.True(t, a.Thresholds[0].Unmeasured)
	require.True(t, a.Thresholds[1].OK)
	st, why := ArchStatus(a)
	require.Equal(t, StatusInvalid, st)
	require.Contains(t, why[0], "did not run as planned")
}

// TestAnalyzeBaselineEndsWhereTheInjectionBegins: the baseline holds only
// requests answered before the injection began. Before, it ran to the
// moment the injection returned, and took in requests planned just before a
// packet loss that then waited through it (baseline p99 211 ms in the demo,
// against 7 ms of steady state).
func TestAnalyzeBaselineEndsWhereTheInjectionBegins(t *testing.T) {
	res, recs := syntheticRun(1, 0, func(_ int, r *load.Record) {
		p := r.Planned
		switch {
		case p >= 9500*time.Millisecond && p < 10*time.Second: // still waiting when the loss began
			r.Latency = time.Second
		case p >= 10*time.Second && p < 15*time.Second:
			r.Latency = 800 * time.Millisecond
		}
	})
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs, Faults: []chaos.Injection{
		{Kind: "packet-loss", Target: "api-2", Begin: 10 * time.Second, Start: 10400 * time.Millisecond, End: 15 * time.Second}}})
	require.NoError(t, err)
	f := a.Faults[0]
	require.Equal(t, 10.0, f.Before.ToS, "the baseline ends where the injection began")
	require.False(t, f.BaselineOfFirst, "its own")
	require.InDelta(t, 5, f.Before.P99MS, 0.1, "requests caught by the fault are not steady state")
	require.EqualValues(t, 410, f.Before.Requests, "5.4-9.5 s (as long as the fault): answered before the injection began")
}

// TestAnalyzeFaultThresholds: a threshold on one fault reads that fault's window as Analyze measures it
// (errors, retries, p95 and max of the requests planned during it), not the run's.
func TestAnalyzeFaultThresholds(t *testing.T) {
	res, recs := syntheticRun(1, 0, func(i int, r *load.Record) {
		r.Attempts, r.Calls = 1, 1
		switch p := r.Planned; {
		case p >= 10*time.Second && p < 15*time.Second: // the kill: slow, every 10th fails after 3 attempts
			r.Latency = 100 * time.Millisecond
			if i%10 == 0 {
				r.Class, r.Status, r.Attempts = "http_5xx", 502, 3
			}
		case p >= 20*time.Second && p < 22*time.Second: // the pause: one slow request, no error
			if i == 2050 {
				r.Latency = 900 * time.Millisecond
			}
		}
	})
	var exprs []Expr
	for _, x := range []string{"faults[kill].errors.rate > 5%", "faults[0].requests.retries == 100", "faults[1].errors.count == 0",
		"faults[pause].latency.max >= 900ms", "faults[1].latency.p95 < 10ms", "errors.rate < 5%"} {
		e, err := ParseThreshold(x)
		require.NoError(t, err)
		exprs = append(exprs, e)
	}
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs, Thresholds: exprs, Faults: []chaos.Injection{
		{Kind: "kill", Target: "any-api", Resolved: "api-2", Start: 10 * time.Second, End: 15 * time.Second},
		{Kind: "pause", Target: "api-1", Start: 20 * time.Second, End: 22 * time.Second}}})
	require.NoError(t, err)
	kill := a.Faults[0].During
	require.EqualValues(t, 500, kill.Requests)
	require.EqualValues(t, 50, kill.Errors)
	require.EqualValues(t, 100, kill.Retries, "two extra attempts for each of the 50")
	require.InDelta(t, 0.1, kill.ErrorRate, 1e-9)
	require.InDelta(t, 100, kill.P95MS, 1)
	require.InDelta(t, 100, kill.MaxMS, 1)
	pause := a.Faults[1].During
	require.InDelta(t, 900, pause.MaxMS, 1)
	require.InDelta(t, 5, pause.P95MS, 0.1)
	for _, th := range a.Thresholds {
		require.True(t, th.OK, "%s: %g %s", th.Expr, th.Value, th.Detail)
	}
	require.InDelta(t, 50.0/3000, a.ErrorRate, 1e-9, "the run's error rate is diluted 6 times")
}
