package results

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
)

// FaultRecord is one injection as the runner saw it, on the run's clock.
// (A plain type, so that results does not depend on how faults are made.)
type FaultRecord struct {
	Kind, Target, Resolved, Mechanism string
	Start, End                        time.Duration
	Error                             string
}

// Input is everything measured for one architecture.
type Input struct {
	Name  string
	Knobs Knobs
	Load  *load.Result
	// Records streams every request (records.jsonl) through fn, once. A
	// stream, not a slice: a long run has millions of records.
	Records    func(fn func(load.Record) error) error
	Check      Check
	Faults     []FaultRecord
	Thresholds []Expr
}

// Recovery rules (docs/summary.md): after a fault ends, the service has
// recovered at the first second from which RecoveryRun consecutive seconds
// each have a p99 within RecoveryFactor of the pre-fault p99 (plus a small
// absolute slack, so that a 2 ms baseline does not turn noise into "not
// recovered") and an error rate no worse than before the fault plus 1 point.
const (
	RecoveryFactor = 1.5
	RecoverySlack  = 2 * time.Millisecond
	RecoveryRun    = 3
	// MinValidRate is the share of the planned rate that must have been sent
	// before the first fault for the run to mean anything.
	MinValidRate = 0.9
)

// Analyze builds the summary of one architecture in one pass over the records.
func Analyze(in Input) (Arch, error) {
	r := in.Load
	a := Arch{Name: in.Name, Knobs: in.Knobs, Errors: map[string]int64{}, PerNode: map[string]int64{}, Files: map[string]string{}}
	t := r.Totals
	a.Requests = Requests{
		Planned: t.Planned, Sent: t.Sent, OK: t.Completed - t.Errors, Failed: t.Errors,
		Dropped: t.Shed, Late: t.Late, Retries: t.Retries,
	}
	if t.Sent > 0 {
		a.ErrorRate = float64(t.Errors) / float64(t.Sent)
	}

	all := r.Latency("", "")
	a.Latency = latencyOf(all)
	for _, q := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100} {
		a.Percentiles = append(a.Percentiles, Percentile{Quantile: q, MS: usToMS(all.ValueAtQuantile(q))})
	}

	// One pass over the records for what only they hold: error classes,
	// nodes and exact windows around each fault. Per-second outcomes are the
	// engine's own (its timeline), not binned again here.
	fws := newFaultWindows(in.Faults, r.Planned)
	if in.Records != nil {
		err := in.Records(func(rec load.Record) error {
			if rec.Class != "ok" {
				a.Errors[errorClass(rec)]++
			} else if rec.Node != "" {
				a.PerNode[rec.Node]++
			}
			for _, fw := range fws {
				fw.add(rec)
			}
			return nil
		})
		if err != nil {
			return Arch{}, fmt.Errorf("read records: %w", err)
		}
	}
	if t.LostSessions > 0 {
		a.Errors["session_lost"] = t.LostSessions
	}

	// Timeline and availability, from the engine's per-second windows.
	avail, secs := 0, 0
	for _, s := range r.Timeline {
		sec := Second{T: s.Second, Phase: s.Phase, Planned: s.Planned, Sent: s.Sent, Dropped: s.Shed,
			OK: s.Completed - s.Errors, Errors: s.Errors, P50MS: durMS(s.P50), P99MS: durMS(s.P99), MaxMS: durMS(s.Max)}
		a.Timeline = append(a.Timeline, sec)
		if s.Planned == 0 {
			continue
		}
		secs++
		if sec.OK > 0 && sec.Errors*2 < sec.OK+sec.Errors {
			avail++
		}
	}
	if secs > 0 {
		a.Availability = float64(avail) / float64(secs)
	}

	// Validity: the rate actually sent before the first fault.
	firstFault := r.Planned
	for _, f := range in.Faults {
		firstFault = min(firstFault, f.Start)
	}
	var planned, sent int64
	var n int
	for _, s := range r.Timeline {
		if time.Duration(s.Second+1)*time.Second > firstFault {
			break
		}
		planned, sent, n = planned+s.Planned, sent+s.Sent, n+1
	}
	if n > 0 {
		a.Requests.PlannedRate = float64(planned) / float64(n)
		a.Requests.AchievedRate = float64(sent) / float64(n)
	}
	a.Valid = true
	switch {
	case t.Sent == 0:
		a.Valid = false
		a.InvalidReasons = append(a.InvalidReasons, "no request was sent")
	case n > 0 && a.Requests.AchievedRate < MinValidRate*a.Requests.PlannedRate:
		a.Valid = false
		a.InvalidReasons = append(a.InvalidReasons,
			"achieved rate before the first fault was under 90% of the planned rate: the load generator, not the system, was measured")
	}
	for _, f := range in.Faults {
		if f.Error != "" {
			a.Valid = false
			a.InvalidReasons = append(a.InvalidReasons, "fault "+f.Kind+" on "+f.Target+" failed: "+f.Error)
		}
	}

	a.Writes, a.Updates, a.Sessions = in.Check.Writes, in.Check.Updates, in.Check.Sessions
	for _, fw := range fws {
		a.Faults = append(a.Faults, fw.result())
	}
	a.Thresholds = EvalAll(in.Thresholds, a)
	return a, nil
}

