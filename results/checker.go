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
func CheckLedger(ctx context.Context, rdb *redis.Client, ledger load.LedgerSnapshot) (Check, error) {
	c := Check{Examples: map[string][]string{}}

	// Orders, pipelined in batches: one round trip per batch, not per order.
	const batch = 500
	for i := 0; i < len(ledger.Orders); i += batch {
		end := min(i+batch, len(ledger.Orders))
		part := ledger.Orders[i:end]
		pipe := rdb.Pipeline()
		byKey := make([]*redis.IntCmd, len(part))
		byReq := make([]*redis.IntCmd, len(part))
		for j, o := range part {
			byKey[j] = pipe.LLen(ctx, keyOrderByKey+o.Key)
			byReq[j] = pipe.LLen(ctx, keyOrderByReq+o.RequestID)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return Check{}, fmt.Errorf("read order indexes from redis: %w", err)
		}
		for j, o := range part {
			n := max(byKey[j].Val(), byReq[j].Val())
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
