package load

import (
	"errors"
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/runfolder"
)

// Result is everything a run measured. Histograms are in microseconds.
type Result struct {
	RunID string `json:"run_id"`
	Seed  uint64 `json:"seed"`
	// Start is the run's clock origin (with a monotonic reading): planned
	// times, phases and record offsets are relative to it.
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
	Planned time.Duration `json:"planned_duration_ns"`
	Setup   time.Duration `json:"setup_ns"`
	// WarmConns is how many keep-alive connections setup opened before the
	// clock started (Config.WarmConns).
	WarmConns int `json:"warm_conns"`
	// CPU is the CPU time (user + system) this process spent from the
	// run's start to the end of its grace period (getrusage): the load
	// engine's cost, plus whatever else the process did meanwhile (a
	// runner's faults). 0 where it cannot be read.
	CPU      time.Duration `json:"cpu_ns,omitempty"`
	Phases   []PhaseWindow `json:"phases"`
	Totals   Totals        `json:"totals"`
	Stats    []OpStats     `json:"stats"`
	Timeline []Second      `json:"timeline"`
	// Hist holds cumulative latency histograms per op × phase, ServiceHist
	// the last attempts' service times (OpStats.ServiceP9) likewise.
	Hist        map[HistKey]*hdrhistogram.Histogram `json:"-"`
	ServiceHist map[HistKey]*hdrhistogram.Histogram `json:"-"`
	// Harness is the engine's own share of the latencies: the send lag of every request and the sampled
	// breakdown (trace.go).
	Harness Harness        `json:"harness"`
	Ledger  LedgerSnapshot `json:"-"`
	Files   Files          `json:"files"`
	// Segment is the share of the run this engine carried (Config.Segment;
	// zero: all of it).
	Segment Segment `json:"segment,omitzero"`
	// Workers describes each worker of a merged run (Merge), in segment
	// order, their clock offsets among it; empty for a run of one engine.
	Workers []WorkerInfo `json:"workers,omitempty"`
}

// PhaseWindow is a phase's place on the run's clock.
type PhaseWindow struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
}

// Counts are logical requests (a request and its retries count once) by what became of them: the run's
// (Totals) and each second's (Second) alike, one definition. Planned = Sent + Dropped. Completed counts
// every request that finished, the failed ones included: OK is the rest, the one place that says so.
type Counts struct {
	Planned   int64 `json:"planned"`
	Sent      int64 `json:"sent"`
	Late      int64 `json:"late"` // sent, but more than LateAfter after their planned time
	Dropped   int64 `json:"dropped"`
	Completed int64 `json:"completed"` // finished: succeeded or failed after all retries
	Errors    int64 `json:"errors"`    // failed after all retries
	Retries   int64 `json:"retries"`   // extra attempts
}

// OK is the requests that finished with success.
func (c Counts) OK() int64 { return c.Completed - c.Errors }

// Add adds o's counts to c (the merge of workers' totals and seconds).
func (c *Counts) Add(o Counts) {
	c.Planned += o.Planned
	c.Sent += o.Sent
	c.Late += o.Late
	c.Dropped += o.Dropped
	c.Completed += o.Completed
	c.Errors += o.Errors
	c.Retries += o.Retries
}

// Totals are the run's Counts, with how its dropped requests were dropped and what the engine's limits
// did. Sent = Completed + Canceled.
type Totals struct {
	Counts
	DroppedInFlight int64 `json:"dropped_in_flight"` // the in-flight cap (MaxInFlight or the adaptive limit) was reached
	DroppedLate     int64 `json:"dropped_late"`      // could not be sent within MaxLateness
	Canceled        int64 `json:"canceled"`          // still running when the grace period ended
	// LostSessions is the ledger's count (LedgerSnapshot.LostSessions: the
	// sessions flagged lost), copied here so that the totals read alone.
	LostSessions int64 `json:"lost_sessions"`
	// InFlightLimitLow is the lowest the adaptive in-flight limit went
	// (MaxInFlight when the engine always kept up).
	InFlightLimitLow int64 `json:"in_flight_limit_low"`
	// MaxBehind is the longest the scheduler stayed behind its schedule
	// (consecutive wake-ups later than LateAfter, see limit.go): the
	// adaptive limit only cuts past limitSustain (100 ms).
	MaxBehind time.Duration `json:"max_behind_ns"`
}

