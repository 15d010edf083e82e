package load

import (
	"net/http"
	"net/http/httptrace"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The harness's own share of a latency. Latency is measured from the planned instant, so whatever the
// engine takes before the request's bytes leave (the scheduler's wake-up, the hand-off to a worker,
// building and writing the request) and after its answer arrives (reading it, handing the record over)
// is in every latency it reports. Two measures say how much:
//
//   - the send lag, planned → written (the first attempt's request written to its connection), for every
//     request that wrote one: one clock read per request (on net/http's path, WithHTTPClient and HTTP/2,
//     for the traced requests only: its client trace allocates);
//   - a sampled trace of one request in Config.TraceEvery, the instants planned → dispatched (the
//     scheduler woke and handed it over) → dequeued (a worker took it) → written → first byte (of the
//     answer) → done, each stretch a histogram (Stage).
//
// Sampling is decided once per request, by the scheduler, from the request's number; an unsampled
// request reads no extra clock but the send lag's and allocates nothing more. Both live in Result.Harness and
// merge across workers as the latency histograms do (Merge).

// DefaultTraceEvery is Config.TraceEvery's default: one request in 16 is traced (6% of the requests;
// 3,750 samples in a minute at 1000/s).
const DefaultTraceEvery = 16

// Stage is one stretch of a traced request's life, between two consecutive instants.
type Stage int

// The stages in order: their durations add up to the request's latency (when every instant was
// stamped: a request that never wrote, or got no byte back, has only the stages before).
const (
	StageWake    Stage = iota // planned → dispatched: how late the scheduler woke for it
	StageHandoff              // dispatched → dequeued: the channel hop to a worker goroutine
	StageWrite                // dequeued → written: building and writing the request (a dial, when the connection is new)
	StageServer               // written → first byte: the network, the server and the wake-up on the answer
	StageRead                 // first byte → done: reading the answer, the op's own work, retries
	NumStages
)

var stageNames = [NumStages]string{"wake", "handoff", "write", "server", "read"}

// stageSpans say what each stage spans, for reports.
var stageSpans = [NumStages]string{"planned → dispatched", "dispatched → dequeued", "dequeued → written",
	"written → first byte", "first byte → done"}

// String is the stage's short name (wake, handoff, write, server, read).
func (s Stage) String() string { return stageNames[s] }

// Span is what the stage spans ("planned → dispatched").
func (s Stage) Span() string { return stageSpans[s] }

// Harness is the engine's own time in the requests' latencies (histograms in microseconds, the engine's
// cumulative geometry).
type Harness struct {
	// SendLag is planned → written for every request that wrote its first attempt: how much of each
	// latency passed before the request left.
	SendLag *hdrhistogram.Histogram `json:"-"`
	// TraceEvery is the sampling: one request in TraceEvery was traced (0: none).
	TraceEvery int `json:"trace_every"`
	// Traced counts the traced requests (each stage's histogram holds those that reached its end).
	Traced int64 `json:"traced"`
	// Stages are the traced requests' stretches, by Stage.
	Stages [NumStages]*hdrhistogram.Histogram `json:"-"`
}

func newHarness(every int) Harness {
	h := Harness{SendLag: NewHistogram(), TraceEvery: every}
	for i := range h.Stages {
		h.Stages[i] = NewHistogram()
	}
	return h
}

// merge adds o's histograms and counts to h's (Merge).
func (h *Harness) merge(o Harness) {
	if h.SendLag == nil {
		*h = newHarness(o.TraceEvery)
	}
	if o.SendLag != nil {
		h.SendLag.Merge(o.SendLag)
	}
	for i, s := range o.Stages {
		if s != nil {
			h.Stages[i].Merge(s)
		}
	}
	h.Traced += o.Traced
}

// traced reports whether request seq is sampled. The number is mixed first (splitmix64's finalizer):
// workers own interleaved numbers (Segment), and a plain seq % every could fall on one worker's only.
func traced(seq uint64, every int) bool {
	if every <= 0 {
		return false
	}
	z := seq + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return z%uint64(every) == 0
}

// add takes a finished request's instants into the histograms.
func (h *Harness) add(r *Record) {
	if r.Written > 0 {
		_ = h.SendLag.RecordValue(HistValue(r.Written - r.Planned))
	}
	if r.Dequeued == 0 {
		return // not traced
	}
	h.Traced++
	at := [NumStages + 1]time.Duration{r.Planned, r.Sent, r.Dequeued, r.Written, r.FirstByte, r.Planned + r.Latency}
	for i := range NumStages {
		if at[i+1] == 0 {
			return // the request ended before this instant (no write, no answer)
		}
		_ = h.Stages[i].RecordValue(HistValue(at[i+1] - at[i]))
	}
}

// stamps are the wire client's instants of one request: its first write and, when traced, the first
// byte of its last answer.
type stamps struct {
	written, firstByte time.Time
	traced             bool
}

// httpStamps are a traced request's instants on net/http's path (WithHTTPClient and HTTP/2), from its
// client trace: the request written and the answer's first byte. Only traced requests carry one (its
// allocations, a few, are the sample's), so on that path the send lag covers the traced requests only.
type httpStamps struct{ written, firstByte time.Time }

func (t *httpStamps) attach(req *http.Request) *http.Request {
	ct := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.written = time.Now() },
		GotFirstResponseByte: func() { t.firstByte = time.Now() },
	}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), ct))
}

// into copies what was stamped into st, the first write only.
func (t *httpStamps) into(st *stamps) {
	if st.written.IsZero() {
		st.written = t.written
	}
	if !t.firstByte.IsZero() {
		st.firstByte = t.firstByte
	}
}

// harnessOp is the op name h's histograms go under in worker.json (merge_files.go).
const harnessOp = "harness"

// hists are h's histograms by name, for worker.json: "send_lag" and the stages' names.
func (h *Harness) hists() map[HistKey]*hdrhistogram.Histogram {
	m := map[HistKey]*hdrhistogram.Histogram{}
	if h.SendLag != nil {
		m[HistKey{harnessOp, "send_lag"}] = h.SendLag
	}
	for i, s := range h.Stages {
		if s != nil {
			m[HistKey{harnessOp, Stage(i).String()}] = s
		}
	}
	return m
}

// setHists is hists' inverse; a worker.json without them (an older worker) leaves h empty.
func (h *Harness) setHists(m map[HistKey]*hdrhistogram.Histogram) {
	if len(m) == 0 {
		return
	}
	h.SendLag = m[HistKey{harnessOp, "send_lag"}]
	for i := range h.Stages {
		h.Stages[i] = m[HistKey{harnessOp, Stage(i).String()}]
	}
}
