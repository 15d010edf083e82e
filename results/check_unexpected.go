package results

// Unexpected writes: orders the store holds that no client ever attempted (Jepsen's total-queue checker
// calls them unexpected). A service that invents or resurrects orders shows here; a truth that cannot list
// every order it holds leaves the check not checked.
func init() {
	RegisterCheck(Check{
		Name: "writes.unexpected", Help: "orders the store holds that no client attempted",
		Group: "writes", Row: "unexpected", Rank: 125,
		Violation: true, Title: "Unexpected writes",
		Explain:   "Writes in the store that no client ever sent: the service made up or replayed a write nobody asked for.",
		Tolerance: &Tolerance{Worst: true},
		Needs:     StoredRequestIDs,
		Unexpected: func(t *Tally, ids []string) {
			for _, id := range ids {
				t.Add(1, id)
			}
		},
	})
}
