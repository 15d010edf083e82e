package results

import (
	"context"
	"fmt"
	"strconv"

	"github.com/chaosbench/chaosbench/load"
	"github.com/redis/go-redis/v9"
)

// Redis keys the reference API writes (target/store.go, docs/refapi.md):
// the checker reads them as ground truth, never the API's own answers.
const (
	keyOrderByReq = "v1:order-index:request:"
	keyOrderByKey = "v1:order-index:key:"
	keyResource   = "v1:resource:"
)

// Check is what ground truth says about the client's ledger.
type Check struct {
	Writes   Writes
	Updates  Updates
	Sessions Sessions
	// Examples names a few violating keys per kind, for the report and for
	// a person who wants to look in Redis.
	Examples map[string][]string
}

const maxExamples = 5

func (c *Check) example(kind, key string) {
	if len(c.Examples[kind]) < maxExamples {
		c.Examples[kind] = append(c.Examples[kind], key)
	}
}

// CheckLedger compares ledger with Redis: how many orders exist for each
// logical write (by idempotency key and by request_id, whichever shows more),
// and each resource's final value against its acknowledged increments.
// Orders are read in batches from the ledger's orders file (or from memory
// for a ledger without one), so the check holds one batch at a time however
// long the run was.
func CheckLedger(ctx context.Context, rdb *redis.Client, ledger load.LedgerSnapshot) (Check, error) {
	c := Check{Examples: map[string][]string{}}

	// Orders, pipelined in batches: one round trip per batch, not per order.
	const batch = 500
	byKey := make([]*redis.IntCmd, 0, batch)
	byReq := make([]*redis.IntCmd, 0, batch)
	err := ledger.OrderBatches(batch, func(part []load.OrderEntry) error {
		pipe := rdb.Pipeline()
		byKey, byReq = byKey[:0], byReq[:0]
		for _, o := range part {
			byKey = append(byKey, pipe.LLen(ctx, keyOrderByKey+o.Key))
			byReq = append(byReq, pipe.LLen(ctx, keyOrderByReq+o.RequestID))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("read order indexes from redis: %w", err)
		}
		for j, o := range part {
			c.checkOrder(o, max(byKey[j].Val(), byReq[j].Val()))
		}
		return nil
	})
	if err != nil {
		return Check{}, fmt.Errorf("check orders: %w", err)
	}

	// Resources: the final value against acknowledged increments. Each
	// architecture runs on a fresh stack, so every resource started at 0.
	if len(ledger.Resources) > 0 {
		pipe := rdb.Pipeline()
		vals := make([]*redis.StringCmd, len(ledger.Resources))
		for i, r := range ledger.Resources {
			vals[i] = pipe.HGet(ctx, keyResource+r.ID, "value")
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return Check{}, fmt.Errorf("read resources from redis: %w", err)
		}
		for i, r := range ledger.Resources {
			v, _ := strconv.ParseInt(vals[i].Val(), 10, 64) // missing: 0
			c.Updates.Acknowledged += r.Acknowledged
			if v < r.Acknowledged {
				c.Updates.Lost += r.Acknowledged - v
				c.example("lost_update", r.ID)
			} else {
				c.Updates.Extra += v - r.Acknowledged
			}
		}
	}

	c.Sessions.Total = int64(len(ledger.Sessions))
	for _, s := range ledger.Sessions {
		if s.Lost {
			c.Sessions.Lost++
			c.example("lost_session", s.SessionID)
		}
	}
	return c, nil
}

// checkOrder counts one logical order that exists n times in Redis.
func (c *Check) checkOrder(o load.OrderEntry, n int64) {
	if n > 1 {
		c.Writes.Duplicates += n - 1
		c.example("duplicate", o.Key)
	}
	switch o.Status {
	case load.OrderAcknowledged:
		c.Writes.Acknowledged++
		if n == 0 {
			c.Writes.Lost++
			c.example("lost", o.Key)
		}
	case load.OrderRejected:
		c.Writes.Rejected++
	case load.OrderUnknown:
		c.Writes.Indeterminate++
		if n > 0 {
			c.Writes.IndeterminateApplied++
		}
	}
}
