package load

import (
	"context"
	"runtime"
	"time"
)

// The scheduler's wake-up. Go's timers are exact while the runtime is busy, but an idle runtime waits for
// its next timer in epoll_wait, whose timeout is in whole milliseconds: a wait of d is cut to
// floor(d/1ms) (at least 1 ms), and the timer then fires up to a millisecond late, about half a
// millisecond at the median. The sampled trace showed it (the wake stage, planned → dispatched: p50 0.4
// to 0.7 ms at 400 to 2000/s against a trivial server), and since latency is measured from the planned
// instant, every latency carried it. So the scheduler sleeps on the runtime's timer only until
// wakeEarly before the planned instant, and the rest in the kernel (nanosleep, wake_linux.go: a
// high-resolution timer, some 50 µs of timer slack), which blocks its thread for at most wakeEarly.
// Short waits (under preciseMin, rates above ~5000/s) stay on the runtime's timer: at such rates the
// runtime is busy and its timers exact, and a blocking sleep per request, with the kernel's slack on top
// of a wait of tens of µs, kept the scheduler behind (at 15000/s it shed 2000 to 5700 requests of 60000
// where the timer alone shed none).

// wakeEarly is how long before the planned instant the runtime timer hands over to the precise sleep:
// the timer's own granularity.
const wakeEarly = time.Millisecond

// preciseMin is the shortest wait that is finished in the kernel.
const preciseMin = 200 * time.Microsecond

// waitUntil sleeps until the run's clock reaches at; false when ctx ended first. WithCoarseWake keeps
// the runtime's timer alone, as before, to compare.
func (e *engine) waitUntil(ctx context.Context, timer *time.Timer, at time.Duration) bool {
	d := at - time.Since(e.start)
	if e.set.coarseWake || d < preciseMin {
		return sleepTimer(ctx, timer, d)
	}
	if d > wakeEarly && !sleepTimer(ctx, timer, d-wakeEarly) {
		return false
	}
	// The worker the scheduler just handed a job to waits in this P's next slot (runnext): parked on a
	// timer, the scheduler gave it the P at once; blocked in nanosleep, it would hold the P until the
	// runtime's monitor takes it back (20 µs and more). Yield first: the worker runs, and the scheduler
	// continues when a P is free, still ahead of its instant or it would not be sleeping.
	runtime.Gosched()
	if rest := at - time.Since(e.start); rest > 0 {
		sleepPrecise(rest)
	}
	return ctx.Err() == nil
}

func sleepTimer(ctx context.Context, timer *time.Timer, d time.Duration) bool {
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
