package results

import "github.com/chaosbench/chaosbench/load"

// Duplicate writes: one logical order (one idempotency key, one request id)
// stored more than once. A retry after a lost answer creates a second order
// unless something deduplicates it.
func init() {
	RegisterCheck(Check{
		Name: "writes.duplicates", Help: "extra orders created for one logical write",
		Group: "writes", Row: "duplicates", Rank: 110,
		Violation: true, Title: "Duplicate writes",
		Explain: "Extra copies in the store of one logical write (an order, a declared set's element): a retry after a lost answer was applied twice. " +
			"Idempotency keys exist to keep this at zero.",
		Tolerance: &Tolerance{Worst: true},
		V1:        func(v *V1Counts) *int64 { return &v.Writes.Duplicates },
		Needs:     StoredOrders,
		Order: func(t *Tally, o load.OrderEntry, stored int64) {
			if stored > 1 {
				t.Add(stored-1, o.Key) // the extra orders, whatever the client was told
			}
		},
	})
}
