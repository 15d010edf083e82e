package results

import (
	"fmt"
	"math"
	"time"

	"github.com/chaosbench/chaosbench/load"
)

// MaxWorkerClockOffset is how far a load worker's clock may be from the coordinator's, measurement
// uncertainty included, before a run sent from several workers is invalid: the workers plan on one
// absolute start instant, so a worker off by more sends its share that much early or late, and its
// requests land in the wrong seconds of the timeline and the wrong side of a fault's edges.
const MaxWorkerClockOffset = 50 * time.Millisecond

// Worker is one load worker of a run sent from several (chaosbench run --workers, load.Merge): its
// segment, its clock against the coordinator's, and its share of the requests.
type Worker struct {
	Segment string `json:"segment"` // I/N
	// ClockMeasured is false when the worker had no coordinator clock to measure against; then the
	// offset is unknown (not 0) and the run is invalid.
	ClockMeasured bool `json:"clock_measured"`
	// ClockOffsetMS is the worker's clock minus the coordinator's; ClockUncertaintyMS is half the round
	// trip it was measured with (the true offset is within ±).
	ClockOffsetMS      float64 `json:"clock_offset_ms"`
	ClockUncertaintyMS float64 `json:"clock_uncertainty_ms"`
	Planned            int64   `json:"planned"`
	Sent               int64   `json:"sent"`
	Dropped            int64   `json:"dropped"`
}

// workersOf lists the workers of a merged load and why their clocks make the run invalid, if they do.
func workersOf(ws []load.WorkerInfo) ([]Worker, []string) {
	var out []Worker
	var invalid []string
	for _, w := range ws {
		c := w.Clock
		out = append(out, Worker{Segment: w.Segment.String(), ClockMeasured: c.Measured,
			ClockOffsetMS: durMS(c.Offset), ClockUncertaintyMS: durMS(c.Uncertainty),
			Planned: w.Totals.Planned, Sent: w.Totals.Sent, Dropped: w.Totals.Dropped})
		switch worst := time.Duration(math.Abs(float64(c.Offset))) + c.Uncertainty; {
		case !c.Measured:
			invalid = append(invalid, fmt.Sprintf("load worker %s: its clock offset was not measured, so its requests may be off the shared clock by any amount", w.Segment))
		case worst > MaxWorkerClockOffset:
			invalid = append(invalid, fmt.Sprintf("load worker %s: clock offset %s ± %s against the coordinator, past %s: its requests are off the shared clock",
				w.Segment, c.Offset.Round(time.Microsecond), c.Uncertainty.Round(time.Microsecond), MaxWorkerClockOffset))
		}
	}
	return out, invalid
}
