package results

import "github.com/chaosbench/chaosbench/load"

// The counts the violations are read against: how many writes, updates and
// sessions there were, and what became of the ones the client could not be
// sure of. None of them is a bug by itself, so none is a Violation.
func init() {
	for _, c := range []Check{
		{Name: "writes.acknowledged", Help: "order creations answered 2xx with an order id",
			Group: "writes", Row: "acknowledged", Rank: 100,
			V1:    func(v *V1Counts) *int64 { return &v.Writes.Acknowledged },
			Order: countStatus(load.OrderAcknowledged)},
		{Name: "writes.indeterminate", Help: "writes with no answer after all retries",
			Group: "writes", Row: "indeterminate", Rank: 130,
			Tolerance: &Tolerance{Rel: 0.20, Abs: 5},
			V1:        func(v *V1Counts) *int64 { return &v.Writes.Indeterminate },
			Order:     countStatus(load.OrderUnknown)},
		{Name: "writes.rejected", Help: "order creations answered with a definite 4xx", Rank: 140,
			V1:    func(v *V1Counts) *int64 { return &v.Writes.Rejected },
			Order: countStatus(load.OrderRejected)},
		{Name: "writes.indeterminate_applied", Help: "indeterminate writes present in the store although the client never learnt it",
			Rank:  150,
			V1:    func(v *V1Counts) *int64 { return &v.Writes.IndeterminateApplied },
			Needs: StoredOrders,
			Order: func(t *Tally, o load.OrderEntry, stored int64) {
				if o.Status == load.OrderUnknown && stored > 0 {
					t.Add(1, "")
				}
			}},
		{Name: "updates.acknowledged", Help: "resource increments answered 200",
			Group: "updates", Row: "acknowledged", Rank: 200,
			V1:       func(v *V1Counts) *int64 { return &v.Updates.Acknowledged },
			Resource: func(t *Tally, r load.ResourceEntry, _ int64) { t.Add(r.Acknowledged, "") }},
		{Name: "updates.extra", Help: "applied increments whose answer was lost (final values above the acknowledged count)",
			Rank:  220,
			V1:    func(v *V1Counts) *int64 { return &v.Updates.Extra },
			Needs: ResourceValues,
			Resource: func(t *Tally, r load.ResourceEntry, value int64) {
				if value > r.Acknowledged {
					t.Add(value-r.Acknowledged, "")
				}
			}},
		{Name: "sessions.total", Help: "the virtual clients' logins",
			Group: "sessions", Row: "total", Rank: 300,
			V1:      func(v *V1Counts) *int64 { return &v.Sessions.Total },
			Session: func(t *Tally, _ load.SessionEntry) { t.Add(1, "") }},
	} {
		RegisterCheck(c)
	}
}

// countStatus counts the orders the client saw end in status.
func countStatus(status load.OrderStatus) func(*Tally, load.OrderEntry, int64) {
	return func(t *Tally, o load.OrderEntry, _ int64) {
		if o.Status == status {
			t.Add(1, "")
		}
	}
}
