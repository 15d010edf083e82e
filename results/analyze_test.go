package results

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
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
	var recs []load.Record
	h := load.NewHistogram()
	res := &load.Result{Planned: 30 * time.Second, Hist: map[load.HistKey]*hdrhistogram.Histogram{}}
	for i := 0; i < 3000; i++ {
		p := time.Duration(i) * 10 * time.Millisecond
		r := load.Record{Seq: uint64(i), Op: "profile.read", Phase: "load", Planned: p, Latency: 5 * time.Millisecond,
			Class: "ok", Status: 200, Node: []string{"api-1", "api-2"}[i%2]}
		switch {
		case p >= sh.faultAt && p < sh.faultEnd:
			r.Latency = sh.slow
			if sh.failEvery > 0 && i%sh.failEvery == 0 {
				r.Class, r.Status, r.Code, r.Node = "http_5xx", 503, "state_store_unavailable", ""
				res.Totals.Errors++
			}
		case p >= sh.faultEnd && p < sh.faultEnd+sh.lag:
			r.Latency = sh.slow / 2
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
			perSec[sec] = hdrhistogram.New(1, 120_000_000, 2)
		}
		_ = perSec[sec].RecordValue(r.Latency.Microseconds())
		if r.Class != "ok" {
			fails[sec]++
		}
	}
	for s := 0; s < 30; s++ {
		sent := int64(100)
		if time.Duration(s)*time.Second < sh.faultAt && sh.sentShare > 0 {
			sent = int64(100 * sh.sentShare)
		}
		w := perSec[s]
		res.Timeline = append(res.Timeline, load.Second{Second: s, Phase: "load", Planned: 100, Sent: sent,
			Completed: w.TotalCount(), Errors: fails[s],
			P50: time.Duration(w.ValueAtQuantile(50)) * time.Microsecond,
			P99: time.Duration(w.ValueAtQuantile(99)) * time.Microsecond,
			Max: time.Duration(w.Max()) * time.Microsecond})
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
				Faults: []FaultRecord{{Kind: "kill", Target: "any-api", Resolved: "api-2", Start: tc.shape.faultAt, End: tc.shape.faultEnd}},
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
