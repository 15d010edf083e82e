package load

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// seg is a stretch of a simulated schedule: a request every `every` of
// planned time for dur, each wake-up of the scheduler delivered delay late.
// In-flight work starts at inflight (0: where the previous seg left it) and
// changes by grow per dispatch, 1-grow answers coming per planned request,
// dispatched or shed: 0 is a steady state, 1 a stalled target (no answers),
// between 0 and 1 an engine that answers fewer than it sends, below 0 a
// target answering a backlog. Requests the limit does not allow are shed.
type seg struct {
	gap      time.Duration // planned time skipped before it (a Pause phase)
	dur      time.Duration
	delay    time.Duration
	inflight int64
	grow     float64
}

// simulate drives l as the scheduler does: sleep until the next planned
// time and wake delay late, or, when already overdue, dispatch at once (5 µs
// a request). The controller is pure, so its rules are checked without
// timing; TestStalledTargetIsMeasuredNotShed and
// TestOverloadedEngineCutsTheLimit check it inside the engine.
func simulate(l *inflightLimit, every time.Duration, segs []seg) {
	const cost = 5 * time.Microsecond
	var planned, now time.Duration
	var inflight float64
	var sent int64
	for _, s := range segs {
		planned += s.gap
		end := planned + s.dur
		if s.inflight > 0 {
			inflight = float64(s.inflight)
		}
		for planned < end {
			planned += every
			slept := planned > now
			if slept {
				now = planned + s.delay
			} else {
				now += cost
			}
			lat := now - planned
			d := dispatch{now: now, lateness: lat, late: lat > 10*time.Millisecond, slept: slept,
				sent: sent, inflight: int64(inflight)}
			d.shed = !l.allow(d.inflight)
			l.observe(d)
			// 1-grow answers per planned slot, dispatched or shed.
			inflight -= 1 - s.grow
			if !d.shed {
				sent++
				inflight++
			}
			inflight = max(0, inflight)
		}
	}
}

