package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaosbench/chaosbench/flow"
)

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
	runVars flow.Vars // what declared ops read without a client: run.id
	ops     []Op
	cum     []int // cumulative weights

	agg     *aggregator
	files   *runFiles // nil without a RunDir
	records chan Record
	jobs    chan job
	limit   *inflightLimit // the scheduler's adaptive in-flight cap
	wt      *wireTarget    // nil with WithHTTPClient or HTTP2: measured requests go through net/http
	h2      bool           // Config.HTTP2: http is the HTTP/2 client (wire_h2.go)

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
	trace    bool // sampled for the harness's breakdown (trace.go)
}

// Run sets up the clients, runs every phase and returns what was measured.
// It returns an error only when the run could not be carried out (bad
// config, target not allowed, setup failed, files not writable); failed
// requests are results, not errors.
//
// The engine schedules and executes requests (this file, exec.go, wire.go);
// the aggregator turns their records into stats, timeline and hlog
// (stats.go), runFiles writes the run's folder (files.go), result.go
// assembles the Result and progress.go reports on the way.
func Run(ctx context.Context, cfg Config, opts ...Option) (*Result, error) {
	e, err := newEngine(cfg, opts)
	if err != nil {
		return nil, err
	}
	cfg = e.cfg
	if e.set.client == nil {
		defer e.http.CloseIdleConnections()
	}

	setupStart := time.Now()
	if cfg.Clients > 0 {
		e.set.logger.Info("load setup", "clients", cfg.Clients, "concurrency", cfg.SetupConcurrency, "run", e.runID)
		if err := e.setupClients(ctx); err != nil {
			return nil, err
		}
	}
	if e.files, err = createRunFiles(cfg.RunDir, e.ledger); err != nil {
		return nil, err
	}
	phaseNames := make([]string, len(cfg.Phases))
	for i, p := range cfg.Phases {
		phaseNames[i] = p.Name
	}
	e.agg = newAggregator(e.opNames(), phaseNames, cfg.MaxLateness+cfg.Retry.Budget+cfg.Grace, cfg.TraceEvery, e.files)
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
	startAt := cfg.StartAt
	if startAt.IsZero() && cfg.StartGate != nil {
		if startAt, err = cfg.StartGate(ctx); err != nil {
			return nil, fmt.Errorf("load start: %w", err)
		}
	}
	if !startAt.IsZero() {
		if e.start, err = waitStart(ctx, startAt); err != nil {
			return nil, err
		}
	}
	cpu0 := processCPU()
	e.agg.begin(e.start)
	for _, fn := range e.set.onStart {
		fn(e.start)
	}

	everySecond := e.ledger.flush
	if fn := e.set.onLive; fn != nil {
		e.agg.kinds = map[string]int64{}
		var lc liveCounts
		everySecond = func() { e.ledger.flush(); fn(e.live(&lc)) }
	}
	aggDone := make(chan struct{})
	go func() {
		defer close(aggDone)
		e.agg.consume(e.records, e.start, everySecond)
	}()
	stopProgress := e.progress()

	e.schedule(runCtx)
	e.drain(runCtx, cancelRun)
	close(e.records)
	<-aggDone
	ledgerErr := e.ledger.close() // every worker is done: no order can follow
	stopProgress()
	cpu := processCPU() - cpu0
	res, err := e.result(setup, warm, time.Now(), ledgerErr)
	if res != nil {
		res.CPU = cpu
	}
	return res, err
}

