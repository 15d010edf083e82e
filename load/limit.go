package load

import "time"

// The adaptive in-flight limit. Past the engine's limit, in-flight work does
// not just wait: every request in flight holds a worker goroutine, a
// connection (two more goroutines and ~8 KiB of buffers on each side of a
// loopback target) and a timer, and the machine spends its time on that
// instead of on requests. Measured with bench/load on 2 cores at a planned
// 12000/s (ours -maxinflight, 3 s, same run): a fixed cap of 4096 achieved
// 1800-5600/s at 180-250 MiB, a cap of 256 achieved 7300-8300/s at 33 MiB.
//
// So the limit still follows the scheduler's own timeliness, but it cuts only
// when the backlog is the engine's. Each guard below comes from a measured
// case:
//
//   - Go has no goroutine priorities and runs timers only at scheduling
//     points, so the scheduler's wake-ups are delivered late whenever both Ps
//     are busy. A runtime trace of a target stalled for 2 s at 2000/s showed
//     them 10-20 ms late (Waiting->Runnable late, not queueing after it)
//     during GC cycles, whose mark work grows with the thousands of
//     goroutines and connections a stall leaves (one of the 2 Ps is a
//     dedicated mark worker for 25-90 ms), during the burst of answers when
//     the target resumes, and whenever a neighbour takes the CPU; on a busy
//     machine (load 4.9 on 2 cores) the scheduler even froze for 200-300 ms
//     in the middle of a stall. The old rule (cut to 3/4 of what was in
//     flight as soon as 2 requests and 1% of a 100 ms interval were late)
//     read each of those as saturation: a target stalled for 2 s at
//     400/1000/2000/s shed 272/777/3702 requests (bench/load, server
//     SIGSTOPped) and the limit fell to 256, even after delays with nothing
//     in flight.
//   - Requests parked at a stalled target cost the engine no CPU, and an
//     overloaded engine answers requests at its capacity, a good share of
//     the schedule (a quarter at 4x overload). So no cut while the target
//     answered less than 1/8 of the requests planned over the last
//     100-200 ms: a stall answers nothing, and after a 2 s SIGSTOP at
//     2000/s (4000 in flight, the whole listen backlog, dials stuck in SYN
//     retransmits) the server answered ~150/s for seconds while the engine
//     sat at MaxInFlight.
//   - After a stall the engine may stay behind while it works through the
//     answers to everything the stall held (under the race detector 850
//     answers took 1.3 s). That work is already admitted and in-flight work
//     is draining: a lower cap relieves nothing, so draining never cuts.
//   - In-flight work also piles up, with answers coming, when a target
//     slows down (a latency fault). Below the limit that needs a sustained
//     backlog (limitSustain) and a pile growing by 1/8 of itself over the
//     window: transient delays added up to at most 38 ms in our runs, a
//     saturated engine stays behind for hundreds of milliseconds (180-890 ms
//     at 12000/s with a fixed cap), and after the 2000/s SIGSTOP in-flight
//     work still grew by 58 on 3933 in 150 ms (a third of the dispatches)
//     while a busy machine kept the scheduler 101 ms behind.
//   - At the limit (it shed), lateness means the limit is still too high
//     for the engine: it cuts at once, as the old rule did. That keeps it
//     where the engine is efficient: a rule that needed a sustained backlog
//     there too let the limit drift up to ~1100 at 20000/s, achieving
//     12000-14000/s against 17000-19000/s.
const (
	// limitEvery is the control interval.
	limitEvery = 100 * time.Millisecond
	// limitSustain is how long the scheduler must have been behind before
	// a pile growing below the limit is cut: about 3x the longest transient
	// measured (above), and short enough that an overloaded engine cuts
	// within 1-2 intervals. The overdue burst after a stall of the engine
	// itself is such a backlog.
	limitSustain = 100 * time.Millisecond
	// limitFloor is the lowest adaptive limit: enough for a stalled target
	// at a few hundred requests per second, low enough that the machine
	// still works at its best (see above).
	limitFloor = 256
)

