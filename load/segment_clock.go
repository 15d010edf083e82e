package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ClockOffset is a worker's clock against its coordinator's, measured before the run: the workers plan
// on one absolute start instant, so a worker whose clock is off by d sends its share d early or late,
// and its windows land in the wrong seconds of the merge.
type ClockOffset struct {
	// Against is the coordinator's clock URL; "" when nothing was measured.
	Against string `json:"against,omitempty"`
	// Measured is false when the worker had no coordinator clock to ask: then the offset is unknown,
	// never 0.
	Measured bool `json:"measured"`
	// Offset is the worker's clock minus the coordinator's (positive: the worker is ahead).
	Offset time.Duration `json:"offset_ns"`
	// Uncertainty is half the round trip of the sample the offset comes from: the true offset is within
	// Offset ± Uncertainty.
	Uncertainty time.Duration `json:"uncertainty_ns"`
}

// ClockHandler serves the coordinator's clock for MeasureClock: the wall clock in Unix nanoseconds, as text.
func ClockHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, strconv.FormatInt(time.Now().UnixNano(), 10))
	})
}

// clockSamples is how many round trips MeasureClock makes; it keeps the one with the shortest round
// trip, as NTP's clock filter does: queueing only ever lengthens a trip, and the shortest is the one whose
// midpoint is closest to when the coordinator read its clock.
const clockSamples = 8

// MeasureClock asks the coordinator's clock (ClockHandler at url) a few times and returns this machine's
// offset from it. Inside one Docker host every container reads the same kernel clock, so the offset
// measured there is the measurement's own error (tens of microseconds), not a skew.
func MeasureClock(ctx context.Context, url string) (ClockOffset, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	best := ClockOffset{Against: url}
	var lastErr error
	for range clockSamples {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return best, fmt.Errorf("clock %s: %w", url, err)
		}
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
		_ = resp.Body.Close()
		t1 := time.Now()
		if err != nil || resp.StatusCode != http.StatusOK {
			lastErr = errors.Join(err, fmt.Errorf("status %d", resp.StatusCode))
			continue
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return best, fmt.Errorf("clock %s: answer %q is not Unix nanoseconds", url, b)
		}
		rtt := t1.Sub(t0) // monotonic
		// The coordinator read its clock somewhere within the trip: assume the middle.
		mid := t0.Add(rtt / 2)
		off := time.Duration(mid.UnixNano() - ns)
		if !best.Measured || rtt/2 < best.Uncertainty {
			best = ClockOffset{Against: url, Measured: true, Offset: off, Uncertainty: rtt / 2}
		}
	}
	if !best.Measured {
		return best, fmt.Errorf("clock %s: no answer: %w", url, lastErr)
	}
	return best, nil
}
