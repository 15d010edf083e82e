package results

import "github.com/chaosbench/chaosbench/load"

// Lost sessions: a session rejected as unknown (session_not_found) while the
// client knew it to be alive. The ledger alone knows this: the server's
// answer is the evidence.
func init() {
	RegisterCheck(Check{
		Name: "sessions.lost", Help: "live sessions rejected as unknown",
		Group: "sessions", Row: "lost", Rank: 310,
		Violation: true, Title: "Lost sessions",
		Explain: "A logged-in client was told its session did not exist although it had not expired: the node that held " +
			"it died, or the balancer sent the client elsewhere.",
		Tolerance: &Tolerance{Worst: true},
		V1:        func(v *V1Counts) *int64 { return &v.Sessions.Lost },
		Session: func(t *Tally, s load.SessionEntry) {
			if s.Lost {
				t.Add(1, s.SessionID)
			}
		},
	})
}
