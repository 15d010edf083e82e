package load

import (
	"context"
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

// wakeEarly is how long before the planned instant the runtime timer hands over to the precise sleep:
// the timer's own granularity.
const wakeEarly = time.Millisecond

// waitUntil sleeps until the run's clock reaches at; false when ctx ended first. WithCoarseWake keeps
// the runtime's timer alone, as before, to compare.
func (e *engine) waitUntil(ctx context.Context, timer *time.Timer, at time.Duration) bool {
	d := at - time.Since(e.start)
	if e.set.coarseWake {
		return sleepTimer(ctx, timer, d)
	}
	if d > wakeEarly && !sleepTimer(ctx, timer, d-wakeEarly) {
		return false
	}
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
