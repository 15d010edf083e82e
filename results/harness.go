package results

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
)

// Harness is how much of the architecture's latencies was the load engine's own (load.Harness): the send
// lag of every request, and the sampled breakdown of a traced request's life by stage. A reader of a
// 0.7 ms median sees here that, say, 0.4 ms of it passed before the request left the engine.
type Harness struct {
	// SendLag is planned → written (the first attempt's request on its connection), every request that
	// wrote one.
	SendLag LagMS `json:"send_lag"`
	// TraceEvery is the sampling: one request in TraceEvery was traced (0: none), Traced how many.
	TraceEvery int   `json:"trace_every"`
	Traced     int64 `json:"traced"`
	// Stages are the traced requests' stretches in order (wake, handoff, write, server, read); their
	// medians roughly add up to the median latency.
	Stages []StageMS `json:"stages,omitempty"`
}

// LagMS is a distribution in milliseconds, with how many values it holds.
type LagMS struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// StageMS is one stage of the traced requests (load.Stage): its name, what it spans, its distribution.
type StageMS struct {
	Stage string `json:"stage"`
	Span  string `json:"span"`
	LagMS
}

func lagOf(h *hdrhistogram.Histogram) LagMS {
	return LagMS{Count: h.TotalCount(), P50: usToMS(h.ValueAtQuantile(50)), P99: usToMS(h.ValueAtQuantile(99)),
		Max: usToMS(h.Max())}
}

// harnessSummary fills the harness's share from the load's result; a result without it (a summary
// rebuilt from an older run) leaves it absent.
func harnessSummary(a *Arch, in Input) {
	if in.Load == nil || in.Load.Harness.SendLag == nil || in.Load.Harness.SendLag.TotalCount() == 0 {
		return
	}
	h := in.Load.Harness
	out := &Harness{SendLag: lagOf(h.SendLag), TraceEvery: h.TraceEvery, Traced: h.Traced}
	for i, s := range h.Stages {
		if s != nil && s.TotalCount() > 0 {
			st := load.Stage(i)
			out.Stages = append(out.Stages, StageMS{Stage: st.String(), Span: st.Span(), LagMS: lagOf(s)})
		}
	}
	a.Harness = out
}
