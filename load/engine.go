package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
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
	WarmConns int           `json:"warm_conns"`
	Phases    []PhaseWindow `json:"phases"`
	Totals    Totals        `json:"totals"`
	Stats     []OpStats     `json:"stats"`
	Timeline  []Second      `json:"timeline"`
	// Hist holds cumulative latency histograms per op × phase.
	Hist   map[HistKey]*hdrhistogram.Histogram `json:"-"`
	Ledger LedgerSnapshot                      `json:"-"`
	Files  Files                               `json:"files"`
}

// PhaseWindow is a phase's place on the run's clock.
type PhaseWindow struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
}

// Totals counts requests. Planned = Sent + Dropped; Sent = Completed.
type Totals struct {
	Planned         int64 `json:"planned"`
	Sent            int64 `json:"sent"`
	Late            int64 `json:"late"` // sent, but more than LateAfter after their planned time
	Dropped         int64 `json:"dropped"`
	DroppedInFlight int64 `json:"dropped_in_flight"` // the in-flight cap (MaxInFlight or the adaptive limit) was reached
	DroppedLate     int64 `json:"dropped_late"`      // could not be sent within MaxLateness
	Completed       int64 `json:"completed"`
	Errors          int64 `json:"errors"`
	Retries         int64 `json:"retries"`
	Canceled        int64 `json:"canceled"` // still running when the grace period ended
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

// engine is one run's state.
type engine struct {
	cfg    Config
	set    settings
	base   string
	http   *http.Client
	runID  string
	start  time.Time
	ledger *Ledger

	clients []*Client
	ops     []Op
	cum     []int // cumulative weights

	agg     *aggregator
	records chan Record
	jobs    chan job
	limit   *inflightLimit // the scheduler's adaptive in-flight cap
	wt      *wireTarget    // nil with WithHTTPClient: measured requests go through net/http

	inflight    atomic.Int64
	workers     int
	workerWG    sync.WaitGroup
	sent        atomic.Int64
	late        atomic.Int64
	droppedCap  atomic.Int64
	droppedLate atomic.Int64
	planned     atomic.Int64
	rateMilli   atomic.Int64 // planned rate × 1000, for progress

	// per planned second, written by the scheduler only
	secPlanned, secSent, secLate, secDropped []int64
}

type job struct {
	seq      uint64
	planned  time.Duration
	op       int
	phase    int
	client   int
	seedA    uint64
	seedB    uint64
	dispatch time.Duration
}

// Run sets up the clients, runs every phase and returns what was measured.
// It returns an error only when the run could not be carried out (bad
// config, target not allowed, setup failed, files not writable); failed
// requests are results, not errors.
func Run(ctx context.Context, cfg Config, opts ...Option) (*Result, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("load config: %w", errors.Join(errs...))
	}
	cfg = cfg.withDefaults()
	e := &engine{cfg: cfg, ledger: newLedger(), base: strings.TrimRight(cfg.BaseURL, "/")}
	for _, o := range opts {
		if err := o(&e.set); err != nil {
			return nil, fmt.Errorf("load option: %w", err)
		}
	}
	if err := checkTarget(cfg.BaseURL, e.set.allowed); err != nil {
		return nil, fmt.Errorf("load target: %w", err)
	}
	if e.set.logger == nil {
		e.set.logger = slog.Default()
	}
	// net/http for setup and logins, and for measured requests only with
	// WithHTTPClient; otherwise each worker speaks HTTP/1.1 on its own
	// connection (wire.go).
	e.http = e.set.client
	if e.http == nil {
		e.http = newHTTPClient(cfg.MaxInFlight)
		defer e.http.CloseIdleConnections()
		wt, err := newWireTarget(e.base)
		if err != nil {
			return nil, fmt.Errorf("load target: %w", err)
		}
		e.wt = wt
	}
	if e.cfg.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			e.cfg.Seed = e.cfg.Seed<<8 | uint64(x)
		}
		e.cfg.Seed |= 1
	}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	e.runID = hex.EncodeToString(idb[:])

	total := 0
	for _, w := range cfg.Mix {
		e.ops = append(e.ops, w.Op)
		total += w.Weight
		e.cum = append(e.cum, total)
	}
	opNames := make([]string, len(e.ops))
	for i, op := range e.ops {
		opNames[i] = op.Name()
	}
	phaseNames := make([]string, len(cfg.Phases))
	for i, p := range cfg.Phases {
		phaseNames[i] = p.Name
	}

	setupStart := time.Now()
	if cfg.Clients > 0 {
		e.set.logger.Info("load setup", "clients", cfg.Clients, "concurrency", cfg.SetupConcurrency, "run", e.runID)
		if err := e.setupClients(ctx); err != nil {
			return nil, err
		}
	}
	lag := cfg.MaxLateness + cfg.Retry.Budget + cfg.Grace
	agg, err := newAggregator(opNames, phaseNames, lag, cfg.RunDir)
	if err != nil {
		return nil, err
	}
	e.agg = agg
	if cfg.RunDir != "" {
		if err := e.ledger.stream(filepath.Join(cfg.RunDir, OrdersFileName)); err != nil {
			_ = agg.finish()
			return nil, err
		}
	}
	// A deep buffer absorbs bursts (a stall releasing thousands of answers)
	// without blocking workers on the aggregator.
	e.records = make(chan Record, 16384)
	e.jobs = make(chan job)
	e.limit = newInflightLimit(cfg.MaxInFlight, cfg.FixedInFlight)
	secs := int((cfg.Duration() + time.Second - 1) / time.Second)
	e.secPlanned, e.secSent = make([]int64, secs), make([]int64, secs)
	e.secLate, e.secDropped = make([]int64, secs), make([]int64, secs)

	// runCtx ends in-flight work at duration + grace; the scheduler stops
	// earlier, at the end of the last phase.
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()

	warm, werr := e.warmUp(ctx, runCtx)
	if werr != nil {
		e.set.logger.Warn("load warm-up failed: the first requests may have to dial", "err", werr)
	}
	setup := time.Since(setupStart)

	e.start = time.Now()
	agg.begin(e.start)
	for _, fn := range e.set.onStart {
		fn(e.start)
	}

	aggDone := make(chan struct{})
	go e.aggregate(aggDone)
	stopProgress := e.progress()

	e.schedule(runCtx)

	// Grace: let in-flight requests finish, then cancel the rest; they are
	// recorded as canceled, not lost.
	graceEnd := time.NewTimer(cfg.Grace)
	drained := make(chan struct{})
	go func() {
		for e.inflight.Load() > 0 && runCtx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-graceEnd.C:
	}
	graceEnd.Stop()
	cancelRun()
	close(e.jobs)
	e.workerWG.Wait()
	close(e.records)
	<-aggDone
	ledgerErr := e.ledger.close() // every worker is done: no order can follow
	stopProgress()
	end := time.Now()

	res := &Result{RunID: e.runID, Seed: e.cfg.Seed, Start: e.start, End: end,
		Planned: cfg.Duration(), Setup: setup, WarmConns: warm}
	var off time.Duration
	for _, p := range cfg.Phases {
		res.Phases = append(res.Phases, PhaseWindow{Name: p.Name, Start: off, End: off + p.Duration})
		off += p.Duration
	}
	// finish closes the last per-second windows into the timeline: it must
	// come before the timeline is read, or the final seconds (all of them,
	// in a short run) show no completions.
	aggErr := errors.Join(agg.finish(), ledgerErr)
	res.Stats, res.Hist = agg.stats()
	res.Timeline = e.timeline()
	res.Totals = Totals{
		Planned: e.planned.Load(), Sent: e.sent.Load(), Late: e.late.Load(),
		DroppedInFlight: e.droppedCap.Load(), DroppedLate: e.droppedLate.Load(),
		Completed: agg.completed.Load(), Errors: agg.errors.Load(), Retries: agg.retries.Load(),
		Canceled:         agg.canceled.Load(),
		InFlightLimitLow: e.limit.lowest, MaxBehind: e.limit.maxBehind,
	}
	res.Totals.Dropped = res.Totals.DroppedInFlight + res.Totals.DroppedLate
	res.Ledger = e.ledger.Snapshot(e.runID, e.start)
	res.Totals.LostSessions = int64(res.Ledger.LostSessions())
	if cfg.RunDir != "" {
		res.Files = Files{Records: filepath.Join(cfg.RunDir, RecordsFileName),
			HLog: filepath.Join(cfg.RunDir, HLogFileName), Ledger: filepath.Join(cfg.RunDir, LedgerFileName),
			Orders: filepath.Join(cfg.RunDir, OrdersFileName)}
		if err := res.Ledger.WriteFile(res.Files.Ledger); err != nil {
			return res, err
		}
	}
	if aggErr != nil {
		return res, fmt.Errorf("write run files: %w", aggErr)
	}
	return res, nil
}

