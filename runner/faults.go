package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/scenarios"
)

// errLoadEnded is why the faults' context ends when the load is over: a fault still waiting for its time
// then did not run because the load was shorter, not because the run was interrupted.
var errLoadEnded = errors.New("the load ended")

// FaultRun is a run's planned faults, armed on the load's clock: OnStart starts each one's wait for its
// offset, Stop ends the ones still waiting (the load is over) and returns every planned fault's record in
// the scenario's order, injected or not, so that none can vanish from the summary.
type FaultRun struct {
	plan       []scenarios.FaultPlan
	env        *chaos.Env
	inj        *chaos.Injector
	ctx        context.Context
	cancel     context.CancelCauseFunc
	wg         sync.WaitGroup
	injections []chaos.Injection
	newFault   FaultFactory
}

// FaultFactory builds a planned fault by its kind: chaos.New for the Docker stack's faults; a cluster
// has its own mechanisms behind the same kinds (package k8srun).
type FaultFactory func(kind string, p chaos.Params) (chaos.Fault, error)

// ArmFaults readies plan's faults against st, each built by newFault; none runs before OnStart.
func ArmFaults(ctx context.Context, st chaos.Stack, plan scenarios.Plan, seed int64, log io.Writer, newFault FaultFactory) *FaultRun {
	// The faults act on this stack through chaos's port; *stack.Stack is its Docker implementation.
	env := chaos.NewEnv(st, seed)
	env.Log = log
	f := &FaultRun{plan: plan.Faults, env: env, inj: chaos.NewInjector(env),
		injections: make([]chaos.Injection, len(plan.Faults)), newFault: newFault}
	f.ctx, f.cancel = context.WithCancelCause(ctx)
	return f
}

// OnStart is the load's OnStart: every fault waits for its offset from start.
func (f *FaultRun) OnStart(start time.Time) {
	f.env.Start = start
	for i, fp := range f.plan {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.injections[i] = runFault(f.ctx, f.inj, f.newFault, fp, start)
		}()
	}
}

// Stop ends the faults' waits (errLoadEnded) and returns their records once every one has ended.
func (f *FaultRun) Stop() []chaos.Injection {
	f.cancel(errLoadEnded)
	f.wg.Wait()
	return f.injections
}

// RevertAll reverts whatever is still injected, on a context of its own (after Ctrl-C too). A revert that
// fails is recorded on its fault (and so in the verdict), not turned into a run error.
func (f *FaultRun) RevertAll() {
	f.cancel(errLoadEnded)
	cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = f.inj.RevertAll(cctx)
}

// runFault waits for fp's time on the load's clock, injects it, holds it and
// reverts it, and returns its record: a failed or never-started fault is
// recorded with why.
func runFault(ctx context.Context, inj *chaos.Injector, newFault FaultFactory, fp scenarios.FaultPlan, start time.Time) chaos.Injection {
	f, err := newFault(fp.Kind, fp.Params)
	if err != nil { // validated before; a failure here is a bug, and still accounted for
		return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("build %s: %w", fp.Kind, err))
	}
	t := time.NewTimer(time.Until(start.Add(fp.At)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		if cause := context.Cause(ctx); !errors.Is(cause, errLoadEnded) {
			return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("not injected: the run was interrupted (%v) before %s", cause, fp.At))
		}
		return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("not injected: the load ended before %s", fp.At))
	}
	rec, _ := inj.Run(ctx, f, fp.Params, fp.Target, fp.For)
	return rec
}
