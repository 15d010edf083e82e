package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// errUnavailable means the state store cannot be used right now: Redis
// failed, timed out, or the breaker is open. Handlers answer 503 fast.
var errUnavailable = errors.New("state store unavailable")

// store is the Redis client behind a circuit breaker. When Redis fails the
// breaker opens, and requests are refused at once instead of each waiting
// for a timeout: the API sheds load fast and recovers by itself.
type store struct {
	// rdb is one server's client, Sentinel's failover client or a cluster client; keys is the layout
	// of the order keys that goes with it (hash tags on a cluster).
	rdb     redis.UniversalClient
	keys    keyspace.Layout
	cb      *gobreaker.CircuitBreaker[struct{}]
	timeout time.Duration
	metrics *metrics
}

// breakerOpenFor is how long the breaker stays open before it lets one probe
// request through; it is also the Retry-After the API advertises.
const breakerOpenFor = time.Second

func newStore(cfg Config, m *metrics, log *slog.Logger) (*store, error) {
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// go-redis would retry a command after a network error, and a Lua
	// script that did run but whose reply was lost would then run twice:
	// a server-made duplicate. Retries belong to the client, with keys.
	opt.MaxRetries = -1
	opt.DialTimeout = cfg.RedisTimeout
	opt.ReadTimeout = cfg.RedisTimeout
	opt.WriteTimeout = cfg.RedisTimeout
	opt.PoolTimeout = cfg.RedisTimeout
	opt.ContextTimeoutEnabled = true
	var rdb redis.UniversalClient = redis.NewClient(opt)
	var keys keyspace.Layout
	switch {
	case cfg.RedisSentinels != "":
		rdb = redis.NewFailoverClient(failoverOptions(cfg, opt))
	case cfg.RedisCluster != "":
		rdb, keys = redis.NewClusterClient(clusterOptions(cfg, opt)), keyspace.Layout{Cluster: true}
	}
	s := &store{rdb: rdb, keys: keys, timeout: cfg.RedisTimeout, metrics: m}
	s.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     breakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		IsSuccessful: func(err error) bool {
			// A missing key or a client that hung up says nothing about
			// Redis' health.
			return err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			m.breakerState.Set(float64(to))
			log.Warn("redis circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	return s, nil
}

// failoverOptions are opt's settings (database, password, timeouts, no retries) for go-redis's failover
// client: it asks the Sentinels for the current primary and, on a failover, drops its connections and
// asks again, so that the API follows a promoted replica without a restart.
func failoverOptions(cfg Config, opt *redis.Options) *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName: cfg.RedisMasterName, SentinelAddrs: splitAddrs(cfg.RedisSentinels),
		DB: opt.DB, Username: opt.Username, Password: opt.Password,
		MaxRetries: opt.MaxRetries, DialTimeout: opt.DialTimeout, ReadTimeout: opt.ReadTimeout,
		WriteTimeout: opt.WriteTimeout, PoolTimeout: opt.PoolTimeout,
		ContextTimeoutEnabled: opt.ContextTimeoutEnabled,
	}
}

// clusterOptions are opt's settings for go-redis's cluster client. Its redirect loop (MaxRedirects)
// also re-sends a command after a network error or a timeout, on the same node and then on another,
// when a script may have run: a server-made duplicate, as with MaxRetries. So no redirect at all (-1):
// a MOVED or ASK answer (a moved slot; the command did not run) fails that one request as unavailable
// and reloads the slot map (do), and the client's retry goes to the right node.
func clusterOptions(cfg Config, opt *redis.Options) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs: splitAddrs(cfg.RedisCluster), Username: opt.Username, Password: opt.Password,
		MaxRetries: opt.MaxRetries, MaxRedirects: -1, DialTimeout: opt.DialTimeout, ReadTimeout: opt.ReadTimeout,
		WriteTimeout: opt.WriteTimeout, PoolTimeout: opt.PoolTimeout,
		ContextTimeoutEnabled: opt.ContextTimeoutEnabled,
	}
}

func splitAddrs(list string) []string {
	var addrs []string
	for a := range strings.SplitSeq(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// do runs one Redis interaction through the breaker, with a deadline.
// fn returns only Redis errors (redis.Nil included); logical outcomes travel
// in the closure's variables so that they never trip the breaker.
func (s *store) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	start := time.Now()
	_, err := s.cb.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		return struct{}{}, fn(ctx)
	})
	s.metrics.redisOp.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if cc, ok := s.rdb.(*redis.ClusterClient); ok && err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled) {
		// The cluster client reloads its slot map only on MOVED or once a minute: after a primary died
		// and its replica took over, every command for its slots would go on failing against the dead
		// address. Any failure reloads it (one reload at a time, at most one per 200 ms: go-redis's).
		cc.ReloadState(ctx)
	}
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		return err
	case errors.Is(err, context.Canceled):
		return err
	default:
		return fmt.Errorf("%w: %s: %v", errUnavailable, op, err)
	}
}

// ping checks Redis directly (not through the breaker), for /readyz.
func (s *store) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer cancel()
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		// Any node answers PING, formed cluster or not. A command routed by slot fails (MOVED, CLUSTERDOWN)
		// while the client's slot map is empty or stale, e.g. loaded before the cluster formed: the node is
		// not ready until a reload (here, on that failure) gives it the cluster's map.
		err := cc.Exists(ctx, "v1:readyz").Err()
		if err != nil {
			cc.ReloadState(ctx)
		}
		return err
	}
	return s.rdb.Ping(ctx).Err()
}

func (s *store) close() error { return s.rdb.Close() }
