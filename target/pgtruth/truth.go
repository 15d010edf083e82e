package pgtruth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Truth reads the reference API's PostgreSQL tables as ground truth for the checks (results.Truth, and
// results.OrderLister): what was committed, never what the API answered. The tests beside it run the
// API and this reader against one real PostgreSQL server.
type Truth struct {
	pool *pgxpool.Pool
}

// NewTruth reads ground truth through pool.
func NewTruth(pool *pgxpool.Pool) *Truth { return &Truth{pool: pool} }

// OrdersByKey counts the orders stored under each idempotency key.
func (t *Truth) OrdersByKey(ctx context.Context, keys []string) ([]int64, error) {
	return t.counts(ctx, "idempotency_key", keys)
}

// OrdersByRequestID counts the orders stored under each request id.
func (t *Truth) OrdersByRequestID(ctx context.Context, ids []string) ([]int64, error) {
	return t.counts(ctx, "request_id", ids)
}

// counts is one query for the whole batch: the orders whose column is each of vals, 0 for none.
func (t *Truth) counts(ctx context.Context, column string, vals []string) ([]int64, error) {
	rows, err := t.pool.Query(ctx, "SELECT "+column+", count(*) FROM "+Orders+" WHERE "+column+
		" = ANY($1) GROUP BY "+column, vals)
	if err != nil {
		return nil, fmt.Errorf("count orders by %s in postgres: %w", column, err)
	}
	defer rows.Close()
	by := make(map[string]int64, len(vals))
	for rows.Next() {
		var v string
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("count orders by %s in postgres: %w", column, err)
		}
		by[v] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count orders by %s in postgres: %w", column, err)
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		out[i] = by[v]
	}
	return out, nil
}

// StoredRequestIDs lists the request id of every stored order, once each.
func (t *Truth) StoredRequestIDs(ctx context.Context) ([]string, error) {
	rows, err := t.pool.Query(ctx, "SELECT DISTINCT request_id FROM "+Orders)
	if err != nil {
		return nil, fmt.Errorf("list request ids in postgres: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list request ids in postgres: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list request ids in postgres: %w", err)
	}
	return ids, nil
}

// ResourceValues reads each resource's value; a resource never written is 0.
func (t *Truth) ResourceValues(ctx context.Context, ids []string) ([]int64, error) {
	rows, err := t.pool.Query(ctx, "SELECT id, value FROM "+Resources+" WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, fmt.Errorf("read resources in postgres: %w", err)
	}
	defer rows.Close()
	by := make(map[string]int64, len(ids))
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("read resources in postgres: %w", err)
		}
		by[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read resources in postgres: %w", err)
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = by[id]
	}
	return out, nil
}
