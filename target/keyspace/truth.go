package keyspace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RedisTruth reads the reference API's Redis keys (keyspace.go) as ground
// truth for the checks (results.Truth): what was stored, never what the API
// answered. It shares the layout's one definition with the API that writes
// it, so a renamed key changes both; the tests beside it (truth_test.go) run
// the API and this reader against one real redis-server, and against a real
// Redis Cluster (cluster_test.go).
//
// On a Redis Cluster (a *redis.ClusterClient) the order indexes carry their
// user's hash tag ({user id}:id, Layout), which the ledger does not know: the
// reader lists each index once with SCAN on every primary and counts by id
// across users, as one Redis's list per id counts. That listing is read once,
// on first use, and kept: the checks ask in batches after the run, when
// nothing writes. On one Redis it reads each id's list directly.
type RedisTruth struct {
	rdb redis.UniversalClient

	mu      sync.Mutex
	indexes map[string]map[string]int64 // prefix -> id -> orders
}

// NewRedisTruth reads ground truth through rdb: one server's client, a
// failover client, or a *redis.ClusterClient (SCAN then runs on every
// primary).
func NewRedisTruth(rdb redis.UniversalClient) *RedisTruth { return &RedisTruth{rdb: rdb} }

// OrdersByKey counts the orders indexed under each idempotency key.
func (t *RedisTruth) OrdersByKey(ctx context.Context, keys []string) ([]int64, error) {
	return t.counts(ctx, OrderByKey, keys)
}

// OrdersByRequestID counts the orders indexed under each request id.
func (t *RedisTruth) OrdersByRequestID(ctx context.Context, ids []string) ([]int64, error) {
	return t.counts(ctx, OrderByRequest, ids)
}

func (t *RedisTruth) counts(ctx context.Context, prefix string, ids []string) ([]int64, error) {
	if !t.cluster() {
		return t.listLens(ctx, prefix, ids)
	}
	idx, err := t.index(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = idx[id]
	}
	return out, nil
}

// cluster reports whether the keys are in the cluster's layout (Layout.Cluster).
func (t *RedisTruth) cluster() bool {
	_, ok := t.rdb.(*redis.ClusterClient)
	return ok
}

// listLens is one pipelined round trip: LLEN of prefix+id for every id (one Redis's layout).
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

// index lists every key under prefix and its list's length, by id (the suffix after the user's tag).
func (t *RedisTruth) index(ctx context.Context, prefix string) (map[string]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if idx, ok := t.indexes[prefix]; ok {
		return idx, nil
	}
	keys, err := t.scan(ctx, prefix+"*")
	if err != nil {
		return nil, err
	}
	idx := map[string]int64{}
	const batch = 1000 // LLENs per pipelined round trip (per slot's node on a cluster)
	for start := 0; start < len(keys); start += batch {
		part := keys[start:min(start+batch, len(keys))]
		pipe := t.rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(part))
		for i, k := range part {
			cmds[i] = pipe.LLen(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read order index %s* from redis: %w", prefix, err)
		}
		for i, k := range part {
			if id, ok := indexID(k[len(prefix):]); ok {
				idx[id] += cmds[i].Val()
			}
		}
	}
	if t.indexes == nil {
		t.indexes = map[string]map[string]int64{}
	}
	t.indexes[prefix] = idx
	return idx, nil
}

// scan lists the keys matching pattern with SCAN (never KEYS: it does not block Redis however many
// orders there are), on every primary of a cluster.
func (t *RedisTruth) scan(ctx context.Context, pattern string) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	each := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := t.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return each(ctx, c) })
	} else {
		err = each(ctx, t.rdb)
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s in redis: %w", pattern, err)
	}
	return keys, nil
}

// StoredRequestIDs lists the request ids of every order the API indexed.
func (t *RedisTruth) StoredRequestIDs(ctx context.Context) ([]string, error) {
	if !t.cluster() {
		keys, err := t.scan(ctx, OrderByRequest+"*")
		for i, k := range keys {
			keys[i] = k[len(OrderByRequest):]
		}
		return keys, err
	}
	idx, err := t.index(ctx, OrderByRequest)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(idx))
	for id := range idx {
		ids = append(ids, id)
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
