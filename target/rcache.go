package target

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// resourceCache is the cache-aside read path of resources with STORE=postgres and CACHE_TTL > 0: a GET
// reads the cached copy in Redis (keyspace.ResourceCache + id, "version:value"); a miss reads PostgreSQL
// and fills the copy for CACHE_TTL; an acknowledged PATCH commits in PostgreSQL, then deletes the copy.
//
// It is the naive cache-aside of the seeds, on purpose, because that is the design the stale-read check
// (results/check_stale_reads.go) must judge:
//   - An invalidation that fails (Redis unreachable for that command: the cache-invalidation-loss fault)
//     is logged and counted, never retried, and the PATCH is still answered 200: the write is committed.
//     The stale copy then serves every read until its TTL ends.
//   - A reader that missed, read PostgreSQL just before a write committed, and fills just after that
//     write's DEL puts the old version back for a TTL (the classic fill race; a lease or a versioned
//     fill would close it). It needs a read and a write of one resource interleaved within a few
//     milliseconds, so it is rare under load and never happens to a sequential client.
//
// The cache's own Redis calls go around the store's circuit breaker, with the store's timeout: a cache
// is best effort, and a failed GET, fill or DEL must not open the breaker that guards the sessions. A
// failed GET or fill reads (or answers from) PostgreSQL instead.
type resourceCache struct {
	rdb     redis.UniversalClient
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger
	events  *prometheus.CounterVec
}

func newResourceCache(cfg Config, rdb redis.UniversalClient, m *metrics, log *slog.Logger) *resourceCache {
	c := &resourceCache{rdb: rdb, ttl: cfg.CacheTTL, timeout: cfg.RedisTimeout, log: log,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refapi_resource_cache_total", Help: "Resource cache events: hit, miss, get_error, fill_error, invalidated, invalidation_failed.",
			ConstLabels: prometheus.Labels{"node": cfg.NodeID},
		}, []string{"event"})}
	m.reg.MustRegister(c.events)
	return c
}

// get returns the cached copy of id, ok false on a miss or an error (then PostgreSQL answers).
func (c *resourceCache) get(ctx context.Context, id string) (value, version int64, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s, err := c.rdb.Get(ctx, keyspace.ResourceCache+id).Result()
	switch {
	case err == redis.Nil:
		c.events.WithLabelValues("miss").Inc()
		return 0, 0, false
	case err != nil:
		c.events.WithLabelValues("get_error").Inc()
		return 0, 0, false
	}
	ver, val, found := strings.Cut(s, ":")
	version, err1 := strconv.ParseInt(ver, 10, 64)
	value, err2 := strconv.ParseInt(val, 10, 64)
	if !found || err1 != nil || err2 != nil {
		c.events.WithLabelValues("get_error").Inc()
		return 0, 0, false
	}
	c.events.WithLabelValues("hit").Inc()
	return value, version, true
}

// fill stores what PostgreSQL answered for the TTL; a failure only costs the next read a miss.
func (c *resourceCache) fill(ctx context.Context, id string, value, version int64) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, keyspace.ResourceCache+id, fmt.Sprintf("%d:%d", version, value), c.ttl).Err(); err != nil {
		c.events.WithLabelValues("fill_error").Inc()
	}
}

// invalidate deletes the copy after a committed write, once: a failure is logged and counted, and the
// copy stays until its TTL ends (the naive cache-aside this cache is; see resourceCache).
func (c *resourceCache) invalidate(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	if err := c.rdb.Del(ctx, keyspace.ResourceCache+id).Err(); err != nil {
		c.events.WithLabelValues("invalidation_failed").Inc()
		c.log.Warn("resource cache invalidation failed; the cached copy stays until its TTL", "id", id, "ttl", c.ttl.String(), "err", err)
		return
	}
	c.events.WithLabelValues("invalidated").Inc()
}
