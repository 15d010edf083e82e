package results

import "github.com/chaosbench/chaosbench/load"

// Lost writes: orders the client was told exist (2xx with an order id) that
// the store does not hold afterwards.
func init() {
	RegisterCheck(Check{
		Name: "writes.lost", Help: "acknowledged orders absent from the store",
		Group: "writes", Row: "lost", Rank: 120,
		Violation: true, Title: "Lost writes",
		Explain:   "Writes the client was told succeeded (2xx) that are not in the store afterwards (orders, or a declared set's elements).",
		Tolerance: &Tolerance{Worst: true},
		V1:        func(v *V1Counts) *int64 { return &v.Writes.Lost },
		Needs:     StoredOrders,
		Order: func(t *Tally, o load.OrderEntry, stored int64) {
			if o.Status == load.OrderAcknowledged && stored == 0 {
				t.Add(1, o.Key)
			}
		},
	})
}
