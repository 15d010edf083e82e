package results

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaosbench/chaosbench/load"
)

// checkBatch is how many orders one round trip to the Truth asks about.
const checkBatch = 500

// CheckLedger runs every registered check (Checks) over ledger, asking truth
// what the store holds. Orders are read in batches from the ledger's orders
// file (or from memory for a ledger without one) and the Truth is asked once
// per batch, for all the checks together, so the check holds one batch at a
// time however long the run was. A check whose question truth cannot answer
// (ErrUnanswerable, or no truth at all) is reported as not checked; any other
// error of truth fails the whole check.
func CheckLedger(ctx context.Context, truth Truth, ledger load.LedgerSnapshot) (Findings, error) {
	cs := Checks()
	tallies := make([]Tally, len(cs))
	// unanswered says why the truth could not answer a fact.
	unanswered := map[Fact]string{}
	if truth == nil {
		unanswered[StoredOrders] = "no ground-truth source"
		unanswered[ResourceValues] = "no ground-truth source"
	}
	needs := func(f Fact, fold func(Check) bool) bool {
		for _, c := range cs {
			if fold(c) && c.Needs&f != 0 {
				return unanswered[f] == ""
			}
		}
		return false
	}
	// runs says whether c's folds see this fact's entries.
	runs := func(c Check, f Fact) bool { return c.Needs&f == 0 || unanswered[f] == "" }

	if needOrders := needs(StoredOrders, hasOrder); hasAny(cs, hasOrder) {
		keys, ids := make([]string, 0, checkBatch), make([]string, 0, checkBatch)
		err := ledger.OrderBatches(checkBatch, func(part []load.OrderEntry) error {
			var stored []int64
			if needOrders && unanswered[StoredOrders] == "" {
				keys, ids = keys[:0], ids[:0]
				for _, o := range part {
					keys, ids = append(keys, o.Key), append(ids, o.RequestID)
				}
				n, err := storedOrders(ctx, truth, keys, ids)
				switch {
				case errors.Is(err, ErrUnanswerable):
					unanswered[StoredOrders] = err.Error()
				case err != nil:
					return fmt.Errorf("read stored orders: %w", err)
				case len(n) != len(part):
					return fmt.Errorf("read stored orders: %d answers for %d orders", len(n), len(part))
				}
				stored = n
			}
			for j, o := range part {
				var s int64
				if stored != nil {
					s = stored[j]
				}
				for i, c := range cs {
					if c.Order != nil && runs(c, StoredOrders) {
						c.Order(&tallies[i], o, s)
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("check orders: %w", err)
		}
	}

	if len(ledger.Resources) > 0 && hasAny(cs, hasResource) {
		values := make([]int64, len(ledger.Resources))
		if needs(ResourceValues, hasResource) {
			ids := make([]string, len(ledger.Resources))
			for i, r := range ledger.Resources {
				ids[i] = r.ID
			}
			v, err := truth.ResourceValues(ctx, ids)
			switch {
			case errors.Is(err, ErrUnanswerable):
				unanswered[ResourceValues] = err.Error()
			case err != nil:
				return nil, fmt.Errorf("check resources: %w", err)
			case len(v) != len(ids):
				return nil, fmt.Errorf("check resources: %d values for %d resources", len(v), len(ids))
			default:
				values = v
			}
		}
		for k, r := range ledger.Resources {
			for i, c := range cs {
				if c.Resource != nil && runs(c, ResourceValues) {
					c.Resource(&tallies[i], r, values[k])
				}
			}
		}
	}

	for _, s := range ledger.Sessions {
		for i, c := range cs {
			if c.Session != nil {
				c.Session(&tallies[i], s)
			}
		}
	}

	f := make(Findings, len(cs))
	for i, c := range cs {
		r := CheckResult{Value: tallies[i].Value, Examples: tallies[i].Examples}
		for _, fact := range []Fact{StoredOrders, ResourceValues} {
			if c.Needs&fact != 0 && unanswered[fact] != "" {
				r = CheckResult{NotChecked: fmt.Sprintf("%s: %s", fact, unanswered[fact])}
			}
		}
		f[c.Name] = r
	}
	return f, nil
}

func hasOrder(c Check) bool    { return c.Order != nil }
func hasResource(c Check) bool { return c.Resource != nil }

func hasAny(cs []Check, fold func(Check) bool) bool {
	for _, c := range cs {
		if fold(c) {
			return true
		}
	}
	return false
}
