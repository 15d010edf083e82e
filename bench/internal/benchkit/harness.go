package benchkit

import (
	"fmt"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
)

// Harness is our engine's own share of a run's latencies (load.Harness): the send lag of every request
// and the breakdown of the traced ones by stage, whose medians roughly add up to the latency's.
type Harness struct {
	SendLag    Dist    `json:"send_lag"`
	TraceEvery int     `json:"trace_every"`
	Traced     int64   `json:"traced"`
	Stages     []Stage `json:"stages"`
}

// Dist is a distribution's count, median, p99 and max.
type Dist struct {
	N             int64
	P50, P99, Max time.Duration
}

// Stage is one stage of the traced requests (load.Stage).
type Stage struct {
	Name, Span string
	Dist
}

func distOf(h *hdrhistogram.Histogram) Dist {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Dist{N: h.TotalCount(), P50: us(h.ValueAtQuantile(50)), P99: us(h.ValueAtQuantile(99)), Max: us(h.Max())}
}

func harnessOf(h load.Harness) Harness {
	out := Harness{TraceEvery: h.TraceEvery, Traced: h.Traced}
	if h.SendLag != nil {
		out.SendLag = distOf(h.SendLag)
	}
	for i, s := range h.Stages {
		if s != nil {
			st := load.Stage(i)
			out.Stages = append(out.Stages, Stage{Name: st.String(), Span: st.Span(), Dist: distOf(s)})
		}
	}
	return out
}

// Lines prints the breakdown, each line starting with indent; latencyP50 is the run's median latency,
// which the stages' medians are compared with.
func (h Harness) Lines(indent string, latencyP50 time.Duration) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }
	var b strings.Builder
	fmt.Fprintf(&b, "%ssend lag (planned -> written, %d requests): p50 %s  p99 %s  max %s ms; traced 1 in %d (%d):\n",
		indent, h.SendLag.N, ms(h.SendLag.P50), ms(h.SendLag.P99), ms(h.SendLag.Max), h.TraceEvery, h.Traced)
	var sum time.Duration
	for _, s := range h.Stages {
		fmt.Fprintf(&b, "%s  %-8s %-22s p50 %s  p99 %s  max %s ms\n", indent, s.Name, s.Span, ms(s.P50), ms(s.P99), ms(s.Max))
		sum += s.P50
	}
	fmt.Fprintf(&b, "%s  sum of the stages' p50 %s ms; latency p50 %s ms\n", indent, ms(sum), ms(latencyP50))
	return b.String()
}
