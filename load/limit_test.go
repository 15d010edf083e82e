package load

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestInflightLimit drives the adaptive limit with made-up intervals: it is
// a pure controller, so its rules are checked here without timing; the
// benchmark (make bench-load) shows what it does to the achieved rate.
func TestInflightLimit(t *testing.T) {
	type interval struct {
		planned, late, shed int
		inflight            int64
	}
	tests := []struct {
		name  string
		max   int
		fixed bool
		ivs   []interval
		want  int64
	}{
		// Scheduler on time, nothing shed: the limit stays at MaxInFlight.
		{"on time", 4096, false, []interval{{1000, 0, 0, 3000}}, 4096},
		// 2% late with 3000 in flight: 3/4 of what was in flight.
		{"late shrinks to 3/4 of in flight", 4096, false, []interval{{1000, 20, 0, 3000}}, 2250},
		// Repeated lateness stops at the floor.
		{"floor", 4096, false, []interval{{1000, 500, 0, 4000}, {1000, 500, 0, 3000}, {1000, 500, 0, 2000}, {1000, 500, 0, 300}, {1000, 500, 0, 300}}, limitFloor},
		// Under 1% late (or a single late request) is noise, not saturation;
		// the late requests come last in each interval here.
		{"1% is noise", 4096, false, []interval{{1000, 10, 0, 3000}, {20, 1, 0, 3000}}, 4096},
		// Late requests first: the cut comes at once, once per interval.
		{"at once, once per interval", 4096, false, []interval{{1000, 1000, 0, 3000}}, 2250},
		// Back on time while the limit sheds: it grows by 1/8 per interval
		// (300 -> 337 -> 379).
		{"grows when it sheds", 4096, false, []interval{{1000, 500, 0, 400}, {1000, 0, 50, 300}, {1000, 0, 50, 337}}, 379},
		// On time and not shedding: no reason to grow.
		{"no growth without demand", 4096, false, []interval{{1000, 500, 0, 400}, {1000, 0, 0, 100}}, 300},
		// A MaxInFlight under the floor is never raised.
		{"small max", 64, false, []interval{{1000, 500, 0, 64}}, 64},
		{"fixed", 4096, true, []interval{{1000, 500, 0, 4000}}, 4096},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newInflightLimit(tc.max, tc.fixed)
			now := time.Duration(0)
			for _, iv := range tc.ivs {
				for i := 0; i < iv.planned; i++ {
					l.observe(i >= iv.planned-iv.late, i < iv.shed, iv.inflight)
				}
				now += limitEvery
				l.update(now)
			}
			assert.Equal(t, tc.want, l.cur)
			assert.LessOrEqual(t, l.lowest, l.cur)
			assert.True(t, l.allow(l.cur-1))
			assert.False(t, l.allow(l.cur), "allow is in-flight < limit")
		})
	}
}
