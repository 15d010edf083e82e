package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

func init() {
	Register(Kind{Name: "redis-memory-pressure", Roles: []Role{RoleRedis}, New: func(p Params) (Fault, error) {
		if err := p.check("maxmemory", "policy"); err != nil {
			return nil, err
		}
		mm, _ := p.String("maxmemory", "2mb")
		pol, err := p.String("policy", "allkeys-lru", "allkeys-lru", "allkeys-lfu", "allkeys-random",
			"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "noeviction")
		return &RedisMemoryPressure{MaxMemory: mm, Policy: pol}, err
	}})
}

// RedisMemoryPressure shrinks Redis's maxmemory at run time (CONFIG SET) so that the eviction policy
// throws keys out (sessions, idempotency records) or, with noeviction, writes fail with OOM. Revert
// restores both settings as they were.
type RedisMemoryPressure struct {
	MaxMemory string // e.g. 2mb
	Policy    string // maxmemory-policy while the fault lasts
}

var _ Fault = (*RedisMemoryPressure)(nil)

func (*RedisMemoryPressure) Name() string { return "redis-memory-pressure" }

// redisClient connects to the stack's Redis through its host port, with short timeouts.
func redisClient(ctx context.Context, env *Env) (*redis.Client, error) {
	addr, err := env.Stack.RedisHostAddr(ctx)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: 1}), nil
}

func (f *RedisMemoryPressure) Inject(ctx context.Context, env *Env, _ Target) (Effect, error) {
	rdb, err := redisClient(ctx, env)
	if err != nil {
		return Effect{}, err
	}
	defer rdb.Close()
	old, err := rdb.ConfigGet(ctx, "maxmemory*").Result()
	if err != nil {
		return Effect{}, fmt.Errorf("redis CONFIG GET: %w", err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory-policy", f.Policy).Err(); err != nil {
		return Effect{}, fmt.Errorf("redis CONFIG SET maxmemory-policy: %w", err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", f.MaxMemory).Err(); err != nil {
		_ = rdb.ConfigSet(ctx, "maxmemory-policy", old["maxmemory-policy"]).Err()
		return Effect{}, fmt.Errorf("redis CONFIG SET maxmemory %s: %w", f.MaxMemory, err)
	}
	return Effect{Mechanism: "redis CONFIG SET maxmemory " + f.MaxMemory + " " + f.Policy,
		Revert: func(ctx context.Context) error {
			rdb, err := redisClient(ctx, env)
			if err != nil {
				return err
			}
			defer rdb.Close()
			if err := rdb.ConfigSet(ctx, "maxmemory", old["maxmemory"]).Err(); err != nil {
				return fmt.Errorf("redis restore maxmemory: %w", err)
			}
			if err := rdb.ConfigSet(ctx, "maxmemory-policy", old["maxmemory-policy"]).Err(); err != nil {
				return fmt.Errorf("redis restore maxmemory-policy: %w", err)
			}
			return nil
		}}, nil
}
