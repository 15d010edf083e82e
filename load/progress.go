package load

import (
	"fmt"
	"math"
	"os"
	"time"
)

// progress prints one live line per second on a terminal, else a log line
// every 5 s. It returns a stop function.
func (e *engine) progress() func() {
	if e.set.quiet {
		return func() {}
	}
	w, live := e.set.progress, e.set.live
	if w == nil {
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			w, live = os.Stderr, true
		}
	}
	every := 5 * time.Second
	if live {
		every = time.Second
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		var lastSent int64
		lastAt := time.Now()
		for {
			select {
			case <-done:
				if live && w != nil {
					fmt.Fprintln(w)
				}
				return
			case now := <-t.C:
				sent := e.sent.Load()
				actual := float64(sent-lastSent) / now.Sub(lastAt).Seconds()
				lastSent, lastAt = sent, now
				el := time.Since(e.start).Truncate(time.Second)
				p99 := time.Duration(e.agg.p99us.Load()) * time.Microsecond
				planned := float64(e.rateMilli.Load()) / 1000
				dropped := e.droppedCap.Load() + e.droppedLate.Load()
				if live && w != nil {
					fmt.Fprintf(w, "\r%s/%s  rate %.0f/%.0f/s  in-flight %d  p99 %s  errors %d  retries %d  late %d  dropped %d   ",
						el, e.cfg.Duration(), actual, planned, e.inflight.Load(), p99,
						e.agg.errors.Load(), e.agg.retries.Load(), e.late.Load(), dropped)
				} else {
					e.set.logger.Info("load progress", "elapsed", el, "total", e.cfg.Duration(),
						"planned_rate", math.Round(planned), "actual_rate", math.Round(actual),
						"in_flight", e.inflight.Load(), "p99", p99, "errors", e.agg.errors.Load(),
						"retries", e.agg.retries.Load(), "late", e.late.Load(), "dropped", dropped)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}
