package load

import (
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The histograms' geometry, declared once: package results builds its
// windows with it so that its percentiles and the engine's agree. Values
// are microseconds from 1 µs to 120 s. Cumulative histograms (op × phase)
// keep 3 significant digits (~140 KiB each); per-second windows keep 2 (~20
// KiB) and are recycled, so memory does not grow with the run's length.
const (
	HistLowestUs  = 1
	HistHighestUs = 120_000_000
	HistSigFigs   = 3 // cumulative: whole run, phases, fault windows
	WindowSigFigs = 2 // per second
)

const timelineAllOps = -1

// NewHistogram returns a histogram with the engine's cumulative geometry
// (microseconds), for callers that merge Result histograms.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistLowestUs, HistHighestUs, HistSigFigs)
}

// NewWindowHistogram returns a histogram with the per-second geometry.
func NewWindowHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistLowestUs, HistHighestUs, WindowSigFigs)
}

// OpStats summarises one op in one phase (Op or Phase "*" for all).
type OpStats struct {
	Op        string        `json:"op"`
	Phase     string        `json:"phase"`
	Count     int64         `json:"count"`
	Errors    int64         `json:"errors"`
	Retries   int64         `json:"retries"`
	P50       time.Duration `json:"p50_ns"`
	P90       time.Duration `json:"p90_ns"`
	P95       time.Duration `json:"p95_ns"`
	P99       time.Duration `json:"p99_ns"`
	P999      time.Duration `json:"p999_ns"`
	Max       time.Duration `json:"max_ns"`
	ServiceP9 time.Duration `json:"service_p99_ns"` // last attempt alone: compare to see queueing
	// Attempts counts HTTP attempts (retries and re-login repeats included) and ReqBytes what they
	// wrote (Record.ReqBytes): bandwidth per request is ReqBytes/Count, per attempt ReqBytes/Attempts.
	Attempts int64 `json:"attempts,omitempty"`
	ReqBytes int64 `json:"req_bytes,omitempty"`
}

