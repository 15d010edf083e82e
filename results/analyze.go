package results

import (
	"fmt"
	"math"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/load"
)

// Input is everything measured for one architecture.
type Input struct {
	Name  string
	Knobs Knobs
	Load  *load.Result
	// Records streams every request (records.jsonl) through fn, once. A
	// stream, not a slice: a long run has millions of records.
	Records func(fn func(load.Record) error) error
	// Findings are the checks' results (CheckLedger).
	Findings Findings
	// Invariants are a declared scenario's reads (Arch.Invariants).
	Invariants []InvariantRead
	Faults     []chaos.Injection
	Thresholds []Expr
	// Edge is what the runner measured at the edge (EdgeStats), nil when it did not.
	Edge *EdgeStats
}

// Recovery rules (docs/summary.md): after a fault ends, the service has
// recovered at the first second from which RecoveryRun consecutive seconds
// each have a p99 within RecoveryFactor of the pre-fault p99 (plus a small
// absolute slack, so that a 2 ms baseline does not turn noise into "not
// recovered") and an error rate no worse than before the fault plus 1 point.
const (
	RecoveryFactor     = 1.5
	RecoverySlack      = 2 * time.Millisecond
	RecoveryErrorSlack = 0.01 // error-rate points above the baseline's
	RecoveryRun        = 3
	// MinValidRate is the share of the planned rate that must have been sent
	// before the first fault for the run to mean anything.
	MinValidRate = 0.9
	// MaxDroppedShare is the share of the planned requests the harness may
	// drop (never send: shed, or too late), over the run and within each
	// fault, before the run is invalid: a request not sent is a request not
	// measured, and a stall the harness did not measure cannot pass.
	MaxDroppedShare = 0.01
)

