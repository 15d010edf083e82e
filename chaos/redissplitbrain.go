package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-split-brain", Roles: []arch.Role{arch.RoleRedis}, RedisHA: true, Peers: func(p Params) []string { return p.List("with") },
		New: func(p Params) (Fault, error) {
			if err := p.check("with"); err != nil {
				return nil, err
			}
			with := p.List("with")
			for _, n := range with {
				if arch.RoleOf(n) != arch.RoleAPI {
					return nil, fmt.Errorf("parameter with=%q: %q is not an API node (api-N)", p["with"], n)
				}
			}
			return &RedisSplitBrain{With: with}, nil
		}})
}

// RedisSplitBrain partitions the Redis primary of the moment, together with the API nodes With, from the
// rest of a Redis HA stack (the replicas, the Sentinels and the other API nodes), both directions, while
// NGINX still reaches every API node. This is the split brain Redis' Sentinel documentation describes:
// clients keep sending to the minority's API nodes, which keep writing to the old primary, while the
// majority's Sentinels promote a replica and its API nodes follow it. On heal the old primary rejoins as a
// replica of the new one and drops what it acknowledged alone. min-replicas-to-write with
// min-replicas-max-lag bounds that loss: the isolated primary refuses writes once its replicas' last
// acknowledgement is older than the lag.
//
// Without With the primary is cut off alone: no client can write to it any more, and the fault is a
// failover that the old primary's rejoining cannot make lose anything (the control of the split brain).
//
// A fault of its own, not a mode of partition: it needs the Sentinels to say who is primary (RedisHA), it
// cuts several containers from several others, and its target is the primary, not an API node.
//
// The rules are DROP on INPUT and OUTPUT in the minority's network namespaces only (one sidecar each),
// which cuts both directions without touching the majority's; NGINX and this host are never cut.
type RedisSplitBrain struct {
	With []string // API nodes on the old primary's side; none: the primary alone
}

var _ Fault = (*RedisSplitBrain)(nil)

func (*RedisSplitBrain) Name() string { return "redis-split-brain" }

func (f *RedisSplitBrain) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if _, ha := env.oneOf(arch.RoleSentinel); !ha {
		return Effect{}, errors.New("redis-split-brain needs Redis Sentinels (architecture stateless-ha): this stack has one Redis")
	}
	name, err := env.Stack.CurrentPrimary(ctx)
	if err != nil {
		return Effect{}, fmt.Errorf("redis-split-brain: who is primary: %w", err)
	}
	primary, ok := env.named(name)
	if !ok {
		return Effect{}, fmt.Errorf("redis-split-brain: the Sentinels name %q as primary, which is no container of the stack", name)
	}
	minority := []arch.Container{primary}
	for _, n := range f.With {
		c, ok := env.named(n)
		if !ok || c.Role != arch.RoleAPI {
			return Effect{}, fmt.Errorf("redis-split-brain: with %s: no such API node in the stack", n)
		}
		minority = append(minority, c)
	}
	var majority []arch.Container
	for _, c := range env.Stack.Containers() {
		if c.Role != arch.RoleNginx && !slices.ContainsFunc(minority, func(m arch.Container) bool { return m.Name == c.Name }) {
			majority = append(majority, c)
		}
	}
	var rules []string
	for _, c := range majority {
		rules = append(rules, "INPUT -s "+c.IP.String()+" -j DROP", "OUTPUT -d "+c.IP.String()+" -j DROP")
	}
	mechanism := fmt.Sprintf("iptables drop {%s} <-> {%s} via sidecars (redis primary %s)", names(minority), names(majority), name)
	var reverts []func(context.Context) error
	revert := func(ctx context.Context) error {
		var errs []error
		for _, r := range reverts {
			errs = append(errs, r(ctx))
		}
		return errors.Join(errs...)
	}
	for _, m := range minority {
		eff, err := iptablesFault(ctx, env, Target{Spec: t.Spec, Container: m}, rules, mechanism)
		if err != nil {
			// Heal the members already cut: a half-made split must not stay behind.
			_ = revert(context.WithoutCancel(ctx))
			return Effect{}, fmt.Errorf("redis-split-brain: cut %s: %w", m.Name, err)
		}
		reverts = append(reverts, eff.Revert)
	}
	return Effect{Mechanism: mechanism, Revert: revert, Hit: name}, nil
}

// names joins containers' names.
func names(cs []arch.Container) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return strings.Join(out, ", ")
}
