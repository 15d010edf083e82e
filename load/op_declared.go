package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/internal/poll"
)

// Classes of a declared op's failures that are not the status's.
const (
	// ClassCaptureFailed: a capture of a step matched nothing in the answer; the op stops there.
	ClassCaptureFailed = "capture_failed"
	// ClassExpectFailed: a 2xx or 3xx answer that the step's expect refuses (another status, a JSON
	// equality that does not hold).
	ClassExpectFailed = "expect_failed"
	// ClassSetupFailed: the request's virtual client never finished its declared setup, so its op is
	// not sent (it is recorded, not skipped).
	ClassSetupFailed = "setup_failed"
)

// Declared is an op a scenario declares (flow.Op): its steps are rendered per request with the
// client's variables and the op's own captures, sent through Exec.Do (retries, timeouts, records as for
// the built-in ops), checked and captured. With an idempotency header, one key per logical op is sent
// on every step and every retry, and the op's outcome goes to the ledger as order.create's does.
type Declared struct {
	op    *flow.Op
	retry *RetryPolicy // the op's own retry policy; nil: the run's
	pool  sync.Pool    // *declState
}

var _ Op = (*Declared)(nil)

// DeclaredOption configures a Declared.
type DeclaredOption func(*Declared)

// WithRetry gives the op a retry policy of its own, used by its steps' calls instead of Config.Retry.
// Its budget must not exceed the run's (Config.Validate): the run's grace is sized by that one.
func WithRetry(p RetryPolicy) DeclaredOption {
	return func(d *Declared) {
		if p != (RetryPolicy{}) { // the zero policy: the run's applies
			d.retry = &p
		}
	}
}

// NewDeclared makes op runnable by the engine; put it in Config.Mix.
func NewDeclared(op flow.Op, opts ...DeclaredOption) *Declared {
	d := &Declared{op: &op}
	for _, o := range opts {
		o(d)
	}
	return d
}

func (d *Declared) Name() string { return d.op.Name }

// declState is one request's scratch: its scope (the client's variables under the op's captures), its
// render environment and the buffers its steps render into, reused from request to request.
type declState struct {
	retry   *RetryPolicy // the op's policy for its steps' calls (nil: the run's)
	scope   opScope
	env     flow.Env
	req     flow.Rendered
	headers []Header
}

// opScope answers the op's captures first, then the client's variables (read-only during the run:
// concurrent requests of one client share them).
type opScope struct {
	base  flow.Vars
	local flow.Vars
}

func (s *opScope) Lookup(name string) (flow.Value, bool) {
	if v, ok := s.local[name]; ok {
		return v, true
	}
	v, ok := s.base[name]
	return v, ok
}

func (d *Declared) state() *declState {
	if st, ok := d.pool.Get().(*declState); ok {
		return st
	}
	st := &declState{scope: opScope{local: flow.Vars{}}, retry: d.retry}
	st.env.Scope = &st.scope
	return st
}

func (d *Declared) Do(ctx context.Context, x *Exec) Outcome {
	c := x.Client()
	if c != nil && c.setupErr != nil {
		return Outcome{Class: ClassSetupFailed, Err: c.setupErr}
	}
	if len(d.op.Steps) == 0 { // scenarios refuses it; a Go caller may not
		return Outcome{Class: ClassSetup, Err: errNoSteps}
	}
	st := d.state()
	defer d.pool.Put(st)
	clear(st.scope.local)
	st.scope.base = x.e.runVars
	var gen uint64
	if c != nil {
		if vars, g := c.declaredVars(); vars != nil {
			st.scope.base, gen = vars, g
		}
	}
	st.env.Rand, st.env.Seq = x.Rand(), x.Seq()

	op := d.op
	key, sent := "", "" // sent: the key as the header carries it ("" when the key goes in the body only)
	var out stepOutcome
	for restart := 0; ; restart++ {
		if op.Idempotent {
			// One key per logical op, on every step and retry; a restart (restart_on: a definite
			// refusal such as 412) is a new write, so it gets a key of its own.
			key = x.Key()
			if restart > 0 {
				key += "-r" + strconv.Itoa(restart)
			}
			st.scope.local[flow.VarIdempotencyKey] = flow.String(key)
			if op.IdempotencyHeader != "" {
				sent = key
			}
		}
		out = st.steps(ctx, x, op.Steps, op.IdempotencyHeader, sent, op.RestartOn)
		// restart_on is bounded by the retry budget: as many runs through the steps as attempts, and
		// none started past the deadline.
		final := !out.restart || restart+1 >= x.e.cfg.Retry.Attempts || !x.beforeDeadline()
		if r := op.Record; r != nil && r.Counter != "" {
			// Each run through the steps counts for the counter it read (a restart may pick another).
			d.count(x, st, out, final)
		}
		if final {
			break
		}
		clear(st.scope.local)
	}
	if op.Idempotent {
		d.record(x, key, out)
	}
	if s := x.e.declaredSession(); s != nil && c != nil && out.err == nil && out.resp != nil &&
		slices.Contains(s.Unknown, out.resp.Status) {
		x.e.sessionRefused(ctx, c, gen)
	}
	o := OutcomeOf(x, out.resp, out.err, key)
	if out.err == nil && out.class != "" {
		o.Class = out.class
		if out.fail != nil {
			o.Err = out.fail
		}
	}
	return o
}

