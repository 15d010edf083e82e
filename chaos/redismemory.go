package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-memory-pressure", Roles: []arch.Role{arch.RoleRedis}, New: func(p Params) (Fault, error) {
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
// restores both settings as they were. The commands run with redis-cli inside the Redis container (every
// Redis image has it), so that this package needs no Redis client.
type RedisMemoryPressure struct {
	MaxMemory string // e.g. 2mb
	Policy    string // maxmemory-policy while the fault lasts
}

var _ Fault = (*RedisMemoryPressure)(nil)

func (*RedisMemoryPressure) Name() string { return "redis-memory-pressure" }

// redisTimeout bounds one redis-cli command: a Redis that does not answer (paused, say) must fail the
// fault, not hang it.
const redisTimeout = 5 * time.Second

// redisCLI runs one command against the stack's Redis with redis-cli in its container.
func redisCLI(ctx context.Context, env *Env, args ...string) (string, error) {
	redis, err := env.one(arch.RoleRedis)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	return env.Stack.Exec(ctx, redis.Name, append([]string{"redis-cli"}, args...)...)
}

// configSet sets one Redis setting; redis-cli prints the server's error and may still exit 0, so only
// its OK counts.
func configSet(ctx context.Context, env *Env, key, value string) error {
	out, err := redisCLI(ctx, env, "CONFIG", "SET", key, value)
	if err == nil && out != "OK" {
		err = fmt.Errorf("%s", out)
	}
	if err != nil {
		return fmt.Errorf("redis CONFIG SET %s %s: %w", key, value, err)
	}
	return nil
}

// maxmemorySettings reads maxmemory and maxmemory-policy: redis-cli prints each name that matches and its
// value on lines of their own.
func maxmemorySettings(ctx context.Context, env *Env) (map[string]string, error) {
	out, err := redisCLI(ctx, env, "CONFIG", "GET", "maxmemory*")
	if err != nil {
		return nil, fmt.Errorf("redis CONFIG GET: %w", err)
	}
	lines := strings.Split(out, "\n")
	m := map[string]string{}
	for i := 0; i+1 < len(lines); i += 2 {
		m[strings.TrimSpace(lines[i])] = strings.TrimSpace(lines[i+1])
	}
	for _, k := range []string{"maxmemory", "maxmemory-policy"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("redis CONFIG GET: no %s in %q", k, out)
		}
	}
	return m, nil
}

func (f *RedisMemoryPressure) Inject(ctx context.Context, env *Env, _ Target) (Effect, error) {
	old, err := maxmemorySettings(ctx, env)
	if err != nil {
		return Effect{}, err
	}
	if err := configSet(ctx, env, "maxmemory-policy", f.Policy); err != nil {
		return Effect{}, err
	}
	if err := configSet(ctx, env, "maxmemory", f.MaxMemory); err != nil {
		_ = configSet(ctx, env, "maxmemory-policy", old["maxmemory-policy"])
		return Effect{}, err
	}
	return Effect{Mechanism: "redis CONFIG SET maxmemory " + f.MaxMemory + " " + f.Policy,
		Revert: func(ctx context.Context) error {
			if err := configSet(ctx, env, "maxmemory", old["maxmemory"]); err != nil {
				return fmt.Errorf("redis restore maxmemory: %w", err)
			}
			if err := configSet(ctx, env, "maxmemory-policy", old["maxmemory-policy"]); err != nil {
				return fmt.Errorf("redis restore maxmemory-policy: %w", err)
			}
			return nil
		}}, nil
}
