package benchkit

import (
	"context"
	"fmt"
	"os"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
)

// This file is the benchmarks' only use of package load, kept small so
// that changes to the engine merge easily: Run, Config, Phase, Constant,
// Mix, HTTPGet, WithoutProgress, OnLive, NoRetry, NewHistogram, and from the Result
// the Totals, the latency histograms (whole run, and the steady phase), the
// Harness (the engine's own share: harness.go) and, to leave a warm-up out of
// the counts, the per-second Timeline.

// LateAfter is the lateness threshold of every benchmark, for every tool.
const LateAfter = 10 * time.Millisecond

// OursSpec is one run of our engine at a constant rate against GET url/.
type OursSpec struct {
	URL      string
	Rate     int
	Duration time.Duration // whole run, warm-up included
	// Warmup leaves the first seconds out of the Steady counts and of
	// P99Steady (whole seconds: the engine's timeline is per second of
	// planned time). The run is then two phases at the same rate,
	// "warmup" and "steady".
	Warmup        time.Duration
	Timeout       time.Duration // per attempt; 0: the engine's default
	NoRetry       bool          // one attempt per request
	MaxInFlight   int           // 0: the engine's default
	FixedInFlight bool
	// Live, when set, gets the engine's live seconds (load.OnLive), as the dashboard does.
	Live       func(load.Live)
	TraceEvery int  // Config.TraceEvery: 0 the engine's default (1 in 16)
	CoarseWake bool // load.WithCoarseWake: the scheduler on the runtime's timer alone, as before
}

// Counts of requests by planned time.
type Counts struct {
	Planned int64 `json:"planned"` // what the schedule asked for (rate × length)
	Sent    int64 `json:"sent"`
	Late    int64 `json:"late"` // sent more than LateAfter after plan
	Shed    int64 `json:"shed"` // not sent: planned - sent
	Errors  int64 `json:"errors"`
}

// OursResult is what one run measured; latencies are from the planned send
// time (the engine's own measure).
type OursResult struct {
	Rate   int           `json:"rate"`
	Whole  Counts        `json:"whole"`
	Steady Counts        `json:"steady"` // seconds from Warmup on
	Totals load.Totals   `json:"totals"`
	P50    time.Duration // whole run
	P99    time.Duration // whole run
	Max    time.Duration // whole run
	// P50Steady and P99Steady leave the warm-up out (P50, P99 when there is none).
	P50Steady, P99Steady time.Duration
	// Harness is the engine's own share of the latencies, whole run (harness.go).
	Harness Harness `json:"harness"`
}

// NewHistogram has the engine's cumulative geometry (microseconds from 1 µs
// to 120 s, 3 significant digits), so that every tool's percentiles are
// read the same way.
func NewHistogram() *hdrhistogram.Histogram { return load.NewHistogram() }

// RunOurs runs the engine in this process, with records, hlog and ledger
// written to a temporary run folder as in a real run.
func RunOurs(s OursSpec) (OursResult, error) {
	dir, err := os.MkdirTemp("", "bench-ours-")
	if err != nil {
		return OursResult{}, err
	}
	defer os.RemoveAll(dir)
	cfg := load.Config{BaseURL: s.URL, RunDir: dir, Seed: 1, LateAfter: LateAfter,
		Timeout: s.Timeout, MaxInFlight: s.MaxInFlight, FixedInFlight: s.FixedInFlight, TraceEvery: s.TraceEvery,
		Mix:    load.Mix{{Op: load.HTTPGet{OpName: "get", Path: "/"}, Weight: 1}},
		Phases: []load.Phase{{Name: "steady", Duration: s.Duration, Pacer: load.Constant(s.Rate)}}}
	skip := s.Warmup.Truncate(time.Second)
	if skip > 0 && skip < s.Duration {
		cfg.Phases = []load.Phase{{Name: "warmup", Duration: skip, Pacer: load.Constant(s.Rate)},
			{Name: "steady", Duration: s.Duration - skip, Pacer: load.Constant(s.Rate)}}
	} else {
		skip = 0
	}
	if s.NoRetry {
		cfg.Retry = load.NoRetry()
	}
	opts := []load.Option{load.WithoutProgress()}
	if s.Live != nil {
		opts = append(opts, load.OnLive(s.Live))
	}
	if s.CoarseWake {
		opts = append(opts, load.WithCoarseWake())
	}
	res, err := load.Run(context.Background(), cfg, opts...)
	if err != nil {
		return OursResult{}, err
	}
	tot := res.Totals
	h, steady := res.Latency("", ""), res.Latency("", "steady")
	out := OursResult{Rate: s.Rate, Totals: tot, Harness: harnessOf(res.Harness),
		P50:       time.Duration(h.ValueAtQuantile(50)) * time.Microsecond,
		P99:       time.Duration(h.ValueAtQuantile(99)) * time.Microsecond,
		Max:       time.Duration(h.Max()) * time.Microsecond,
		P50Steady: time.Duration(steady.ValueAtQuantile(50)) * time.Microsecond,
		P99Steady: time.Duration(steady.ValueAtQuantile(99)) * time.Microsecond}
	out.Whole = Counts{Planned: planned(s.Rate, s.Duration, tot.Planned), Sent: tot.Sent, Late: tot.Late,
		Errors: tot.Errors}
	out.Whole.Shed = max(0, out.Whole.Planned-tot.Sent)
	var steadyPlanned int64
	for _, sec := range res.Timeline {
		if sec.Second >= int(skip/time.Second) {
			steadyPlanned += sec.Planned
			out.Steady.Sent += sec.Sent
			out.Steady.Late += sec.Late
			out.Steady.Errors += sec.Errors
		}
	}
	out.Steady.Planned = planned(s.Rate, s.Duration-skip, steadyPlanned)
	out.Steady.Shed = max(0, out.Steady.Planned-out.Steady.Sent)
	return out, nil
}

// planned is what the rate asks for over d, as the engine counted it. The
// engine leaves out the request planned exactly at the end of the run, one
// less than rate·d; a schedule short by more than that counts rate·d, so
// that requests the scheduler never got round to planning count as not sent.
func planned(rate int, d time.Duration, engine int64) int64 {
	want := int64(float64(rate) * d.Seconds())
	if engine < want-1 {
		return want
	}
	return engine
}

// ShedNote says why the engine shed requests over the whole run, warm-up
// included ("" when it shed none).
func (r OursResult) ShedNote() string {
	t := r.Totals
	if t.Dropped == 0 {
		return ""
	}
	return fmt.Sprintf("engine shed %d in the whole run: %d at the in-flight limit (lowest %d), %d over max lateness",
		t.Dropped, t.DroppedInFlight, t.InFlightLimitLow, t.DroppedLate)
}