// Analyze builds the summary of one architecture in one pass over the records.
func Analyze(in Input) (Arch, error) {
	r := in.Load
	a := Arch{Name: in.Name, Knobs: in.Knobs, Errors: map[string]int64{}, PerNode: map[string]int64{}, Files: map[string]string{}}
	t := r.Totals
	a.Requests = Requests{
		Planned: t.Planned, Sent: t.Sent, OK: t.OK(), Failed: t.Errors,
		Dropped: t.Dropped, Late: t.Late, Retries: t.Retries,
	}
	if t.Sent > 0 {
		a.ErrorRate = float64(t.Errors) / float64(t.Sent)
	}

	all := r.Latency("", "")
	a.Latency = latencyOf(all)
	a.Ops = opsOf(r)
	for _, q := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100} {
		a.Percentiles = append(a.Percentiles, Percentile{Quantile: q, MS: usToMS(all.ValueAtQuantile(q))})
	}

	// One pass over the records for what only they hold: error classes,
	// nodes and exact windows around each fault. Per-second outcomes are the
	// engine's own (its timeline), not binned again here.
	fws := newFaultWindows(in.Faults, r.Planned)
	if in.Records != nil {
		err := in.Records(func(rec load.Record) error {
			if rec.Class != load.ClassOK {
				a.Errors[rec.ErrorKind()]++
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
		sec := SecondOf(s)
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
		a.InvalidReasons = append(a.InvalidReasons, fmt.Sprintf(
			"achieved rate before the first fault was under %.0f%% of the planned rate: the load generator, not the system, was measured",
			MinValidRate*100))
	}
	if tooManyDropped(t.Dropped, t.Planned) {
		a.Valid = false
		a.InvalidReasons = append(a.InvalidReasons, fmt.Sprintf(
			"the harness dropped %d of %d planned requests (%s), more than %g%%: what was not sent was not measured",
			t.Dropped, t.Planned, FormatPct(float64(t.Dropped)/float64(t.Planned)), MaxDroppedShare*100))
	}

	if len(r.Workers) > 0 {
		var invalid []string
		a.Workers, invalid = workersOf(r.Workers)
		if len(invalid) > 0 {
			a.Valid = false
			a.InvalidReasons = append(a.InvalidReasons, invalid...)
		}
	}

	in.Findings.Fill(&a)
	a.Invariants = in.Invariants
	resolveBaselines(fws, r.Planned)
	for _, fw := range fws {
		f := fw.result()
		var planned int64
		f.Dropped, planned = droppedDuring(r.Timeline, fw.f.Start, fw.end)
		a.Faults = append(a.Faults, f)
		switch {
		case f.Error != "":
			a.Valid = false
			a.InvalidReasons = append(a.InvalidReasons, fmt.Sprintf("fault %s on %s did not run as planned: %s", f.Kind, FaultTarget(f), f.Error))
		case tooManyDropped(f.Dropped, planned):
			a.Valid = false
			a.InvalidReasons = append(a.InvalidReasons, fmt.Sprintf(
				"during %s on %s (%g-%gs) the harness dropped %d of %d planned requests, more than %g%%: the fault was not measured",
				f.Kind, FaultTarget(f), f.StartS, f.EndS, f.Dropped, planned, MaxDroppedShare*100))
		}
	}
	edgeSummary(&a, in)
	harnessSummary(&a, in)
	a.Thresholds = EvalAll(in.Thresholds, a)
	return a, nil
}

// SecondOf is the engine's second of the timeline as the summary (and the charts) keep it.
func SecondOf(s load.Second) Second {
	return Second{T: s.Second, Phase: s.Phase, Planned: s.Planned, Sent: s.Sent, Dropped: s.Dropped,
		OK: s.OK(), Errors: s.Errors, Retries: s.Retries, P50MS: durMS(s.P50), P95MS: durMS(s.P95), P99MS: durMS(s.P99), MaxMS: durMS(s.Max)}
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
	h                 *hdrhistogram.Histogram
	n, fails, retries int64
}

func newReqWindow(sigFigs int) *reqWindow {
	return &reqWindow{h: hdrhistogram.New(load.HistLowestUs, load.HistHighestUs, sigFigs)}
}

func (w *reqWindow) add(r load.Record) {
	w.n++
	if r.Class != load.ClassOK {
		w.fails++
	}
	w.retries += int64(r.Retries())
	_ = w.h.RecordValue(load.HistValue(r.Latency))
}

// summary is the window [from, to) on the run's clock.
func (w *reqWindow) summary(from, to time.Duration) Window {
	out := Window{FromS: roundMS(from), ToS: roundMS(to)}
	if w.n == 0 {
		return out
	}
	out.Requests, out.Errors, out.Retries, out.ErrorRate = w.n, w.fails, w.retries, float64(w.fails)/float64(w.n)
	out.P50MS, out.P95MS, out.P99MS = usToMS(w.h.ValueAtQuantile(50)), usToMS(w.h.ValueAtQuantile(95)), usToMS(w.h.ValueAtQuantile(99))
	out.MaxMS = usToMS(w.h.Max())
	return out
}

func (w *reqWindow) errRate() float64 {
	if w.n == 0 {
		return 0
	}
	return float64(w.fails) / float64(w.n)
}

// tooManyDropped applies MaxDroppedShare.
func tooManyDropped(dropped, planned int64) bool {
	return planned > 0 && float64(dropped) > MaxDroppedShare*float64(planned)
}

// droppedDuring counts the requests dropped and planned in the seconds of
// the timeline that overlap [start, end).
func droppedDuring(tl []load.Second, start, end time.Duration) (dropped, planned int64) {
	for _, s := range tl {
		t0 := time.Duration(s.Second) * time.Second
		if t0+time.Second > start && t0 < end {
			dropped, planned = dropped+s.Dropped, planned+s.Planned
		}
	}
	return dropped, planned
}

// faultWindow measures before / during / after one fault from the records
// (exact percentiles, not averages of per-second ones) and its recovery
// time. "Before" and "after" are as long as the fault, clipped to the run;
// resolveBaselines may replace "before" with the first fault's baseline.
type faultWindow struct {
	f                     chaos.Injection
	end, span             time.Duration
	from, to              time.Duration // the baseline's bounds
	before, during, after *reqWindow
	perSec                map[int]*reqWindow // seconds from the fault's end, for recovery
	recovery              *float64
	borrowed              bool // before is the first fault's baseline
}

func newFaultWindows(faults []chaos.Injection, runLen time.Duration) []*faultWindow {
	out := make([]*faultWindow, 0, len(faults))
	for _, f := range faults {
		end := f.End
		if end == 0 || end < f.Start { // never reverted: it lasted to the end
			end = runLen
		}
		span := max(end-f.Start, time.Second)
		to := f.Start
		if f.Begin > 0 && f.Begin < to {
			to = f.Begin
		}
		out = append(out, &faultWindow{f: f, end: end, span: span, from: max(0, to-span), to: to,
			before: newReqWindow(load.HistSigFigs), during: newReqWindow(load.HistSigFigs), after: newReqWindow(load.HistSigFigs), perSec: map[int]*reqWindow{}})
	}
	return out
}

// failed: the fault did not happen as planned, so nothing around it is
// measured (its windows stay empty and its recovery nil).
func (fw *faultWindow) failed() bool { return fw.f.Error != "" }

func (fw *faultWindow) add(r load.Record) {
	if fw.failed() {
		return
	}
	switch p := r.Planned; {
	case p >= fw.from && p < fw.to:
		// Only requests answered before the fault could touch them: one
		// planned just before it and still waiting when it began is not
		// steady state (a packet loss put 1.5 s into such baselines).
		if p+r.Latency <= fw.to {
			fw.before.add(r)
		}
	case p >= fw.to && p < fw.f.Start:
		// Between the injection's start and its taking effect: neither.
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
			w = newReqWindow(load.WindowSigFigs)
			fw.perSec[s] = w
		}
		w.add(r)
	}
}

// resolveBaselines gives every fault a steady-state baseline and then its
// recovery, in order of start: the stretch just before the fault, unless it
// overlaps an earlier fault or that fault's recovery (to the end of the run
// when it never recovered); then the first fault's baseline, the one
// stretch no fault disturbed. Before this rule a kill right after a packet
// loss had the loss in its baseline (p99 1.5 s) and "recovered" at once.
func resolveBaselines(fws []*faultWindow, runEnd time.Duration) {
	order := make([]*faultWindow, 0, len(fws))
	for _, fw := range fws {
		if !fw.failed() {
			order = append(order, fw)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].f.Start < order[j].f.Start })
	for i, fw := range order {
		for _, prev := range order[:i] {
			until := runEnd
			if prev.recovery != nil {
				until = prev.end + time.Duration(*prev.recovery*float64(time.Second))
			}
			if prev.f.Start < fw.to && fw.from < until {
				first := order[0]
				fw.before, fw.from, fw.to, fw.borrowed = first.before, first.from, first.to, true
				break
			}
		}
		fw.recovery = recovery(fw.before, fw.perSec, fw.end)
	}
}

