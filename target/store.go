package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

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
	rdb     *redis.Client
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
	rdb := redis.NewClient(opt)
	if cfg.RedisSentinels != "" {
		rdb = redis.NewFailoverClient(failoverOptions(cfg, opt))
	}
	s := &store{rdb: rdb, timeout: cfg.RedisTimeout, metrics: m}
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
	var addrs []string
	for a := range strings.SplitSeq(cfg.RedisSentinels, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return &redis.FailoverOptions{
		MasterName: cfg.RedisMasterName, SentinelAddrs: addrs,
		DB: opt.DB, Username: opt.Username, Password: opt.Password,
		MaxRetries: opt.MaxRetries, DialTimeout: opt.DialTimeout, ReadTimeout: opt.ReadTimeout,
		WriteTimeout: opt.WriteTimeout, PoolTimeout: opt.PoolTimeout,
		ContextTimeoutEnabled: opt.ContextTimeoutEnabled,
	}
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
	return s.rdb.Ping(ctx).Err()
}

func (s *store) close() error { return s.rdb.Close() }
