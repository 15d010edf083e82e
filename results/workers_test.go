package results

import (
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/require"
)

// TestWorkerClockOffsetsInvalidate: a run sent from several workers carries each worker's clock offset
// into the summary, and is invalid when one is past MaxWorkerClockOffset (uncertainty included) or was
// not measured; offsets within it leave the run valid.
func TestWorkerClockOffsetsInvalidate(t *testing.T) {
	us := time.Microsecond
	measured := func(off, unc time.Duration) load.ClockOffset {
		return load.ClockOffset{Against: "http://10.213.1.1:1/", Measured: true, Offset: off, Uncertainty: unc}
	}
	tests := []struct {
		name   string
		clocks []load.ClockOffset
		want   string // the invalid reason, "" for a valid run
	}{
		// one Docker host: one kernel clock, the offset is the measurement's own noise
		{"same host", []load.ClockOffset{measured(30*us, 80*us), measured(-20*us, 60*us)}, ""},
		// one worker 80 ms ahead: its requests are off the shared clock
		{"ahead", []load.ClockOffset{measured(30*us, 80*us), measured(80*time.Millisecond, 100*us)}, "load worker 1/2: clock offset 80ms"},
		// behind counts the same as ahead
		{"behind", []load.ClockOffset{measured(-60*time.Millisecond, 100*us), measured(0, 100*us)}, "load worker 0/2: clock offset -60ms"},
		// within the bound, but measured over a trip too long to tell
		{"uncertain", []load.ClockOffset{measured(10*time.Millisecond, 45*time.Millisecond), measured(0, 100*us)}, "past 50ms"},
		// no coordinator clock to ask: unknown, never taken as 0
		{"not measured", []load.ClockOffset{measured(0, 100*us), {}}, "load worker 1/2: its clock offset was not measured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, recs := synthetic(shape{faultAt: 30 * time.Second})
			for i, c := range tc.clocks {
				res.Workers = append(res.Workers, load.WorkerInfo{Segment: load.Segment{Index: i, Count: len(tc.clocks)},
					Clock: c, Totals: load.Totals{Counts: load.Counts{Planned: 1500, Sent: 1500}}})
			}
			a, err := Analyze(Input{Name: "x", Load: res, Records: recs})
			require.NoError(t, err)
			require.Len(t, a.Workers, len(tc.clocks))
			require.Equal(t, "0/"+string(rune('0'+len(tc.clocks))), a.Workers[0].Segment)
			require.InDelta(t, tc.clocks[0].Offset.Seconds()*1000, a.Workers[0].ClockOffsetMS, 1e-9)
			if tc.want == "" {
				require.True(t, a.Valid, a.InvalidReasons)
				return
			}
			require.False(t, a.Valid)
			require.Len(t, a.InvalidReasons, 1)
			require.Contains(t, a.InvalidReasons[0], tc.want)
		})
	}
}
