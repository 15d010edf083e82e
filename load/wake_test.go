package load

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestWaitUntilNeverEarly: the scheduler's wait returns at or after the instant it was given, on each of
// its paths (the runtime's timer alone, the timer then nanosleep, nanosleep alone), and false once the
// run is over. Only the order of instants is asserted, never how late.
func TestWaitUntilNeverEarly(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Duration
		coarse bool
	}{
		// a short wait: the runtime's timer (under preciseMin).
		{"short", 100 * time.Microsecond, false},
		// under wakeEarly: nanosleep alone, after yielding.
		{"sub-ms", 700 * time.Microsecond, false},
		// the timer until wakeEarly before, then nanosleep.
		{"timer then nanosleep", 3 * time.Millisecond, false},
		// WithCoarseWake: the runtime's timer alone.
		{"coarse", 3 * time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &engine{start: time.Now()}
			e.set.coarseWake = tc.coarse
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for i := range 20 {
				at := time.Since(e.start) + tc.at
				assert.True(t, e.waitUntil(context.Background(), timer, at))
				assert.GreaterOrEqual(t, time.Since(e.start), at, "wait %d returned before its instant", i)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			assert.False(t, e.waitUntil(ctx, timer, time.Since(e.start)+tc.at), "a cancelled run does not go on")
		})
	}
}
