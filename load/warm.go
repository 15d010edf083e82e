package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Warm start: the connection pool is opened during setup, before the clock
// starts, the way wrk connects before it times. Cold, a run at 3000/s
// against a trivial server opened 70 connections, all in its first 100 ms:
// every request that found no idle connection waited for a dial while the
// server accepted a burst of them, and 1% of the run's requests took 20-33 ms
// there, which was the whole run's p99 (vegeta: 1.5-1.8 ms).
//
// Warm-up uses real requests (GET Config.WarmPath) rather than bare TCP
// connections: a server closes a connection that sends no request in time
// (refapi: ReadHeaderTimeout 5 s), whereas a connection that has served a
// request waits as keep-alive (refapi: IdleTimeout 120 s). Setup is not
// measured.
const (
	warmProbes = 5    // sequential requests that measure latency
	warmMax    = 1024 // bound on setup work for the highest rates
	// warmTimeout bounds each warm-up request (at most Timeout): a target
	// that does not answer its liveness check within it is left cold, and a
	// run never waits on warm-up much longer than that. Held requests get
	// it again to wait for the whole pool.
	warmTimeout = 3 * time.Second
)

// warmSize is the pool for the first phase's expected concurrency (Little's
// law: rate x time in flight), with the time in flight taken as the probed
// latency plus twice LateAfter: the scheduler dispatches a burst when it
// wakes late (10-25 ms after a GC cycle or a neighbour's slice), and the
// pool must absorb a burst of that size without dialling. At 3000/s on
// loopback that is ~62 connections, close to what a cold run opened in its
// first 100 ms.
func warmSize(rate float64, latency, lateAfter time.Duration, maxInFlight int) int {
	n := int(math.Ceil(rate * (latency + 2*lateAfter).Seconds()))
	return max(1, min(n, maxInFlight, warmMax))
}

// firstRate is the highest planned rate of the first phase that plans
// anything, sampled every 100 ms: a ramp needs its top rate's connections.
func firstRate(phases []Phase) float64 {
	for _, p := range phases {
		var peak float64
		step := max(100*time.Millisecond, p.Duration/10000)
		for t := time.Duration(0); t < p.Duration; t += step {
			peak = max(peak, p.Pacer.Rate(t))
		}
		if peak > 0 {
			return peak
		}
	}
	return 0
}

// warmUp probes the target's latency and opens the pool; it returns how
// many connections it opened. Failures are not fatal: the run still measures
// everything, its first requests may only have to dial. With the wire client
// the pool is workers, each started with its own used connection; with
// WithHTTPClient it is the client's idle pool.
func (e *engine) warmUp(ctx, runCtx context.Context) (int, error) {
	if e.cfg.WarmConns < 0 || e.cfg.NoKeepAlive {
		return 0, nil // without keep-alive a warmed connection would be closed after its one request
	}
	// A segment sends its share of every phase's hits (segment.go).
	rate := firstRate(e.cfg.Phases) / float64(e.cfg.Segment.count())
	if rate == 0 {
		return 0, nil
	}
	if e.h2 {
		return e.warmH2(ctx)
	}
	var w0 *worker
	get := func(hold func()) error { return e.warmGet(ctx, hold) }
	if e.wt != nil {
		w0 = e.newWorker()
		get = func(func()) error { return e.warmWire(ctx, w0) }
	}
	var lats []time.Duration
	for range warmProbes {
		t0 := time.Now()
		if err := get(nil); err != nil {
			if w0 != nil {
				w0.wire.close()
			}
			return 0, fmt.Errorf("warm-up probe GET %s: %w", e.cfg.WarmPath, err)
		}
		lats = append(lats, time.Since(t0))
	}
	slices.Sort(lats)
	n := min(e.cfg.WarmConns, e.cfg.MaxInFlight)
	if n == 0 {
		n = warmSize(rate, lats[len(lats)/2], e.cfg.LateAfter, e.cfg.MaxInFlight)
	}
	if w0 != nil {
		return e.warmWorkers(ctx, runCtx, w0, n)
	}
	return e.warmPool(ctx, n)
}

// warmWorkers starts n workers, w0 (the probes' connection) and n-1 that
// dial and send one GET each, concurrently; a worker whose warm-up failed
// starts cold and dials on its first request.
func (e *engine) warmWorkers(ctx, runCtx context.Context, w0 *worker, n int) (int, error) {
	ws := []*worker{w0}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		w := e.newWorker()
		ws = append(ws, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.warmWire(ctx, w)
		}()
	}
	wg.Wait()
	for _, w := range ws {
		e.startWorker(runCtx, w, nil)
	}
	if err := errors.Join(errs...); err != nil {
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
			}
		}
		return n - failed, fmt.Errorf("warm up %d of %d connections: %w", failed, n, err)
	}
	return n, nil
}

// warmWire sends GET WarmPath on w's own connection.
func (e *engine) warmWire(ctx context.Context, w *worker) error {
	w.wire.appendHead(http.MethodGet, e.cfg.WarmPath, "", nil)
	w.wire.endHead(nil)
	_, err := w.wire.roundTrip(ctx, time.Now().Add(min(e.cfg.Timeout, warmTimeout)), http.MethodGet, false, nil)
	return err
}

// warmPool opens n connections in WithHTTPClient's pool.
func (e *engine) warmPool(ctx context.Context, n int) (int, error) {
	// Every response is held open until all have arrived: a connection is
	// reused only once its body is closed, so each request takes its own.
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	arrived := make(chan struct{}, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.warmGet(ctx, func() { arrived <- struct{}{}; <-release })
		}()
	}
	for range n {
		select {
		case <-arrived:
		case err := <-errs:
			// A request failed before holding its connection: release the
			// others and report it.
			close(release)
			wg.Wait()
			return 0, fmt.Errorf("warm up %d connections: %w", n, err)
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, fmt.Errorf("warm up %d connections: %w", n, err)
		}
	}
	return n, nil
}

// warmGet sends GET WarmPath and reads the answer whole so that the
// connection returns to the pool; hold, if set, runs once the answer's
// headers have arrived, before the body is read.
func (e *engine) warmGet(ctx context.Context, hold func()) error {
	to := min(e.cfg.Timeout, warmTimeout)
	if hold != nil {
		to *= 2 // held until the whole pool has answered
	}
	rctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, e.base+e.cfg.WarmPath, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	if hold != nil {
		hold()
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	return err
}
