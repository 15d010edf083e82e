package runner

import (
	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// Observer watches a run as it goes (package dashboard is one): the runner tells it what starts, what
// the load measured each second, each fault as it is injected and reverted, and what finished. Observe
// is called from the run's goroutines, concurrently; it must return quickly and never block the run.
type Observer interface{ Observe(Event) }

// Event is one of the types below.
type Event interface{ event() }

// SuiteStarted: a suite of scenarios begins, in this order.
type SuiteStarted struct {
	Name      string
	Scenarios []string
}

// RunStarted: one scenario begins, its architectures in order; Dir is its run folder.
type RunStarted struct {
	Scenario string
	Archs    []string
	Dir      string
}

// ArchStarted: an architecture's stack is up with these containers.
type ArchStarted struct {
	Arch       string
	Containers []string
}

// LoadSecond: what the load has measured so far (once a second while this process sends it; a run
// with loader containers has none, and shows its numbers at ArchDone).
type LoadSecond struct {
	Arch string
	Live load.Live
}

// FaultChanged: a fault's record, at its injection (End 0), at its revert, or when it failed.
type FaultChanged struct {
	Arch      string
	Injection chaos.Injection
}

// ArchDone: an architecture's analysed result (its Error says why it did not run to the end).
type ArchDone struct{ Arch results.Arch }

// RunDone: a scenario's summary, verdict decided and reports written.
type RunDone struct {
	Summary results.Summary
	Reports []string
}

// SuiteDone: a suite's verdicts and combined reports.
type SuiteDone struct {
	Suite   results.Suite
	Reports []string
}

func (SuiteStarted) event() {}
func (RunStarted) event()   {}
func (ArchStarted) event()  {}
func (LoadSecond) event()   {}
func (FaultChanged) event() {}
func (ArchDone) event()     {}
func (RunDone) event()      {}
func (SuiteDone) event()    {}

// WithObserver tells o about the run as it goes.
func WithObserver(o Observer) Option {
	return func(c *RunConfig) error { c.Observer = o; return nil }
}

// observe tells the observer, if any.
func (c RunConfig) observe(e Event) {
	if c.Observer != nil {
		c.Observer.Observe(e)
	}
}

// containerNames lists st's containers (Stack.Containers: every one the stack started, a PostgreSQL
// standby too), the balancer first, as the page shows the path of a request.
func containerNames(st *stack.Stack) []string {
	var out, rest []string
	for _, c := range st.Containers() {
		if c.Role == arch.RoleNginx {
			out = append(out, c.Name)
		} else {
			rest = append(rest, c.Name)
		}
	}
	return append(out, rest...)
}