// newEngine checks cfg and the options, and readies the HTTP clients, the
// seed, the run id and the mix. Nothing is sent yet.
func newEngine(cfg Config, opts []Option) (*engine, error) {
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
	if e.http == nil && cfg.HTTP2 {
		// HTTP/2 (wire_h2.go): one client for setup and the measured requests, its streams on one
		// connection; no wire target, so Exec takes its net/http attempt.
		e.http, e.h2 = newH2Client(e.base, edgeTLS(e.base, cfg.TLS), cfg.Timeout), true
	} else if e.http == nil {
		wt, err := newWireTarget(e.base)
		if err != nil {
			return nil, fmt.Errorf("load target: %w", err)
		}
		e.http, e.wt = newHTTPClient(cfg.MaxInFlight), wt
		tc := edgeTLS(e.base, cfg.TLS)
		wt.setEdge(tc, cfg.NoKeepAlive)
		setEdgeHTTP(e.http, tc, cfg.NoKeepAlive)
	}
	if e.cfg.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			e.cfg.Seed = e.cfg.Seed<<8 | uint64(x)
		}
		e.cfg.Seed |= 1
	}
	e.cfg.Seed = cfg.Segment.Seed(e.cfg.Seed)
	e.runID = cfg.RunID
	if e.runID == "" {
		e.runID = NewRunID()
	}
	e.runVars = flow.Vars{flow.VarRunID: flow.String(e.runID)}

	total := 0
	for _, w := range cfg.Mix {
		e.ops = append(e.ops, w.Op)
		total += w.Weight
		e.cum = append(e.cum, total)
	}
	return e, nil
}

func (e *engine) opNames() []string {
	names := make([]string, len(e.ops))
	for i, op := range e.ops {
		names[i] = op.Name()
	}
	return names
}

// drain ends the run once the schedule has: in-flight requests get the
// grace period to finish, then the rest are cancelled (recorded as
// canceled, not lost) and every worker has returned.
func (e *engine) drain(runCtx context.Context, cancelRun context.CancelFunc) {
	graceEnd := time.NewTimer(e.cfg.Grace)
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
	// seq numbers every hit of the whole schedule, this segment's or not
	// (segment.go): a hit's number is the same whichever worker sends it.
	var seq uint64
	seg := e.cfg.Segment
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
			if seq++; !seg.Owns(seq) {
				continue // another worker's hit: not this engine's to plan or send
			}
			planned := phaseStart + t
			sec := int(planned / time.Second)
			e.rateMilli.Store(int64(ph.Pacer.Rate(t) * 1000))
			slept := false
			if d := planned - time.Since(e.start); d > 0 {
				slept = true
				if !e.waitUntil(ctx, timer, planned) {
					return
				}
			} else if ctx.Err() != nil {
				return
			}
			e.planned.Add(1)
			e.secPlanned[sec]++
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
			j := job{seq: seq, planned: planned, phase: pi, dispatch: now, trace: traced(seq, e.cfg.TraceEvery),
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
	var dequeued time.Duration
	if j.trace {
		dequeued = time.Since(e.start)
	}
	w.pcg.Seed(j.seedA, j.seedB)
	x := &Exec{e: e, w: w, seq: j.seq, planned: j.planned, rnd: w.rnd,
		deadline: e.start.Add(j.dispatch + e.cfg.Retry.Budget), st: stamps{traced: j.trace}}
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
	client := j.client
	if x.client != nil {
		client = x.client.ID // the client's number in the whole run (Segment.Clients)
	}
	r := Record{Seq: j.seq, Op: op.Name(), Phase: e.cfg.Phases[j.phase].Name, Client: client,
		Planned: j.planned, Sent: j.dispatch, Latency: end - j.planned, Service: x.service,
		Attempts: x.attempts, Calls: x.calls, Status: out.Status, Class: out.Class, Code: out.Code, Node: x.node,
		Key: out.Key, Session: x.session, ReqBytes: x.reqBytes, opIdx: j.op, phaseIdx: j.phase, Dequeued: dequeued}
	if !x.st.written.IsZero() {
		r.Written = x.st.written.Sub(e.start)
	}
	if !x.st.firstByte.IsZero() {
		r.FirstByte = x.st.firstByte.Sub(e.start)
	}
	e.inflight.Add(-1)
	e.records <- r
}

// NewRunID draws a run id (Config.RunID): 8 hex digits.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