// inflightLimit is an AIMD controller of the in-flight cap, owned by the
// scheduler goroutine (no locking).
//
// Behind: the scheduler is behind from a dispatch later than LateAfter until
// it sleeps and then wakes on time. Behind time adds up the lateness of each
// late wake-up and the time spent catching up without sleeping, so a pause
// between phases never counts.
//
// Cut: as soon as more than 1% (and at least 2) of the requests planned in
// the interval were dispatched late, the limit drops to 3/4 of the
// interval's in-flight peak (not below limitFloor), at most once per
// interval, provided that
//   - more than limitFloor requests were in flight in the interval (fewer
//     cannot be what slows the engine, and a cut would only shed later);
//   - over the window (the previous interval and this one so far) the
//     target answered at least 1/8 as many requests as were planned;
//   - and either the limit shed in the window while in-flight work did not
//     drain by more than 1/8, or in-flight work grew by at least 1/8 of what
//     was in flight at the window's start while behind time reached
//     limitSustain.
//
// Growth: when an interval ends with none late but the limit shed requests,
// it grows by 1/8 (at least 16), up to MaxInFlight.
type inflightLimit struct {
	max, floor, cur int64
	fixed           bool

	since               time.Duration
	planned, late, shed int64
	peak                int64
	cut                 bool // decreased in this interval
	// planned, sent and in flight at the start of the previous and of this
	// interval: the window is the previous interval and this one so far.
	prevMark, mark flowMark
	total          int64 // planned requests observed
	prevShed       int64

	behind    time.Duration // behind time of the current backlog; 0 when caught up
	lastNow   time.Duration // previous observation's dispatch time
	maxBehind time.Duration // longest backlog, for Totals
	lowest    int64         // lowest limit reached, for Totals
}

func newInflightLimit(maxInFlight int, fixed bool) *inflightLimit {
	m := int64(maxInFlight)
	return &inflightLimit{max: m, floor: min(m, limitFloor), cur: m, fixed: fixed, lowest: m}
}

// allow reports whether one more request may start with inflight running.
func (l *inflightLimit) allow(inflight int64) bool { return inflight < l.cur }

type flowMark struct{ planned, sent, inflight int64 }

// dispatch is one planned request as the scheduler handled it.
type dispatch struct {
	now      time.Duration // when the scheduler handled it, on the run's clock
	lateness time.Duration // now - planned
	late     bool          // lateness > LateAfter
	slept    bool          // the scheduler slept just before it (it was ahead)
	shed     bool          // the limit shed it
	sent     int64         // requests dispatched before it in the run
	inflight int64         // requests in flight before it
}

// observe counts one planned request, closing the control interval first
// when limitEvery has passed since it began.
func (l *inflightLimit) observe(d dispatch) {
	if l.total == 0 {
		l.mark = flowMark{0, d.sent, d.inflight} // the window starts at the first request
		l.prevMark = l.mark
	}
	l.roll(d)
	l.planned++
	l.total++
	if d.shed {
		l.shed++
	}
	l.peak = max(l.peak, d.inflight)
	since := d.now - l.lastNow
	l.lastNow = d.now
	if !d.late {
		if d.slept {
			l.behind = 0 // woke on time: caught up
		}
		return
	}
	l.late++
	// Behind since the previous dispatch, or since this one's planned time
	// if the scheduler slept in between.
	l.behind += max(0, min(since, d.lateness))
	l.maxBehind = max(l.maxBehind, l.behind)
	if l.fixed || l.cut || l.late < 2 || l.late*100 <= l.planned || l.peak <= l.floor {
		return
	}
	w := l.prevMark
	planned := l.total - w.planned
	grew := d.inflight - w.inflight
	answered := d.sent - w.sent - grew
	if answered*8 < planned {
		return // the target answers little of the schedule: stalled, or trickling
	}
	atLimit := l.shed+l.prevShed > 0 && grew*8 >= -w.inflight
	piling := grew*8 >= w.inflight && l.behind >= limitSustain
	if !atLimit && !piling {
		return // steady or draining, or piling up without a sustained backlog
	}
	l.cur = max(l.floor, min(l.cur, l.peak)*3/4)
	l.lowest = min(l.lowest, l.cur)
	l.cut = true
}

func (l *inflightLimit) roll(d dispatch) {
	if d.now-l.since < limitEvery {
		return
	}
	if !l.fixed && !l.cut && l.late == 0 && l.shed > 0 && l.cur < l.max {
		l.cur = min(l.max, l.cur+max(16, l.cur/8))
	}
	l.prevShed = l.shed
	l.since, l.planned, l.late, l.shed, l.peak, l.cut = d.now, 0, 0, 0, 0, false
	l.prevMark, l.mark = l.mark, flowMark{l.total, d.sent, d.inflight}
}