// record writes the op's outcome to the ledger by the rule every keyed write follows (orderEntry).
func (d *Declared) record(x *Exec, key string, out stepOutcome) {
	e := orderEntry(x, key, out.resp, out.err)
	e.Op = d.op.Name
	if d.op.Record != nil {
		e.Set = d.op.Record.Set
	}
	x.Ledger().RecordOrder(e)
}

// count writes one run through a counter op's steps to the ledger: the write's attempts whose effect is
// unknown and, for a restart, the refusal; for the op's final run, its outcome too (acknowledged when
// every step held). A run that never sent its write (out.last before the last step) attempted nothing,
// and its key may not render (it reads those steps' captures): nothing to record.
func (d *Declared) count(x *Exec, st *declState, out stepOutcome, final bool) {
	r := d.op.Record
	if out.last < len(d.op.Steps)-1 || out.resp == nil {
		return
	}
	key, err := r.Key.Render(&st.env)
	if err != nil {
		return
	}
	conflicts := 0
	if out.restart {
		conflicts = 1
	}
	if !final {
		x.Ledger().RecordCounterAttempts(r.Counter, key, r.By, out.resp.Uncertain, conflicts)
		return
	}
	acked := out.err == nil && out.class == ""
	x.Ledger().RecordCounter(r.Counter, key, r.By, acked, out.resp.Uncertain, conflicts)
}

// stepOutcome is how a run through an op's (or a setup's) steps ended: the last answer or transport
// error, and, when a step failed with an answer, its class and why.
type stepOutcome struct {
	resp    *Response
	err     error
	class   string // "" when every step held
	fail    error
	restart bool // the last answer's status is one of restart_on
	last    int  // the index of the last step sent
}

// steps runs steps in order, stopping at the first that fails; captures go to the scope's local variables.
func (st *declState) steps(ctx context.Context, x *Exec, steps []flow.Step, idemHeader, key string, restartOn []int) stepOutcome {
	var out stepOutcome
	for i := range steps {
		s := &steps[i]
		out = st.step(ctx, x, s, idemHeader, key)
		out.last = i
		if out.err == nil && slices.Contains(restartOn, out.resp.Status) {
			// A restart_on status restarts the op whatever the step's expect says (as chaosbench try does);
			// when no restart is left, it is the op's answer.
			out.restart = true
			if out.class == "" {
				out.class = classOfStatus(out.resp.Status)
			}
			return out
		}
		if out.err != nil || out.class != "" {
			return out
		}
		if s.Think > 0 && !poll.Sleep(ctx, s.Think) {
			return out
		}
	}
	return out
}

// step renders s into st's buffers, sends it and checks and captures its answer.
func (st *declState) step(ctx context.Context, x *Exec, s *flow.Step, idemHeader, key string) stepOutcome {
	r, err := st.render(s, idemHeader, key)
	if err != nil {
		return stepOutcome{resp: &Response{}, class: ClassSetup, fail: fmt.Errorf("render %s %s: %w", s.Method, s.Path, err)}
	}
	r.Retry = st.retry
	resp, err := x.Do(ctx, r)
	if err != nil {
		return stepOutcome{resp: resp, err: err}
	}
	fr := flow.Response{Status: resp.Status, Header: resp.Header, Body: resp.Body, Retried: resp.Uncertain > 0}
	m, cerr := s.Accept(&fr, st.scope.local)
	switch {
	case m != nil:
		class := classOfStatus(resp.Status)
		if class == ClassOK {
			class = ClassExpectFailed
		}
		return stepOutcome{resp: resp, class: class, fail: m}
	case cerr != nil:
		return stepOutcome{resp: resp, class: ClassCaptureFailed, fail: cerr}
	}
	return stepOutcome{resp: resp}
}

