package results

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/chaosbench/chaosbench/load"
)

// checkBatch is how many orders one round trip to the Truth asks about.
const checkBatch = 500

// CheckLedger runs every registered check (Checks) over ledger, asking truth
// what the store holds. Orders are read in batches from the ledger's orders
// file (or from memory for a ledger without one) and the Truth is asked once
// per batch for all the checks together, so the check holds one batch at a
// time however long the run was. A check whose question truth cannot answer
// (ErrUnanswerable, or no truth at all) is reported as not checked; any other
// error of truth fails the whole check.
func CheckLedger(ctx context.Context, truth Truth, ledger load.LedgerSnapshot, opts ...CheckOption) (Findings, error) {
	r := &checkRun{truth: truth, checks: Checks(), unanswered: map[Fact]string{}, keep: contractOrders}
	for _, o := range opts {
		o(r)
	}
	r.tallies = make([]Tally, len(r.checks))
	if truth == nil {
		r.unanswered[StoredOrders] = "no ground-truth source"
		r.unanswered[ResourceValues] = "no ground-truth source"
		r.unanswered[StoredRequestIDs] = "no ground-truth source"
	} else if _, ok := truth.(OrderLister); !ok {
		r.unanswered[StoredRequestIDs] = "the ground-truth source cannot list every order it holds"
	}
	if fr, ok := truth.(FactRefuser); ok {
		// Known before any entry is folded: with no entry of a kind the truth would never be asked, and
		// its checks would read 0 for what was not measured.
		for _, f := range []Fact{StoredOrders, ResourceValues, StoredRequestIDs} {
			if err := fr.Refuses(f); err != nil && r.unanswered[f] == "" {
				r.unanswered[f] = err.Error()
			}
		}
	}
	if err := r.orders(ctx, ledger); err != nil {
		return nil, fmt.Errorf("check orders: %w", err)
	}
	if err := r.resources(ctx, ledger.Resources); err != nil {
		return nil, fmt.Errorf("check resources: %w", err)
	}
	if err := r.unexpected(ctx); err != nil {
		return nil, fmt.Errorf("check unexpected orders: %w", err)
	}
	for _, s := range ledger.Sessions {
		for i, c := range r.checks {
			if c.Session != nil {
				c.Session(&r.tallies[i], s)
			}
		}
	}
	f := r.findings()
	for _, c := range r.checks {
		if c.Applies != nil && !c.Applies(ledger) {
			delete(f, c.Name)
		}
	}
	if r.noSessions != "" {
		for _, c := range r.checks {
			if c.Session != nil {
				f[c.Name] = CheckResult{NotChecked: r.noSessions}
			}
		}
	}
	return f, nil
}

// CheckOption changes what CheckLedger reads of the ledger.
type CheckOption func(*checkRun)

// DeclaredWrites checks the writes of a scenario's declared ops that record into a set (OrderEntry.Set),
// against a Truth that reads those sets, instead of the contract's orders.
func DeclaredWrites() CheckOption { return func(r *checkRun) { r.keep = setOrders } }

// NoSessions reports the session checks not checked, for why: a run whose clients have no session the
// ledger could follow (a declared client without a session section).
func NoSessions(why string) CheckOption { return func(r *checkRun) { r.noSessions = why } }

// checkRun is one CheckLedger: the checks, their tallies, and which facts
// the truth could not answer (and why).
type checkRun struct {
	truth      Truth
	checks     []Check
	tallies    []Tally
	unanswered map[Fact]string
	// attempted holds every request id and key of the ledger, only while a check asks for unexpected orders.
	attempted map[string]bool
	// keep filters a batch of the ledger's orders down to those the checks judge (contractOrders).
	keep       func(part, scratch []load.OrderEntry) (own, scratchOut []load.OrderEntry)
	noSessions string
}

// asks: some check with a fold of this kind needs f, and the truth has not
// refused it yet.
func (r *checkRun) asks(f Fact, folds func(Check) bool) bool {
	for _, c := range r.checks {
		if folds(c) && c.Needs&f != 0 {
			return r.unanswered[f] == ""
		}
	}
	return false
}

// sees: c's fold runs, i.e. it needs nothing the truth refused.
func (r *checkRun) sees(c Check, f Fact) bool { return c.Needs&f == 0 || r.unanswered[f] == "" }

func foldsOrders(c Check) bool     { return c.Order != nil }
func foldsResources(c Check) bool  { return c.Resource != nil }
func foldsUnexpected(c Check) bool { return c.Unexpected != nil }