// Files are the artefacts written to Config.RunDir.
type Files struct {
	Records string `json:"records,omitempty"`
	HLog    string `json:"hlog,omitempty"`
	Ledger  string `json:"ledger,omitempty"`
	Orders  string `json:"orders,omitempty"` // the ledger's orders, streamed
}

// FilesIn are the paths of the load's files in dir (runfolder names them).
func FilesIn(dir string) Files {
	a := runfolder.Arch(dir)
	return Files{Records: a.Records(), HLog: a.HLog(), Ledger: a.Ledger(), Orders: a.Orders()}
}

// Latency merges the cumulative histograms of op and phase; "" means all.
func (r *Result) Latency(op, phase string) *hdrhistogram.Histogram {
	h := NewHistogram()
	for k, v := range r.Hist {
		if (op == "" || k.Op == op) && (phase == "" || k.Phase == phase) {
			h.Merge(v)
		}
	}
	return h
}

// result assembles what the run measured once every worker and the
// aggregator are done, closes the streamed files and writes ledger.json.
// ledgerErr is the orders file's close error. Like Run, it returns the
// Result even with an error writing files.
func (e *engine) result(setup time.Duration, warm int, end time.Time, ledgerErr error) (*Result, error) {
	cfg := e.cfg
	res := &Result{RunID: e.runID, Seed: cfg.Seed, Start: e.start, End: end,
		Planned: cfg.Duration(), Setup: setup, WarmConns: warm}
	var off time.Duration
	for _, p := range cfg.Phases {
		res.Phases = append(res.Phases, PhaseWindow{Name: p.Name, Start: off, End: off + p.Duration})
		off += p.Duration
	}
	// finish closes the last per-second windows into the timeline: it must
	// come before the timeline is read, or the final seconds (all of them,
	// in a short run) show no completions.
	aggErr := errors.Join(e.agg.finish(), ledgerErr)
	res.Stats, res.Hist, res.ServiceHist = e.agg.stats()
	res.Harness = e.agg.harness
	res.Segment = cfg.Segment
	res.Timeline = e.timeline()
	agg := e.agg
	res.Totals = Totals{
		Counts: Counts{Planned: e.planned.Load(), Sent: e.sent.Load(), Late: e.late.Load(),
			Completed: agg.completed.Load(), Errors: agg.errors.Load(), Retries: agg.retries.Load()},
		DroppedInFlight: e.droppedCap.Load(), DroppedLate: e.droppedLate.Load(),
		Canceled: agg.canceled.Load(), InFlightLimitLow: e.limit.lowest, MaxBehind: e.limit.maxBehind,
	}
	res.Totals.Dropped = res.Totals.DroppedInFlight + res.Totals.DroppedLate
	res.Ledger = e.ledger.Snapshot(e.runID, e.start)
	res.Totals.LostSessions = int64(res.Ledger.LostSessions())
	if e.files != nil {
		res.Files = e.files.paths()
		if err := res.Ledger.WriteFile(res.Files.Ledger); err != nil {
			return res, err
		}
	}
	if aggErr != nil {
		return res, fmt.Errorf("write run files: %w", aggErr)
	}
	return res, nil
}

// timeline is the aggregator's per-second completions with the scheduler's
// per-second counts of planned, sent, late and dropped requests.
func (e *engine) timeline() []Second {
	tl := e.agg.timeline
	for len(tl) < len(e.secPlanned) {
		tl = append(tl, Second{Second: len(tl)})
	}
	for i := range tl {
		if i < len(e.secPlanned) {
			tl[i].Planned, tl[i].Sent = e.secPlanned[i], e.secSent[i]
			tl[i].Late, tl[i].Dropped = e.secLate[i], e.secDropped[i]
		}
		if tl[i].Phase == "" {
			tl[i].Phase = e.phaseAt(time.Duration(i) * time.Second)
		}
	}
	return tl
}

func (e *engine) phaseAt(t time.Duration) string {
	var off time.Duration
	for _, p := range e.cfg.Phases {
		if t < off+p.Duration {
			return p.Name
		}
		off += p.Duration
	}
	return ""
}
