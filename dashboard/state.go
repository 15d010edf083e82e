package dashboard

import (
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/runner"
)

// state is what the page shows, as the run's events left it.
type state struct {
	public   bool
	suite    string
	entries  []entry // a suite's scenarios; empty for one scenario
	scenario string
	dir      string
	archs    []archState
	summary  *results.Summary // the scenario's, once it is done
	report   string           // report.html to link to (the suite's at its end)
}

// entry is a suite's scenario: not started, running, or its verdict.
type entry struct {
	name    string
	running bool
	verdict results.Status
}

type archState struct {
	name       string
	started    bool
	containers []string
	live       *load.Live
	seenAt     time.Time // when live arrived: a running fault's band ends at the present
	faults     []chaos.Injection
	final      *results.Arch // analysed, once the architecture is done
}

// Observe takes an event of the run (runner.Observer). It only records it; the page is rendered by the
// server's loop, off the run's goroutines.
func (s *Server) Observe(e runner.Event) {
	s.mu.Lock()
	s.st.apply(e, time.Now())
	s.changed = true
	s.mu.Unlock()
	if _, ok := e.(runner.RunDone); ok {
		go s.push(true) // the verdict shows at once
	}
}

var _ runner.Observer = (*Server)(nil)

func (st *state) apply(e runner.Event, now time.Time) {
	switch e := e.(type) {
	case runner.SuiteStarted:
		st.suite, st.entries = e.Name, nil
		for _, n := range e.Scenarios {
			st.entries = append(st.entries, entry{name: n})
		}
	case runner.RunStarted:
		st.scenario, st.dir, st.summary = e.Scenario, e.Dir, nil
		st.archs = nil
		for _, a := range e.Archs {
			st.archs = append(st.archs, archState{name: a})
		}
		for i := range st.entries {
			if st.entries[i].name == e.Scenario && st.entries[i].verdict == "" {
				st.entries[i].running = true
				break
			}
		}
	case runner.ArchStarted:
		if a := st.arch(e.Arch); a != nil {
			a.started, a.containers = true, e.Containers
		}
	case runner.LoadSecond:
		if a := st.arch(e.Arch); a != nil {
			l := e.Live
			a.live, a.seenAt = &l, now
		}
	case runner.FaultChanged:
		if a := st.arch(e.Arch); a != nil {
			a.fault(e.Injection)
		}
	case runner.ArchDone:
		if a := st.arch(e.Arch.Name); a != nil {
			r := e.Arch
			a.final = &r
		}
	case runner.RunDone:
		sum := e.Summary
		st.summary = &sum
		st.report = runfolder.Run(st.dir).ReportHTML()
		for i := range st.entries {
			if st.entries[i].running {
				st.entries[i].running, st.entries[i].verdict = false, results.RunVerdict(sum)
				break
			}
		}
	case runner.SuiteDone:
		for i, en := range e.Suite.Entries {
			if i < len(st.entries) && en.Run == nil {
				st.entries[i].verdict = results.StatusErrored
			}
		}
		for _, p := range e.Reports {
			if strings.HasSuffix(p, ".html") {
				st.report = p // the suite's combined report
			}
		}
	}
}

func (st *state) arch(name string) *archState {
	for i := range st.archs {
		if st.archs[i].name == name {
			return &st.archs[i]
		}
	}
	return nil
}

// fault records an injection's new state: the same fault (kind, target, start) is updated in place.
func (a *archState) fault(in chaos.Injection) {
	for i, f := range a.faults {
		if f.Kind == in.Kind && f.Target == in.Target && f.Start == in.Start {
			a.faults[i] = in
			return
		}
	}
	a.faults = append(a.faults, in)
}

// snapshot copies what render reads, so that it can render without the lock.
func (st *state) snapshot() state {
	c := *st
	c.entries = slices.Clone(st.entries)
	c.archs = slices.Clone(st.archs)
	for i := range c.archs {
		c.archs[i].faults = slices.Clone(c.archs[i].faults)
	}
	return c
}