func (r *checkRun) orders(ctx context.Context, ledger load.LedgerSnapshot) error {
	folds := false
	for _, c := range r.checks {
		folds = folds || foldsOrders(c)
	}
	if r.asks(StoredRequestIDs, foldsUnexpected) {
		r.attempted = map[string]bool{}
		folds = true
	}
	if !folds {
		return nil
	}
	keys, ids := make([]string, 0, checkBatch), make([]string, 0, checkBatch)
	var own []load.OrderEntry
	return ledger.OrderBatches(checkBatch, func(part []load.OrderEntry) error {
		part, own = r.keep(part, own)
		if len(part) == 0 {
			return nil
		}
		var stored []int64
		if r.asks(StoredOrders, foldsOrders) {
			keys, ids = keys[:0], ids[:0]
			for _, o := range part {
				keys, ids = append(keys, o.Key), append(ids, o.RequestID)
			}
			n, err := storedOrders(ctx, r.truth, keys, ids)
			switch {
			case errors.Is(err, ErrUnanswerable):
				r.unanswered[StoredOrders] = err.Error()
			case err != nil:
				return fmt.Errorf("read stored orders: %w", err)
			case len(n) != len(part):
				return fmt.Errorf("read stored orders: %d answers for %d orders", len(n), len(part))
			default:
				stored = n
			}
		}
		for j, o := range part {
			if r.attempted != nil {
				// A Truth lists what it holds by request id, or (a declared set) by the op's key.
				r.attempted[o.RequestID] = true
				r.attempted[o.Key] = true
			}
			var s int64
			if stored != nil {
				s = stored[j]
			}
			for i, c := range r.checks {
				if c.Order != nil && r.sees(c, StoredOrders) {
					c.Order(&r.tallies[i], o, s)
				}
			}
		}
		return nil
	})
}

// contractOrders is part without the entries of declared ops (OrderEntry.Op): those are writes to
// another API than the contract's /v1/orders, for the scenario's own invariants to check. part itself when
// it holds none (the common case); else a copy in scratch's storage, since part is the ledger's.
func contractOrders(part, scratch []load.OrderEntry) (own, scratchOut []load.OrderEntry) {
	return filterOrders(part, scratch, func(o load.OrderEntry) bool { return o.Op == "" })
}

// setOrders is part's entries that a declared op recorded into a set (DeclaredWrites).
func setOrders(part, scratch []load.OrderEntry) (own, scratchOut []load.OrderEntry) {
	return filterOrders(part, scratch, func(o load.OrderEntry) bool { return o.Set != "" })
}

func filterOrders(part, scratch []load.OrderEntry, keep func(load.OrderEntry) bool) (own, scratchOut []load.OrderEntry) {
	if !slices.ContainsFunc(part, func(o load.OrderEntry) bool { return !keep(o) }) {
		return part, scratch
	}
	scratch = scratch[:0]
	for _, o := range part {
		if keep(o) {
			scratch = append(scratch, o)
		}
	}
	return scratch, scratch
}

// resources asks for every final value at once: resources are few (the
// scenario's), unlike orders.
func (r *checkRun) resources(ctx context.Context, rs []load.ResourceEntry) error {
	if len(rs) == 0 {
		return nil
	}
	values := make([]int64, len(rs))
	if r.asks(ResourceValues, foldsResources) {
		ids := make([]string, len(rs))
		for i, x := range rs {
			ids[i] = x.ID
		}
		v, err := r.truth.ResourceValues(ctx, ids)
		switch {
		case errors.Is(err, ErrUnanswerable):
			r.unanswered[ResourceValues] = err.Error()
		case err != nil:
			return fmt.Errorf("read resource values: %w", err)
		case len(v) != len(ids):
			return fmt.Errorf("read resource values: %d values for %d resources", len(v), len(ids))
		default:
			values = v
		}
	}
	for k, x := range rs {
		for i, c := range r.checks {
			if c.Resource != nil && r.sees(c, ResourceValues) {
				c.Resource(&r.tallies[i], x, values[k])
			}
		}
	}
	return nil
}

// unexpected asks the truth for every order it holds and shows the checks those nobody attempted.
func (r *checkRun) unexpected(ctx context.Context) error {
	if r.attempted == nil {
		return nil
	}
	ids, err := r.truth.(OrderLister).StoredRequestIDs(ctx)
	switch {
	case errors.Is(err, ErrUnanswerable):
		r.unanswered[StoredRequestIDs] = err.Error()
		return nil
	case err != nil:
		return fmt.Errorf("list stored orders: %w", err)
	}
	var extra []string
	for _, id := range ids {
		if !r.attempted[id] {
			extra = append(extra, id)
		}
	}
	for i, c := range r.checks {
		if c.Unexpected != nil {
			c.Unexpected(&r.tallies[i], extra)
		}
	}
	return nil
}

// findings are the tallies, a check that needed a refused fact not checked
// (whatever it counted before the truth refused).
func (r *checkRun) findings() Findings {
	f := make(Findings, len(r.checks))
	for i, c := range r.checks {
		res := CheckResult{Value: r.tallies[i].Value, Examples: r.tallies[i].Examples}
		for _, fact := range []Fact{StoredOrders, ResourceValues, StoredRequestIDs} {
			if c.Needs&fact != 0 && r.unanswered[fact] != "" {
				res = CheckResult{NotChecked: fmt.Sprintf("%s: %s", fact, r.unanswered[fact])}
			}
		}
		f[c.Name] = res
	}
	return f
}

// NotChecked is every registered check not checked, for why: what a run records when none of the checks'
// questions apply to what it sent (a scenario of declared ops, whose writes are not the contract's orders,
// resources and sessions). Its thresholds then fail as not measured; a 0 would claim what was not checked.
func NotChecked(why string) Findings {
	f := make(Findings)
	for _, c := range Checks() {
		f[c.Name] = CheckResult{NotChecked: why}
	}
	return f
}