// aggregateEvery is how often the aggregator drains the records channel.
// Receiving each record as it comes woke the aggregator goroutine once per
// request (a futex wake-up of an idle thread, most of the time, below
// saturation); draining every 5 ms wakes it 200 times a second whatever the
// rate. The channel's 16384 slots hold 5 ms of records up to 3 million a
// second; a worker that finds it full waits, it does not drop.
const aggregateEvery = 5 * time.Millisecond

func (e *engine) aggregate(done chan<- struct{}) {
	defer close(done)
	drain := time.NewTicker(aggregateEvery)
	defer drain.Stop()
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	for {
		select {
		case <-drain.C:
			for more := true; more; {
				select {
				case r, ok := <-e.records:
					if !ok {
						return // closed and drained: every worker is done
					}
					e.agg.add(&r)
				default:
					more = false
				}
			}
		case <-sec.C:
			e.agg.tick(time.Since(e.start))
			e.ledger.flush()
		}
	}
}

// maxPaceStep bounds how far the virtual clock moves before asking the
// pacer again.
const maxPaceStep = 10 * time.Millisecond

// schedule walks the phases on a virtual clock: the planned time of request
// n is the previous planned time plus the pacer's wait at that planned time,
// so it depends on the pacer and n only, never on how late the engine is.
func (e *engine) schedule(ctx context.Context) {
	rnd := mrand.New(mrand.NewPCG(e.cfg.Seed, 0x9e3779b97f4a7c15))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var seq uint64
	var phaseStart time.Duration
	lim := e.limit
	for pi, ph := range e.cfg.Phases {
		var t time.Duration
		var hits uint64
		same := 0
		for {
			wait, stop := ph.Pacer.Pace(t, hits)
			if stop {
				break
			}
			if wait < 0 {
				wait = 0
			}
			// Re-evaluate at least every maxPaceStep of virtual time, as
			// vegeta's attack loop does in real time: ramp and sine pacers
			// estimate the wait from the current rate, which overshoots
			// badly where the rate is low and rising.
			if wait > maxPaceStep {
				t += maxPaceStep
				if t >= ph.Duration {
					break
				}
				continue
			}
			// A pacer that never advances would spin forever at one instant.
			if wait == 0 {
				if same++; same > 1_000_000 {
					e.set.logger.Error("pacer does not advance; phase ended early", "phase", ph.Name)
					break
				}
			} else {
				same = 0
			}
			t += wait
			if t >= ph.Duration {
				break
			}
			hits++
			planned := phaseStart + t
			sec := int(planned / time.Second)
			e.rateMilli.Store(int64(ph.Pacer.Rate(t) * 1000))
			slept := false
			if d := planned - time.Since(e.start); d > 0 {
				slept = true
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			} else if ctx.Err() != nil {
				return
			}
			e.planned.Add(1)
			e.secPlanned[sec]++
			seq++
			now := time.Since(e.start)
			lateness := now - planned
			inflight := e.inflight.Load()
			obs := dispatch{now: now, lateness: lateness, late: lateness > e.cfg.LateAfter,
				slept: slept, sent: e.sent.Load(), inflight: inflight}
			if lateness > e.cfg.MaxLateness {
				lim.observe(obs)
				e.droppedLate.Add(1)
				e.secDropped[sec]++
				continue
			}
			if !lim.allow(inflight) {
				obs.shed = true
				lim.observe(obs)
				e.droppedCap.Add(1)
				e.secDropped[sec]++
				continue
			}
			lim.observe(obs)
			if obs.late {
				e.late.Add(1)
				e.secLate[sec]++
			}
			j := job{seq: seq, planned: planned, phase: pi, dispatch: now,
				op: e.pick(rnd), client: -1, seedA: rnd.Uint64(), seedB: rnd.Uint64()}
			if len(e.clients) > 0 {
				j.client = rnd.IntN(len(e.clients))
			}
			e.inflight.Add(1)
			e.sent.Add(1)
			e.secSent[sec]++
			e.dispatch(ctx, j)
		}
		phaseStart += ph.Duration
	}
	// The schedule ends at the planned end even if the last phase's pacer
	// stopped early, so phases keep their place on the clock.
	if d := phaseStart - time.Since(e.start); d > 0 {
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

func (e *engine) pick(rnd *mrand.Rand) int {
	if len(e.ops) == 1 {
		return 0
	}
	n := rnd.IntN(e.cum[len(e.cum)-1])
	for i, c := range e.cum {
		if n < c {
			return i
		}
	}
	return len(e.ops) - 1
}

// dispatch hands the job to an idle worker or starts one: workers grow with
// demand up to MaxInFlight (checked by the caller) and are reused, so the
// steady state allocates no goroutines.
func (e *engine) dispatch(ctx context.Context, j job) {
	select {
	case e.jobs <- j:
		return
	default:
	}
	if e.workers < e.cfg.MaxInFlight {
		e.startWorker(ctx, e.newWorker(), &j)
		return
	}
	// Every worker exists and one is about to become idle (in-flight < cap).
	select {
	case e.jobs <- j:
	case <-ctx.Done():
		e.inflight.Add(-1)
	}
}

// worker is one request at a time: its random source (re-seeded per
// request, no allocation) and, unless WithHTTPClient, its own keep-alive
// connection (wire.go).
type worker struct {
	wire *wire
	pcg  *mrand.PCG
	rnd  *mrand.Rand
}

func (e *engine) newWorker() *worker {
	w := &worker{pcg: mrand.NewPCG(0, 0)}
	w.rnd = mrand.New(w.pcg)
	if e.wt != nil {
		w.wire = newWire(e.wt)
	}
	return w
}

// startWorker runs w until the jobs channel closes; first, if set, is its
// first job. Only the scheduler (or setup, before it) calls it.
func (e *engine) startWorker(runCtx context.Context, w *worker, first *job) {
	e.workers++
	e.workerWG.Add(1)
	go e.worker(runCtx, w, first)
}

func (e *engine) worker(runCtx context.Context, w *worker, first *job) {
	defer e.workerWG.Done()
	// Per-attempt timeouts derive from this worker's own context: deriving
	// them from the shared run context makes every attempt take the run
	// context's lock (context.propagateCancel), a contention point at
	// thousands of requests per second.
	ctx, cancel := context.WithCancel(runCtx)
	defer cancel()
	if w.wire != nil {
		// When the run is cancelled (grace over), wake the blocked read.
		defer context.AfterFunc(ctx, w.wire.cancel)()
		defer w.wire.close()
	}
	if first != nil {
		e.run(ctx, w, *first)
	}
	for j := range e.jobs {
		e.run(ctx, w, j)
	}
}

func (e *engine) run(ctx context.Context, w *worker, j job) {
	w.pcg.Seed(j.seedA, j.seedB)
	x := &Exec{e: e, w: w, seq: j.seq, planned: j.planned, rnd: w.rnd,
		deadline: e.start.Add(j.dispatch + e.cfg.Retry.Budget)}
	if j.client >= 0 {
		x.client = e.clients[j.client]
	}
	op := e.ops[j.op]
	out := op.Do(ctx, x)
	end := time.Since(e.start)
	if out.Class == "" {
		out.Class = ClassOK
	}
	if ctx.Err() != nil && out.Class != ClassOK {
		out.Class = ClassCanceled
	}
	r := Record{Seq: j.seq, Op: op.Name(), Phase: e.cfg.Phases[j.phase].Name, Client: j.client,
		Planned: j.planned, Sent: j.dispatch, Latency: end - j.planned, Service: x.service,
		Attempts: x.attempts, Calls: x.calls, Status: out.Status, Class: out.Class, Code: out.Code, Node: x.node,
		Key: out.Key, Session: x.session, opIdx: j.op, phaseIdx: j.phase}
	e.inflight.Add(-1)
	e.records <- r
}

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

// progress prints one live line per second on a terminal, else a log line
// every 5 s. It returns a stop function.
func (e *engine) progress() func() {
	if e.set.quiet {
		return func() {}
	}
	w, live := e.set.progress, e.set.live
	if w == nil {
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			w, live = os.Stderr, true
		}
	}
	every := 5 * time.Second
	if live {
		every = time.Second
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		var lastSent int64
		lastAt := time.Now()
		for {
			select {
			case <-done:
				if live && w != nil {
					fmt.Fprintln(w)
				}
				return
			case now := <-t.C:
				sent := e.sent.Load()
				actual := float64(sent-lastSent) / now.Sub(lastAt).Seconds()
				lastSent, lastAt = sent, now
				el := time.Since(e.start).Truncate(time.Second)
				p99 := time.Duration(e.agg.p99us.Load()) * time.Microsecond
				planned := float64(e.rateMilli.Load()) / 1000
				dropped := e.droppedCap.Load() + e.droppedLate.Load()
				if live && w != nil {
					fmt.Fprintf(w, "\r%s/%s  rate %.0f/%.0f/s  in-flight %d  p99 %s  errors %d  retries %d  late %d  dropped %d   ",
						el, e.cfg.Duration(), actual, planned, e.inflight.Load(), p99,
						e.agg.errors.Load(), e.agg.retries.Load(), e.late.Load(), dropped)
				} else {
					e.set.logger.Info("load progress", "elapsed", el, "total", e.cfg.Duration(),
						"planned_rate", math.Round(planned), "actual_rate", math.Round(actual),
						"in_flight", e.inflight.Load(), "p99", p99, "errors", e.agg.errors.Load(),
						"retries", e.agg.retries.Load(), "late", e.late.Load(), "dropped", dropped)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}
