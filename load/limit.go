package load

import "time"

// The adaptive in-flight limit. Past the engine's limit, in-flight work does
// not just wait: every request in flight holds a worker goroutine, a
// connection (two more goroutines and ~8 KiB of buffers on each side of a
// loopback target) and a timer, and the machine spends its time on that
// instead of on requests. Measured with bench/load on 2 cores at a planned
// 12000/s (ours -maxinflight, 3 s, same run): a fixed cap of 4096 achieved
// 1800-5600/s at 180-250 MiB, a cap of 256 achieved 7300-8300/s at 33 MiB.
// So the limit follows the scheduler's own timeliness, the one signal that
// says "this process cannot keep up" and not "the target is slow": a stalled
// target leaves the scheduler on time and keeps the full MaxInFlight.
const (
	// limitEvery is the control interval.
	limitEvery = 100 * time.Millisecond
	// limitFloor is the lowest adaptive limit: enough for a stalled target
	// at a few hundred requests per second, low enough that the machine
	// still works at its best (see above).
	limitFloor = 256
)

// inflightLimit is an AIMD controller of the in-flight cap, owned by the
// scheduler goroutine (no locking). As soon as more than 1% (and at least 2)
// of the requests planned so far in the current interval were dispatched
// late (LateAfter), the limit drops to 3/4 of what was in flight, not below
// limitFloor, once per interval: at once, because the overdue burst after a
// stall of the engine is exactly what would otherwise open thousands of
// connections. When an interval ends with none late but the limit shed
// requests, it grows by 1/8 (at least 16), up to MaxInFlight.
type inflightLimit struct {
	max, floor, cur int64
	fixed           bool

	since               time.Duration
	planned, late, shed int64
	peak                int64
	cut                 bool  // decreased in this interval
	lowest              int64 // lowest limit reached, for Totals
}

func newInflightLimit(maxInFlight int, fixed bool) *inflightLimit {
	m := int64(maxInFlight)
	return &inflightLimit{max: m, floor: min(m, limitFloor), cur: m, fixed: fixed, lowest: m}
}

// allow reports whether one more request may start with inflight running.
func (l *inflightLimit) allow(inflight int64) bool { return inflight < l.cur }

// observe counts one planned request: its dispatch lateness, whether the
// limit shed it, and what was in flight.
func (l *inflightLimit) observe(late, shed bool, inflight int64) {
	l.planned++
	if shed {
		l.shed++
	}
	l.peak = max(l.peak, inflight)
	if !late {
		return
	}
	l.late++
	if !l.fixed && !l.cut && l.late > l.planned/100 && l.late >= 2 {
		l.cur = max(l.floor, min(l.cur, l.peak)*3/4)
		l.lowest = min(l.lowest, l.cur)
		l.cut = true
	}
}

// update closes the interval when limitEvery has passed since its start.
func (l *inflightLimit) update(now time.Duration) {
	if now-l.since < limitEvery {
		return
	}
	if !l.fixed && !l.cut && l.late == 0 && l.shed > 0 && l.cur < l.max {
		l.cur = min(l.max, l.cur+max(16, l.cur/8))
	}
	l.since, l.planned, l.late, l.shed, l.peak, l.cut = now, 0, 0, 0, 0, false
}
