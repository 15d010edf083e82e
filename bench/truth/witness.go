package main

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
)

// The witness is the harness's own measure of what the stall did, beside
// the tool under test: a small open-model client in the harness process, at
// a twentieth of the tool's rate (at least 50/s, for enough samples),
// through the same server and the same stall. A goroutine per request,
// started at its planned time; latency from the planned time, the tool's
// timeout, no retries. It is too small to change the stall and too simple
// to hide anything; its own late sends and errors are printed.
//
// The analytical p99 assumes that the server answers its backlog at once
// after the thaw (see the package comment, "Drain"). The witness measures
// how long the drain took and the p99 a constant-rate stream really saw,
// so that a tool reading above the analytical value can be told from a
// server that took long to catch up.
type witness struct {
	rate    int
	mu      sync.Mutex
	planned []time.Duration // offset from the start
	done    []time.Duration // offset of the answer (or of the failure)
	failed  []bool
	late    int // sent more than LateAfter after plan
}

// run sends rate/s for T from start (the tool's start) and returns when the
// last request has finished.
func (w *witness) run(url string, start time.Time, T, timeout time.Duration) {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil,
		MaxIdleConnsPerHost: 1000, DisableCompression: true}}
	defer client.CloseIdleConnections()
	n := int(float64(w.rate) * T.Seconds())
	var wg sync.WaitGroup
	for i := range n {
		plan := time.Duration(float64(i) * float64(time.Second) / float64(w.rate))
		if d := time.Until(start.Add(plan)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Since(start)
			resp, err := client.Get(url + "/")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			done := time.Since(start)
			w.mu.Lock()
			defer w.mu.Unlock()
			w.planned = append(w.planned, plan)
			w.done = append(w.done, done)
			w.failed = append(w.failed, err != nil || resp.StatusCode != http.StatusOK)
			if sent-plan > benchkit.LateAfter {
				w.late++
			}
		}()
	}
	wg.Wait()
}

// result is the witness's p99 (from the planned time) and the drain: from
// the thaw until the last request planned inside the stall was answered.
func (w *witness) result(stallAt, stall time.Duration) (p99, drain time.Duration, errors int) {
	h := benchkit.NewHistogram()
	thaw := stallAt + stall
	for i := range w.planned {
		_ = h.RecordValue(max(1, (w.done[i] - w.planned[i]).Microseconds()))
		if w.failed[i] {
			errors++
		}
		if w.planned[i] >= stallAt && w.planned[i] < thaw {
			drain = max(drain, w.done[i]-thaw)
		}
	}
	return time.Duration(h.ValueAtQuantile(99)) * time.Microsecond, drain, errors
}
