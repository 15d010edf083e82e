package load

import (
	"errors"
	"maps"
	"time"
)

// Live is what the engine has measured so far, handed once a second to a watcher (OnLive) such as the
// dashboard. It is built by the aggregator goroutine from its per-second windows: the seconds before
// Final are closed and will not change; the later ones are still open (a request planned then may still
// be running or retrying) and hold what has completed so far.
type Live struct {
	Elapsed time.Duration
	// Timeline has one entry per second so far, by planned send time. Planned, Sent, Late and Dropped
	// are the scheduler's counts over each second of the run's clock as the watcher saw them move (the
	// exact per-second counts are Result.Timeline's, at the end).
	Timeline []Second
	Final    int
	Totals   Counts
	InFlight int64
	// Errors counts failed requests by kind (Record.ErrorKind), as the report's errors table does.
	Errors map[string]int64
}

// OnLive registers fn to be called once a second during the run with what was measured so far. It runs
// on the aggregator's goroutine: it must return quickly (hand the value over, do not render there), and
// it owns the value it is given.
func OnLive(fn func(Live)) Option {
	return func(s *settings) error {
		if fn == nil {
			return errors.New("OnLive: nil hook")
		}
		s.onLive = fn
		return nil
	}
}

// liveCounts are the scheduler's running counts as the aggregator sampled them each second (the
// scheduler's own per-second slices are its alone, without locks); only the aggregator goroutine
// touches them.
type liveCounts struct {
	last Counts
	perS []Counts
}

// live builds the watcher's Live. It runs on the aggregator goroutine, after tick closed old windows.
func (e *engine) live(lc *liveCounts) Live {
	a := e.agg
	tl := append([]Second(nil), a.timeline...)
	final := len(tl)
	for k, w := range a.windows {
		if k.op != timelineAllOps {
			continue
		}
		for len(tl) <= k.sec {
			tl = append(tl, Second{Second: len(tl)})
		}
		s := &tl[k.sec]
		s.Phase = a.phases[k.phase]
		s.Completed += w.completed
		s.Errors += w.errors
		s.Retries += w.retries
		s.show(w.h, w.completed >= s.Completed-w.completed)
	}
	now := Counts{Planned: e.planned.Load(), Sent: e.sent.Load(), Late: e.late.Load(),
		Dropped:   e.droppedCap.Load() + e.droppedLate.Load(),
		Completed: a.completed.Load(), Errors: a.errors.Load(), Retries: a.retries.Load()}
	// The ticker fires once a second from the start: the counts that moved since the last tick belong
	// to the second that just ended (after the last planned second, while the last requests end, to it).
	moved := Counts{Planned: now.Planned - lc.last.Planned, Sent: now.Sent - lc.last.Sent,
		Late: now.Late - lc.last.Late, Dropped: now.Dropped - lc.last.Dropped}
	if n := len(lc.perS); n > 0 && n >= len(e.secPlanned) {
		lc.perS[n-1].Add(moved)
	} else {
		lc.perS = append(lc.perS, moved)
	}
	lc.last = now
	for i, c := range lc.perS {
		for len(tl) <= i {
			tl = append(tl, Second{Second: len(tl)})
		}
		tl[i].Planned, tl[i].Sent, tl[i].Late, tl[i].Dropped = c.Planned, c.Sent, c.Late, c.Dropped
	}
	for i := range tl {
		if tl[i].Phase == "" {
			tl[i].Phase = e.phaseAt(time.Duration(i) * time.Second)
		}
	}
	return Live{Elapsed: time.Since(e.start), Timeline: tl, Final: final, Totals: now,
		InFlight: e.inflight.Load(), Errors: maps.Clone(a.kinds)}
}