// errorClass names a failure for the errors table: the API's code when it
// gave one (state_store_unavailable), else the transport class.
func errorClass(r load.Record) string {
	if r.Code != "" {
		return r.Code
	}
	if r.Status != 0 && r.Class != "timeout" && r.Class != "connect" {
		return "http_" + strconv.Itoa(r.Status)
	}
	return r.Class
}

func latencyOf(h *hdrhistogram.Histogram) LatencyMS {
	if h.TotalCount() == 0 {
		return LatencyMS{}
	}
	return LatencyMS{
		P50: usToMS(h.ValueAtQuantile(50)), P95: usToMS(h.ValueAtQuantile(95)),
		P99: usToMS(h.ValueAtQuantile(99)), P999: usToMS(h.ValueAtQuantile(99.9)),
		Max: usToMS(h.Max()), Mean: h.Mean() / 1000,
	}
}

func roundMS(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func usToMS(us int64) float64       { return float64(us) / 1000 }
func durMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reqWindow accumulates requests by planned time.
type reqWindow struct {
	h        *hdrhistogram.Histogram
	n, fails int64
}

func newReqWindow(sigFigs int) *reqWindow {
	return &reqWindow{h: hdrhistogram.New(1, 120_000_000, sigFigs)}
}

func (w *reqWindow) add(r load.Record) {
	w.n++
	if r.Class != "ok" {
		w.fails++
	}
	_ = w.h.RecordValue(max(1, r.Latency.Microseconds()))
}

func (w *reqWindow) summary() Window {
	if w.n == 0 {
		return Window{}
	}
	return Window{Requests: w.n, ErrorRate: float64(w.fails) / float64(w.n),
		P50MS: usToMS(w.h.ValueAtQuantile(50)), P99MS: usToMS(w.h.ValueAtQuantile(99))}
}

func (w *reqWindow) errRate() float64 {
	if w.n == 0 {
		return 0
	}
	return float64(w.fails) / float64(w.n)
}

// faultWindow measures before / during / after one fault from the records
// (exact percentiles, not averages of per-second ones) and its recovery
// time. "Before" and "after" are as long as the fault, clipped to the run.
type faultWindow struct {
	f                     FaultRecord
	end, span             time.Duration
	before, during, after *reqWindow
	perSec                map[int]*reqWindow // seconds from the fault's end, for recovery
}

func newFaultWindows(faults []FaultRecord, runLen time.Duration) []*faultWindow {
	out := make([]*faultWindow, 0, len(faults))
	for _, f := range faults {
		end := f.End
		if end == 0 || end < f.Start { // never reverted: it lasted to the end
			end = runLen
		}
		out = append(out, &faultWindow{f: f, end: end, span: max(end-f.Start, time.Second),
			before: newReqWindow(3), during: newReqWindow(3), after: newReqWindow(3), perSec: map[int]*reqWindow{}})
	}
	return out
}

func (fw *faultWindow) add(r load.Record) {
	switch p := r.Planned; {
	case p >= fw.f.Start-fw.span && p < fw.f.Start:
		fw.before.add(r)
	case p >= fw.f.Start && p < fw.end:
		fw.during.add(r)
	case p >= fw.end && p < fw.end+fw.span:
		fw.after.add(r)
	}
	if r.Planned >= fw.end {
		s := int(r.Planned / time.Second)
		w := fw.perSec[s]
		if w == nil {
			// Two significant digits (1%) is plenty to compare with 1.5x a
			// baseline, and keeps a long tail of seconds small.
			w = newReqWindow(2)
			fw.perSec[s] = w
		}
		w.add(r)
	}
}

func (fw *faultWindow) result() Fault {
	f := fw.f
	return Fault{
		Kind: f.Kind, Target: f.Target, Resolved: f.Resolved, Mechanism: f.Mechanism,
		StartS: roundMS(f.Start), EndS: roundMS(fw.end), Error: f.Error,
		Before: fw.before.summary(), During: fw.during.summary(), After: fw.after.summary(),
		RecoveryS: recovery(fw.before, fw.perSec, fw.end),
	}
}

// recovery finds the first second after end that starts RecoveryRun healthy
// seconds in a row; nil when the run ended first.
func recovery(before *reqWindow, perSec map[int]*reqWindow, end time.Duration) *float64 {
	if before.n == 0 {
		return nil
	}
	limit := time.Duration(float64(before.h.ValueAtQuantile(99))*RecoveryFactor)*time.Microsecond + RecoverySlack
	errLimit := before.errRate() + 0.01
	secs := make([]int, 0, len(perSec))
	for s := range perSec {
		secs = append(secs, s)
	}
	sort.Ints(secs)
	healthy := func(s int) bool {
		w := perSec[s]
		return w != nil && w.n > 0 &&
			time.Duration(w.h.ValueAtQuantile(99))*time.Microsecond <= limit && w.errRate() <= errLimit
	}
	for _, s := range secs {
		ok := true
		for k := 0; k < RecoveryRun; k++ {
			if !healthy(s + k) {
				ok = false
				break
			}
		}
		if ok {
			v := math.Max(0, (time.Duration(s)*time.Second - end).Seconds())
			v = math.Round(v*10) / 10
			return &v
		}
	}
	return nil
}