// Second is one second of the run's timeline, by planned send time.
type Second struct {
	Second int    `json:"second"`
	Phase  string `json:"phase"`
	Counts
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns,omitempty"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

type winKey struct{ sec, op, phase int }

type window struct {
	h                          *hdrhistogram.Histogram
	completed, errors, retries int64
}

// aggregator is the only goroutine that touches histograms and the records
// file (HdrHistogram is not goroutine-safe), fed by a channel from workers
// (consume). It turns records into the cumulative stats, the per-second
// timeline and the hlog's windows; files writes them (nil: nothing written).
type aggregator struct {
	ops, phases []string
	lagSecs     int

	cum      [][]*hdrhistogram.Histogram // [op][phase], latency
	cumSvc   [][]*hdrhistogram.Histogram // [op][phase], service time
	cumCount [][][5]int64                // completed, errors, retries, attempts, request bytes
	all      *hdrhistogram.Histogram     // everything, for progress
	harness  Harness                     // the send lag and the traced requests' stages (trace.go)

	windows  map[winKey]*window
	free     []*hdrhistogram.Histogram
	timeline []Second

	files   *runFiles
	startMs int64
	kinds   map[string]int64 // failed requests by Record.ErrorKind, only for a watcher (OnLive)

	p99us     atomic.Int64
	completed atomic.Int64
	errors    atomic.Int64
	retries   atomic.Int64
	canceled  atomic.Int64
}

func newAggregator(ops, phases []string, lag time.Duration, traceEvery int, files *runFiles) *aggregator {
	a := &aggregator{ops: ops, phases: phases, lagSecs: int(lag/time.Second) + 2,
		windows: map[winKey]*window{}, all: NewHistogram(), harness: newHarness(max(traceEvery, 0)), files: files}
	a.cum = make([][]*hdrhistogram.Histogram, len(ops))
	a.cumSvc = make([][]*hdrhistogram.Histogram, len(ops))
	a.cumCount = make([][][5]int64, len(ops))
	for i := range ops {
		a.cum[i] = make([]*hdrhistogram.Histogram, len(phases))
		a.cumSvc[i] = make([]*hdrhistogram.Histogram, len(phases))
		a.cumCount[i] = make([][5]int64, len(phases))
	}
	return a
}

// begin starts the windows' clock (and the hlog's) at the run's start.
func (a *aggregator) begin(start time.Time) {
	a.startMs = start.UnixMilli()
	a.files.begin(a.startMs)
}

// aggregateEvery is how often the aggregator drains the records channel.
// Receiving each record as it comes woke the aggregator goroutine once per
// request (a futex wake-up of an idle thread, most of the time, below
// saturation); draining every 5 ms wakes it 200 times a second whatever the
// rate. The channel's 16384 slots hold 5 ms of records up to 3 million a
// second; a worker that finds it full waits, it does not drop.
const aggregateEvery = 5 * time.Millisecond

// consume is the aggregator goroutine: it adds records until the channel is
// closed and drained, and once a second closes old windows and calls
// everySecond (the ledger's flush, so that orders lag records by at most a
// second too). start is the run's clock.
func (a *aggregator) consume(records <-chan Record, start time.Time, everySecond func()) {
	drain := time.NewTicker(aggregateEvery)
	defer drain.Stop()
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	for {
		select {
		case <-drain.C:
			for more := true; more; {
				select {
				case r, ok := <-records:
					if !ok {
						return // closed and drained: every worker is done
					}
					a.add(&r)
				default:
					more = false
				}
			}
		case <-sec.C:
			a.tick(time.Since(start))
			everySecond()
		}
	}
}

// HistValue is d as a histogram value: microseconds, clamped to the
// geometry's range (a value out of range would be refused and lost).
func HistValue(d time.Duration) int64 {
	return min(max(d.Microseconds(), HistLowestUs), HistHighestUs)
}

func (a *aggregator) add(r *Record) {
	a.files.record(r)
	if r.Class == ClassCanceled {
		a.canceled.Add(1)
	}
	lat := HistValue(r.Latency)
	o, p := r.opIdx, r.phaseIdx
	if a.cum[o][p] == nil {
		a.cum[o][p] = NewHistogram()
		a.cumSvc[o][p] = NewHistogram()
	}
	_ = a.cum[o][p].RecordValue(lat)
	_ = a.cumSvc[o][p].RecordValue(HistValue(r.Service))
	_ = a.all.RecordValue(lat)
	a.harness.add(r)
	isErr := r.Class != ClassOK
	retries := int64(r.Retries())
	c := &a.cumCount[o][p]
	c[0]++
	c[2] += retries
	c[3] += int64(r.Attempts)
	c[4] += r.ReqBytes
	a.completed.Add(1)
	if isErr {
		c[1]++
		a.errors.Add(1)
		if a.kinds != nil {
			a.kinds[r.ErrorKind()]++
		}
	}
	a.retries.Add(retries)
	sec := int(r.Planned / time.Second)
	for _, k := range [2]winKey{{sec, o, p}, {sec, timelineAllOps, p}} {
		w := a.windows[k]
		if w == nil {
			w = &window{h: a.newWindowHist()}
			a.windows[k] = w
		}
		_ = w.h.RecordValue(lat)
		w.completed++
		w.retries += retries
		if isErr {
			w.errors++
		}
	}
}

func (a *aggregator) newWindowHist() *hdrhistogram.Histogram {
	if n := len(a.free); n > 0 {
		h := a.free[n-1]
		a.free = a.free[:n-1]
		return h
	}
	return NewWindowHistogram()
}

// closeWindows ends every window of a second before `before`: no request
// planned then can still be running (lag covers lateness, budget and grace).
func (a *aggregator) closeWindows(before int) {
	for k, w := range a.windows {
		if k.sec >= before {
			continue
		}
		a.closeWindow(k, w)
	}
}

// show takes window h into the second: its percentiles when they are the second's to show (the larger
// part of a second a phase boundary splits), its max always. The engine and the merge of several
// workers' windows (merge.go) fill a timeline second by this one rule.
func (s *Second) show(h *hdrhistogram.Histogram, percentiles bool) {
	if percentiles {
		s.P50 = time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
		s.P95 = time.Duration(h.ValueAtQuantile(95)) * time.Microsecond
		s.P99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	}
	if m := time.Duration(h.Max()) * time.Microsecond; m > s.Max {
		s.Max = m
	}
}

// stampWindow labels an hlog interval: its tag (op/phase) and its second on the run's clock.
func stampWindow(h *hdrhistogram.Histogram, tag string, startMs int64, sec int) {
	h.SetTag(tag)
	h.SetStartTimeMs(startMs + int64(sec)*1000)
	h.SetEndTimeMs(startMs + int64(sec+1)*1000)
}

func (a *aggregator) closeWindow(k winKey, w *window) {
	if k.op == timelineAllOps {
		for len(a.timeline) <= k.sec {
			a.timeline = append(a.timeline, Second{Second: len(a.timeline)})
		}
		s := &a.timeline[k.sec]
		s.Phase = a.phases[k.phase]
		s.Completed += w.completed
		s.Errors += w.errors
		s.Retries += w.retries
		// A second split by a phase boundary keeps the larger part's
		// percentiles; the per-op/phase hlog keeps both exactly.
		s.show(w.h, w.completed >= s.Completed-w.completed)
	} else if a.files != nil {
		stampWindow(w.h, a.ops[k.op]+"/"+a.phases[k.phase], a.startMs, k.sec)
		a.files.interval(w.h)
	}
	w.h.Reset()
	a.free = append(a.free, w.h)
	delete(a.windows, k)
}

// tick runs once a second: flush records (a crash loses at most a second),
// close old windows, publish the p99 for progress.
func (a *aggregator) tick(now time.Duration) {
	a.files.flush()
	a.closeWindows(int(now/time.Second) - a.lagSecs)
	a.p99us.Store(a.all.ValueAtQuantile(99))
}

// finish closes every window, the last seconds into the timeline, and then
// the streamed files; it returns the first error writing them met.
func (a *aggregator) finish() error {
	a.closeWindows(1 << 30)
	return a.files.close()
}

func (a *aggregator) stats() ([]OpStats, map[HistKey]*hdrhistogram.Histogram, map[HistKey]*hdrhistogram.Histogram) {
	hists, svc := map[HistKey]*hdrhistogram.Histogram{}, map[HistKey]*hdrhistogram.Histogram{}
	var out []OpStats
	for o := range a.ops {
		for p := range a.phases {
			h := a.cum[o][p]
			if h == nil {
				continue
			}
			hists[HistKey{a.ops[o], a.phases[p]}] = h
			svc[HistKey{a.ops[o], a.phases[p]}] = a.cumSvc[o][p]
			c := a.cumCount[o][p]
			out = append(out, summarize(a.ops[o], a.phases[p], h, a.cumSvc[o][p], c))
		}
	}
	return out, hists, svc
}

func summarize(op, phase string, h, svc *hdrhistogram.Histogram, c [5]int64) OpStats {
	q := func(h *hdrhistogram.Histogram, p float64) time.Duration {
		return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond
	}
	s := OpStats{Op: op, Phase: phase, Count: c[0], Errors: c[1], Retries: c[2], Attempts: c[3], ReqBytes: c[4],
		P50: q(h, 50), P90: q(h, 90), P95: q(h, 95), P99: q(h, 99), P999: q(h, 99.9),
		Max: time.Duration(h.Max()) * time.Microsecond}
	if svc != nil {
		s.ServiceP9 = q(svc, 99)
	}
	return s
}

// HistKey names a cumulative histogram.
type HistKey struct{ Op, Phase string }