// render makes s's request (flow.Step.Render); its Path, Body and Headers point into st's buffers,
// valid until the next render.
func (st *declState) render(s *flow.Step, idemHeader, key string) (Request, error) {
	if err := s.Render(&st.req, &st.env); err != nil {
		return Request{}, err
	}
	q := &st.req
	hs := st.headers[:0]
	for _, h := range q.Headers {
		hs = append(hs, Header(h))
	}
	st.headers = hs
	path := ""
	if s.Path != nil && s.Path.IsConst() && len(s.Query) == 0 {
		path = s.Path.String() // the common fixed path: no string to make
	} else {
		path = string(q.Path)
	}
	return Request{Method: s.Method, Path: path, Body: q.Body, ContentType: q.ContentType, Headers: hs,
		NoAuth: true, IdempotencyKey: key, IdempotencyHeader: idemHeader}, nil
}

// beforeDeadline reports whether the request's retry budget has time left.
func (x *Exec) beforeDeadline() bool { return time.Now().Before(x.deadline) }

// setupDeclared gives c its declared variables and runs the client section's setup steps once, outside
// the measured run; the captures join c's variables. A failure is kept in c.setupErr: that client's
// declared ops are then recorded as setup_failed. Either way the ledger keeps the client's variables (for
// the invariants' reads) and, with a declared session, the session's start.
func (e *engine) setupDeclared(ctx context.Context, c *Client) {
	cl := e.cfg.Client
	vars := flow.Vars{flow.VarClientID: flow.Int(int64(c.ID)), flow.VarRunID: flow.String(e.runID)}
	c.vars = vars
	defer func() { e.ledger.recordClient(clientEntry(c.ID, vars, c.setupErr)) }()
	rnd := rand.New(rand.NewPCG(e.cfg.Seed, uint64(c.ID)))
	env := flow.Env{Scope: vars, Rand: rnd}
	for _, v := range cl.Vars {
		s, err := v.Tmpl.Render(&env)
		if err != nil {
			c.setupErr = fmt.Errorf("client %d: client.vars.%s: %w", c.ID, v.Name, err)
			return
		}
		vars[v.Name] = flow.String(s)
	}
	if c.setupErr = e.runSetup(ctx, c, vars, rnd, nil); c.setupErr != nil {
		return
	}
	if cl.Session != nil {
		e.startDeclaredSession(c, time.Now())
	}
}

// runSetup runs the client section's setup steps into vars: all of them, or only those at the indexes
// only (a new session's login steps).
func (e *engine) runSetup(ctx context.Context, c *Client, vars flow.Vars, rnd *rand.Rand, only []int) error {
	cl := e.cfg.Client
	st := &declState{scope: opScope{local: vars}}
	st.env = flow.Env{Scope: &st.scope, Rand: rnd}
	for i := range cl.Setup {
		if only != nil && !slices.Contains(only, i) {
			continue
		}
		s := &cl.Setup[i]
		x := &Exec{e: e, rnd: rnd, seq: uint64(i), deadline: time.Now().Add(e.cfg.Retry.Budget)}
		st.env.Seq = uint64(i)
		out := st.step(ctx, x, s, "", "")
		name := s.Name
		if name == "" {
			name = "steps[" + strconv.Itoa(i) + "]"
		}
		switch {
		case out.err != nil:
			return fmt.Errorf("client %d: setup/%s: %w", c.ID, name, out.err)
		case out.class != "":
			return fmt.Errorf("client %d: setup/%s: status %d, %s: %w", c.ID, name, out.resp.Status, out.class, out.fail)
		}
		if s.Think > 0 && !poll.Sleep(ctx, s.Think) {
			return ctx.Err()
		}
	}
	return nil
}

var errNoSteps = errors.New("declared op without steps")

// errAllSetupsFailed: no client finished its declared setup, so nothing of the run could be measured.
var errAllSetupsFailed = errors.New("every client's declared setup failed")
