package keyspace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisTruth reads the reference API's Redis keys (keyspace.go) as ground
// truth for the checks (results.Truth): what was stored, never what the API
// answered. It shares the layout's one definition with the API that writes
// it, so a renamed key changes both; the tests beside it (truth_test.go) run
// the API and this reader against one real redis-server.
type RedisTruth struct {
	rdb *redis.Client
}

// NewRedisTruth reads ground truth through rdb.
func NewRedisTruth(rdb *redis.Client) *RedisTruth { return &RedisTruth{rdb: rdb} }

// OrdersByKey counts the orders indexed under each idempotency key.
func (t *RedisTruth) OrdersByKey(ctx context.Context, keys []string) ([]int64, error) {
	return t.listLens(ctx, OrderByKey, keys)
}

// OrdersByRequestID counts the orders indexed under each request id.
func (t *RedisTruth) OrdersByRequestID(ctx context.Context, ids []string) ([]int64, error) {
	return t.listLens(ctx, OrderByRequest, ids)
}

// listLens is one pipelined round trip: LLEN of prefix+id for every id.
func (t *RedisTruth) listLens(ctx context.Context, prefix string, ids []string) ([]int64, error) {
	pipe := t.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.LLen(ctx, prefix+id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read order index %s* from redis: %w", prefix, err)
	}
	out := make([]int64, len(ids))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// StoredRequestIDs lists the request ids of every order the API indexed, with SCAN (never KEYS: it does
// not block Redis however many orders there are).
func (t *RedisTruth) StoredRequestIDs(ctx context.Context) ([]string, error) {
	var ids []string
	iter := t.rdb.Scan(ctx, 0, OrderByRequest+"*", 1000).Iterator()
	for iter.Next(ctx) {
		ids = append(ids, strings.TrimPrefix(iter.Val(), OrderByRequest))
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("scan %s* in redis: %w", OrderByRequest, err)
	}
	return ids, nil
}

// ResourceValues reads each resource's value field; a missing resource is 0.
func (t *RedisTruth) ResourceValues(ctx context.Context, ids []string) ([]int64, error) {
	pipe := t.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGet(ctx, Resource+id, "value")
	}
	// redis.Nil is a resource never written: 0, not an error.
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read resources from redis: %w", err)
	}
	out := make([]int64, len(ids))
	for i, c := range cmds {
		// Missing or not a number: 0, so its acknowledged increments count as lost.
		out[i], _ = strconv.ParseInt(c.Val(), 10, 64)
	}
	return out, nil
}
