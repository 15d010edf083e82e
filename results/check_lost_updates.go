package results

import "github.com/chaosbench/chaosbench/load"

// Lost updates: acknowledged increments of a shared resource missing from its
// final value (two read-modify-write cycles overwrote each other).
func init() {
	RegisterCheck(Check{
		Name: "updates.lost", Help: "acknowledged increments missing from the final values",
		Group: "updates", Row: "lost", Rank: 210,
		Violation: true, Title: "Lost updates",
		Explain: "Acknowledged increments of a shared resource missing from its final value: two writers overwrote each " +
			"other.",
		Tolerance: &Tolerance{Worst: true},
		V1:        func(v *V1Counts) *int64 { return &v.Updates.Lost },
		Needs:     ResourceValues,
		Resource: func(t *Tally, r load.ResourceEntry, value int64) {
			if value < r.Acknowledged {
				t.Add(r.Acknowledged-value, r.ID)
			}
		},
	})
}
