package chaos

import (
	"context"
	"fmt"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-failover", Roles: []arch.Role{arch.RoleRedis}, New: func(p Params) (Fault, error) {
		if err := p.check("mode"); err != nil {
			return nil, err
		}
		mode, err := p.String("mode", "kill", "kill", "pause")
		return &RedisFailover{Mode: mode}, err
	}})
}

// RedisFailover takes away the Redis primary of the moment, whichever container that is, so that the
// Sentinels of a Redis HA stack (stateless-ha) promote a replica: kill (the primary is gone at once) or
// pause (it hangs; its clients see timeouts, and the Sentinels a primary that stopped answering). Revert
// starts or unpauses it, and the Sentinels make it a replica of the new primary.
//
// On a Redis Cluster it is the primary of the moment of slot 0 (the slots "redis" started with), and its
// replica takes over (the cluster's own failover). On a stack without either the primary is the one Redis, and the fault is redis-outage: the same
// scenario then measures one architecture's outage against the other's failover (the redis-failover
// scenario). The mechanism says which of the two happened.
type RedisFailover struct {
	Mode string // kill or pause
}

var _ Fault = (*RedisFailover)(nil)

func (*RedisFailover) Name() string { return "redis-failover" }

func (f *RedisFailover) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	primary, err := env.one(arch.RoleRedis)
	if err != nil {
		return Effect{}, err
	}
	what := "single redis (no Sentinels, no failover)"
	// Replicas mean a primary that can change: Sentinels' (stateless-ha) or a Redis Cluster's
	// (stateless-cluster, where CurrentPrimary is the primary of the slots "redis" started with).
	if _, ha := env.oneOf(arch.RoleReplica); ha {
		name, err := env.Stack.CurrentPrimary(ctx)
		if err != nil {
			return Effect{}, fmt.Errorf("redis-failover: who is primary: %w", err)
		}
		c, ok := env.named(name)
		if !ok {
			return Effect{}, fmt.Errorf("redis-failover: %q is named as primary, which is no container of the stack", name)
		}
		primary, what = c, "redis primary "+name
	}
	t = Target{Spec: t.Spec, Container: primary}
	var eff Effect
	if f.Mode == "pause" {
		eff, err = (&Pause{}).Inject(ctx, env, t)
	} else {
		eff, err = (&Kill{}).Inject(ctx, env, t)
	}
	eff.Mechanism, eff.Hit = what+": "+eff.Mechanism, primary.Name
	return eff, err
}

// oneOf reports whether the stack has a container of role r, and the first.
func (e *Env) oneOf(r arch.Role) (arch.Container, bool) {
	c, err := e.one(r)
	return c, err == nil
}

// named finds a container by name.
func (e *Env) named(name string) (arch.Container, bool) {
	for _, c := range e.Stack.Containers() {
		if c.Name == name {
			return c, true
		}
	}
	return arch.Container{}, false
}