func (fw *faultWindow) result() Fault {
	f := fw.f
	out := Fault{
		Kind: f.Kind, Target: f.Target, Resolved: f.Resolved, Mechanism: f.Mechanism,
		StartS: roundMS(f.Start), EndS: roundMS(fw.end), Error: f.Error, HealthBefore: f.HealthBefore,
	}
	if b := roundMS(f.Begin); f.Begin > 0 && b < out.StartS {
		out.BeginS = b
	}
	if fw.failed() {
		return out
	}
	out.Before, out.BaselineOfFirst = fw.before.summary(fw.from, fw.to), fw.borrowed
	out.During = fw.during.summary(f.Start, fw.end)
	out.After = fw.after.summary(fw.end, fw.end+fw.span)
	out.RecoveryS = fw.recovery
	if f.Ready >= 0 {
		r := math.Round(f.Ready.Seconds()*10) / 10
		out.ReadyAfterS = &r
	}
	return out
}

// recovery finds the first second after end that starts RecoveryRun healthy
// seconds in a row; nil when the run ended first.
func recovery(before *reqWindow, perSec map[int]*reqWindow, end time.Duration) *float64 {
	if before.n == 0 {
		return nil
	}
	limit := time.Duration(float64(before.h.ValueAtQuantile(99))*RecoveryFactor)*time.Microsecond + RecoverySlack
	errLimit := before.errRate() + RecoveryErrorSlack
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

// opsOf sums the engine's per-op × phase stats into one row per op, in the
// order the ops first appear (the mix's order), with latency from the op's
// merged histograms.
func opsOf(r *load.Result) []OpStats {
	var ops []OpStats
	var bytes, attempts []int64
	at := map[string]int{}
	for _, st := range r.Stats {
		i, ok := at[st.Op]
		if !ok {
			i = len(ops)
			at[st.Op] = i
			ops = append(ops, OpStats{Name: st.Op})
			bytes, attempts = append(bytes, 0), append(attempts, 0)
		}
		bytes[i] += st.ReqBytes
		attempts[i] += st.Attempts
		ops[i].Requests += st.Count
		ops[i].Errors += st.Errors
		ops[i].Retries += st.Retries
	}
	for i := range ops {
		if ops[i].Requests > 0 {
			ops[i].ErrorRate = float64(ops[i].Errors) / float64(ops[i].Requests)
		}
		if bytes[i] > 0 {
			ops[i].ReqBytesPerRequest = math.Round(float64(bytes[i]) / float64(ops[i].Requests))
			ops[i].ReqBytesPerAttempt = math.Round(float64(bytes[i]) / float64(attempts[i]))
		}
		h := r.Latency(ops[i].Name, "")
		ops[i].P50MS, ops[i].P99MS = usToMS(h.ValueAtQuantile(50)), usToMS(h.ValueAtQuantile(99))
	}
	return ops
}
