package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Injection is the record of one fault, on the run's clock, for reports (drawn as a band).
type Injection struct {
	Kind      string `json:"kind"` // the fault's registry name
	Params    Params `json:"params,omitempty"`
	Target    string `json:"target"`   // as the scenario asked (any-api)
	Resolved  string `json:"resolved"` // the container hit (api-2); the spec itself when it did not resolve
	Mechanism string `json:"mechanism,omitempty"`
	// Begin is when the injection started (the fault may take effect any time from then until Start).
	Begin time.Duration `json:"begin_ns"`
	Start time.Duration `json:"start_ns"` // when the fault took effect
	End   time.Duration `json:"end_ns"`   // when it was reverted; 0 while active
	// HealthBefore is the stack's health just before the injection ("" = every node ready).
	HealthBefore string `json:"health_before,omitempty"`
	// Ready is how long after End the stack was ready again; -1 when it did not recover in time.
	Ready time.Duration `json:"ready_ns"`
	Error string        `json:"error,omitempty"`
}

// Injector injects faults into one Env and keeps their records. Its methods are safe for concurrent use.
type Injector struct {
	env     *Env
	mu      sync.Mutex
	records []Injection
	active  map[int]Effect
	watch   func(Injection)
}

// Watch calls fn with a copy of a record each time one is written: at an injection (or its failure) and
// at its revert, on the goroutine that did it, after the injector's lock is released. Call it before the
// first injection; fn must return quickly (a dashboard hands the record over).
func (in *Injector) Watch(fn func(Injection)) { in.watch = fn }

// told hands record i to the watcher, if any.
func (in *Injector) told(i int) {
	if in.watch != nil {
		in.watch(in.record(i))
	}
}

// NewInjector returns an Injector on env.
func NewInjector(env *Env) *Injector { return &Injector{env: env, active: map[int]Effect{}} }

// Inject resolves the target, checks that f declared its role, checks health, and injects f. It returns
// the injection's id for Revert. Every failure is recorded with its error (and returned): a fault that
// did not happen must show in every report and invalidate the run, never vanish from it.
func (in *Injector) Inject(ctx context.Context, f Fault, params Params, spec string) (int, error) {
	id, _, err := in.inject(ctx, f, params, spec)
	return id, err
}

// inject is Inject, also returning the index of the record it wrote (the
// failed one, when it failed).
func (in *Injector) inject(ctx context.Context, f Fault, params Params, spec string) (id, rec int, err error) {
	r := Injection{Kind: f.Name(), Params: params, Target: spec, Resolved: spec, Ready: -1}
	t, err := in.env.Resolve(spec)
	if err == nil {
		r.Resolved = t.Name
		var k Kind
		if k, err = Default.Kind(f.Name()); err == nil {
			err = k.check(t.Name, t.Role)
		}
	}
	if err != nil {
		err = fmt.Errorf("%s on %s: %w", f.Name(), spec, err)
		return -1, in.failed(r, err), err
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if herr := in.env.Stack.Ready(hctx); herr != nil {
		r.HealthBefore = herr.Error()
	}
	cancel()
	r.Begin = in.env.Since()
	eff, err := f.Inject(ctx, in.env, t)
	r.Mechanism = eff.Mechanism
	if eff.Hit != "" {
		r.Resolved = eff.Hit
	}
	if err != nil {
		err = fmt.Errorf("inject %s on %s: %w", f.Name(), t.Name, err)
		return -1, in.failed(r, err), err
	}
	r.Start = in.env.Since()
	in.mu.Lock()
	id = len(in.records)
	in.records = append(in.records, r)
	in.active[id] = eff
	in.mu.Unlock()
	in.env.logf("chaos: %s on %s (%s) at %s", f.Name(), t.Name, eff.Mechanism, r.Start.Round(time.Millisecond))
	in.told(id)
	return id, id, nil
}

// NotRun records a planned fault that never started (the run ended before its time, or it could not be
// built) and returns its record: it is accounted for like one that failed.
func (in *Injector) NotRun(fault string, params Params, spec string, why error) Injection {
	i := in.failed(Injection{Kind: fault, Params: params, Target: spec, Resolved: spec, Ready: -1}, why)
	return in.record(i)
}

// failed records rec as a failed injection at the current time and returns its index.
func (in *Injector) failed(rec Injection, err error) int {
	rec.Start = in.env.Since()
	rec.End, rec.Error = rec.Start, err.Error()
	in.mu.Lock()
	i := len(in.records)
	in.records = append(in.records, rec)
	in.mu.Unlock()
	in.env.logf("chaos: %v", err)
	in.told(i)
	return i
}

func (in *Injector) record(i int) Injection {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.records[i]
}

// Revert undoes injection id and waits (up to env.RecoverTimeout) for the stack to be ready again. It
// ignores ctx's cancellation: a revert must happen even after Ctrl-C.
func (in *Injector) Revert(ctx context.Context, id int) error {
	in.mu.Lock()
	eff, ok := in.active[id]
	delete(in.active, id)
	in.mu.Unlock()
	if !ok {
		return fmt.Errorf("injection %d is not active", id)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var err error
	if eff.Revert != nil {
		err = eff.Revert(rctx)
	}
	end := in.env.Since()
	recovered := time.Duration(-1)
	hctx, hcancel := context.WithTimeout(rctx, in.env.RecoverTimeout)
	if herr := in.env.Stack.WaitReady(hctx); herr == nil {
		recovered = in.env.Since() - end
	} else if err == nil {
		err = fmt.Errorf("not ready %s after revert: %w", in.env.RecoverTimeout, herr)
	}
	hcancel()
	in.mu.Lock()
	rec := &in.records[id]
	rec.End, rec.Ready = end, recovered
	if eff.Tally != nil {
		what, terr := eff.Tally()
		rec.Mechanism += ": " + what
		if terr != nil {
			if rec.Error != "" {
				rec.Error += "; "
			}
			rec.Error += terr.Error()
		}
	}
	if err != nil {
		if rec.Error != "" {
			rec.Error += "; "
		}
		rec.Error += err.Error()
		err = fmt.Errorf("revert %s on %s: %w", rec.Kind, rec.Resolved, err)
	}
	in.mu.Unlock()
	in.env.logf("chaos: reverted %s on %s at %s", rec.Kind, rec.Resolved, end.Round(time.Millisecond))
	in.told(id)
	return err
}

// RevertAll reverts every active injection; defer it right after creating the Injector.
func (in *Injector) RevertAll(ctx context.Context) error {
	in.mu.Lock()
	ids := make([]int, 0, len(in.active))
	for id := range in.active {
		ids = append(ids, id)
	}
	in.mu.Unlock()
	var errs []error
	for _, id := range ids {
		errs = append(errs, in.Revert(ctx, id))
	}
	return errors.Join(errs...)
}

// Run injects f, holds it for d (or until ctx ends) and reverts it, whatever happens. It returns the
// injection's record, failed or not.
func (in *Injector) Run(ctx context.Context, f Fault, params Params, spec string, d time.Duration) (Injection, error) {
	id, rec, err := in.inject(ctx, f, params, spec)
	if err != nil {
		return in.record(rec), err
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	err = in.Revert(ctx, id)
	return in.record(id), err
}

// Records returns a copy of every injection so far, in order.
func (in *Injector) Records() []Injection {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Injection(nil), in.records...)
}
