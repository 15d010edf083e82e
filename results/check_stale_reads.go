package results

import (
	"sort"

	"github.com/chaosbench/chaosbench/load"
)

// Stale reads: a GET of a resource that answered a version older than one a client had already been
// told was written before the read began (a PATCH answered 200 whose ack came before the GET was sent).
// Such a write had committed before the read started, so a store that reads its own commits answers it
// or a later one; only a copy that outlived its invalidation (a cache whose DEL was lost) answers older.
// The ledger alone is the evidence (Needs nothing of the Truth): versions are the API's strong ETags,
// times the load's one run clock. "Acknowledged to that client" is a case of "acknowledged before the
// read began" on that clock, so one rule counts both.
//
// reads.stale_max_ms is how long the newer state had already been acknowledged when the stalest read
// began: the read's start less the ack of the first write it missed. It is a lower bound of how long a
// stale copy survives (the copy may be served a little longer by reads not made), and a maximum, not a
// count: its fold keeps the largest value, never adds.
func init() {
	RegisterCheck(Check{
		Name: "reads.stale", Help: "resource reads that answered a version older than one acknowledged before the read began",
		Group: "reads", Row: "stale", Rank: 250,
		Violation: true, Title: "Stale reads",
		Explain: "A read answered an older version of a resource than a write the service had already acknowledged " +
			"before the read was sent: a cached copy outlived its invalidation.",
		Tolerance: &Tolerance{Worst: true},
		Applies:   readsRecorded,
		Resource: func(t *Tally, r load.ResourceEntry, _ int64) {
			if n, _ := staleReads(r); n > 0 {
				t.Add(n, r.ID)
			}
		},
	})
	RegisterCheck(Check{
		Name: "reads.stale_max_ms", Help: "the longest a stale read's missed write had been acknowledged when the read began, in ms",
		Group: "reads", Row: "longest stale (ms)", Rank: 251,
		Tolerance: &Tolerance{Worst: true},
		Applies:   readsRecorded,
		Resource: func(t *Tally, r load.ResourceEntry, _ int64) {
			if n, ms := staleReads(r); n > 0 && ms > t.Value {
				t.Value, t.Examples = ms, []string{r.ID}
			}
		},
	})
}

// readsRecorded is whether any resource read with its version is in the ledger (the resource.read op):
// without one, no read could have been stale, and a 0 would claim what nobody looked at.
func readsRecorded(l load.LedgerSnapshot) bool {
	for _, r := range l.Resources {
		if len(r.Reads) > 0 {
			return true
		}
	}
	return false
}

// staleReads counts r's stale reads and the largest staleness among them, in milliseconds.
func staleReads(r load.ResourceEntry) (n, maxMs int64) {
	if len(r.Reads) == 0 || len(r.Writes) == 0 {
		return 0, 0
	}
	w := append([]load.VersionWrite(nil), r.Writes...)
	sort.Slice(w, func(i, j int) bool { return w[i].AckUs < w[j].AckUs })
	// high[i] is the highest version acknowledged by w[0..i]: non-decreasing in i.
	high := make([]int64, len(w))
	for i, x := range w {
		high[i] = x.Version
		if i > 0 && high[i-1] > high[i] {
			high[i] = high[i-1]
		}
	}
	for _, rd := range r.Reads {
		k := sort.Search(len(w), func(i int) bool { return w[i].AckUs >= rd.StartUs }) // w[:k] acked before
		if k == 0 || high[k-1] <= rd.Version {
			continue
		}
		n++
		// The first write of a newer version than the read's: where high first passes it.
		j := sort.Search(k, func(i int) bool { return high[i] > rd.Version })
		maxMs = max(maxMs, (rd.StartUs-w[j].AckUs)/1000)
	}
	return n, maxMs
}