func TestInflightLimit(t *testing.T) {
	const ms = time.Millisecond
	steady := func(d time.Duration, inflight int64) seg { return seg{dur: d, inflight: inflight} }
	tests := []struct {
		name      string
		max       int
		fixed     bool
		segs      []seg
		want      int64
		minBehind time.Duration // MaxBehind at least this
		maxBehind time.Duration // and below this (0: no bound)
	}{
		// Scheduler on time: the limit stays at MaxInFlight.
		{"on time", 4096, false, []seg{steady(time.Second, 3000)}, 4096, 0, 1},
		// One wake-up 25 ms late (a GC cycle, a neighbour), then on time:
		// the overdue requests go out late and are counted, the limit stays.
		{"one late wake-up", 4096, false, []seg{steady(200*ms, 3000), {dur: ms, delay: 25 * ms}, steady(500*ms, 3000)},
			4096, 25 * ms, 30 * ms},
		// Repeated transients, each caught up: never a backlog.
		{"caught-up transients", 4096, false, []seg{steady(49*ms, 3000),
			{dur: ms, delay: 20 * ms}, {dur: 49 * ms}, {dur: ms, delay: 20 * ms}, {dur: 49 * ms},
			{dur: ms, delay: 20 * ms}, {dur: 49 * ms}, {dur: ms, delay: 20 * ms}},
			4096, 20 * ms, 25 * ms},
		// A stalled target (nothing answered, in flight growing) with the
		// transient delays measured during stalls (25 ms every 100 ms).
		{"stalled target", 4096, false, []seg{steady(200*ms, 100),
			{dur: 99 * ms, grow: 1}, {dur: ms, delay: 25 * ms, grow: 1}, {dur: 99 * ms, grow: 1}, {dur: ms, delay: 25 * ms, grow: 1},
			{dur: 99 * ms, grow: 1}, {dur: ms, delay: 25 * ms, grow: 1}, {dur: 99 * ms, grow: 1}, {dur: ms, delay: 25 * ms, grow: 1}},
			4096, 25 * ms, 30 * ms},
		// The same while the engine stays behind for 300 ms (a busy
		// machine, the race detector): parked requests are not its work.
		{"stalled target, engine behind", 4096, false, []seg{steady(200*ms, 250), {dur: 300 * ms, delay: 15 * ms, grow: 1}},
			4096, 250 * ms, 0},
		// The target resumes after a 2 s stall: every wake-up 15 ms late for
		// 400 ms while it answers 5 requests per dispatch. The backlog is
		// the answers to admitted work; it drains by itself.
		{"resume burst", 4096, false, []seg{steady(200*ms, 100), {dur: 2 * time.Second, grow: 1}, {dur: 400 * ms, delay: 15 * ms, grow: -4}, steady(300*ms, 100)},
			4096, 350 * ms, 0},
		// Behind while in-flight work holds steady: not piling up, left to
		// MaxLateness.
		{"steady while behind", 4096, false, []seg{steady(200*ms, 800), {dur: 300 * ms, delay: 15 * ms}}, 4096, 250 * ms, 0},
		// A target slowing down (in flight grows, answers keep coming) and
		// a 25 ms GC pause: no sustained backlog, no cut.
		{"slowing target", 4096, false, []seg{steady(100*ms, 300), {dur: 100 * ms, grow: 0.5}, {dur: ms, delay: 25 * ms, grow: 0.5}, {dur: 200 * ms, grow: 0.5}},
			4096, 25 * ms, 30 * ms},
		// Every wake-up late while the engine answers only some of what it
		// sends (in flight piles up from 300): once behind for limitSustain
		// the limit drops to 3/4 of what was in flight (376 by then).
		{"overload", 4096, false, []seg{steady(200*ms, 300), {dur: 150 * ms, delay: 15 * ms, grow: 0.8}},
			282, 100 * ms, 0},
		// The same at the cap: growth held back (shed), so the first late
		// requests cut at once: 3/4 of 1024.
		{"overload at the cap", 1024, false, []seg{steady(100*ms, 1000), {dur: 50 * ms, grow: 0.5}, {dur: 20 * ms, delay: 15 * ms, grow: 0.5}},
			768, 15 * ms, 35 * ms},
		// The engine itself froze for 300 ms with 200 in flight: the
		// overdue burst goes out at once while answers come back for half
		// of it, and it is cut (to the floor) once the pile passes the
		// floor. Without shedding since, the limit stays there.
		{"engine stall", 4096, false, []seg{steady(100*ms, 200), {dur: 300 * ms, delay: 300 * ms, grow: 0.5}, steady(300*ms, 100)},
			limitFloor, 300 * ms, 310 * ms},
		// A slow target (3000 in flight) and the same freeze: the overdue
		// burst adds a tenth to the pile, which is not piling up.
		{"engine stall, slow target", 4096, false, []seg{steady(100*ms, 3000), {dur: 300 * ms, delay: 300 * ms, grow: 0.5}, steady(300*ms, 3000)},
			4096, 300 * ms, 310 * ms},
		// A backlog that lasts keeps cutting, once per interval, to the floor.
		{"floor", 4096, false, []seg{steady(200*ms, 300), {dur: 2 * time.Second, delay: 15 * ms, grow: 0.8}}, limitFloor, 1800 * ms, 0},
		// Behind with fewer than limitFloor in flight: the in-flight work is
		// not what slows the engine, and a cut would only shed later.
		{"no cut below the floor", 4096, false, []seg{steady(100*ms, 100), {dur: 300 * ms, delay: 15 * ms, grow: 0.4}}, 4096, 250 * ms, 0},
		// A pause between two late wake-ups is not time behind: 60 + 30 ms.
		{"pause does not count", 4096, false, []seg{{dur: ms, delay: 60 * ms, inflight: 3000}, {gap: time.Second, dur: ms, delay: 30 * ms}, steady(100*ms, 3000)},
			4096, 90 * ms, 91 * ms},
		// Back on time while demand stays above the limit (it sheds): it
		// grows by 1/8 per interval (282 -> 317 -> 356).
		{"grows when it sheds", 4096, false, []seg{steady(200*ms, 300), {dur: 150 * ms, delay: 15 * ms, grow: 0.8}, {dur: 300 * ms, inflight: 282, grow: 0.8}},
			356, 100 * ms, 0},
		// On time and not shedding: no reason to grow.
		{"no growth without demand", 4096, false, []seg{steady(200*ms, 300), {dur: 150 * ms, delay: 15 * ms, grow: 0.8}, steady(500*ms, 100)},
			282, 100 * ms, 0},
		// A MaxInFlight under the floor is never cut nor raised.
		{"small max", 64, false, []seg{steady(100*ms, 60), {dur: time.Second, delay: 15 * ms, grow: 0.8}}, 64, 900 * ms, 0},
		// FixedInFlight: the cap alone.
		{"fixed", 4096, true, []seg{steady(200*ms, 300), {dur: time.Second, delay: 15 * ms, grow: 0.8}}, 4096, 900 * ms, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newInflightLimit(tc.max, tc.fixed)
			simulate(l, time.Millisecond, tc.segs)
			assert.Equal(t, tc.want, l.cur)
			assert.LessOrEqual(t, l.lowest, l.cur)
			if tc.want == int64(tc.max) {
				assert.Equal(t, int64(tc.max), l.lowest, "never cut")
			}
			assert.GreaterOrEqual(t, l.maxBehind, tc.minBehind)
			if tc.maxBehind > 0 {
				assert.Less(t, l.maxBehind, tc.maxBehind)
			}
			assert.True(t, l.allow(l.cur-1))
			assert.False(t, l.allow(l.cur), "allow is in-flight < limit")
		})
	}
}
