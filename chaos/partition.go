package chaos

import (
	"context"
	"fmt"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "partition", Roles: []arch.Role{arch.RoleAPI}, New: func(p Params) (Fault, error) {
		if err := p.check("from"); err != nil {
			return nil, err
		}
		from, err := p.String("from", "redis", "redis", "nginx")
		return &Partition{From: from}, err
	}})
}

// Partition cuts an API node off from Redis (with Sentinels: the primary of that moment) or from NGINX,
// both directions, by dropping every packet to and from the peer's address in the node's network
// namespace; healing deletes the rules. Packets are dropped, not rejected: the node waits on timeouts, as
// in a real partition.
type Partition struct {
	From string // redis or nginx
}

var _ Fault = (*Partition)(nil)

func (*Partition) Name() string { return "partition" }

func (f *Partition) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	peer, err := env.one(arch.Role(f.From))
	if err != nil {
		return Effect{}, err
	}
	if _, ha := env.oneOf(arch.RoleSentinel); ha && f.From == string(arch.RoleRedis) {
		// With Sentinels the node writes to whoever is primary now, which after a failover is not the
		// container named redis: cutting that one would cut a replica the node never talks to.
		name, err := env.Stack.CurrentPrimary(ctx)
		if err != nil {
			return Effect{}, fmt.Errorf("partition: who is primary: %w", err)
		}
		var ok bool
		if peer, ok = env.named(name); !ok {
			return Effect{}, fmt.Errorf("partition: the Sentinels name %q as primary, which is no container of the stack", name)
		}
	}
	rules := []string{"INPUT -s " + peer.IP.String() + " -j DROP", "OUTPUT -d " + peer.IP.String() + " -j DROP"}
	return iptablesFault(ctx, env, t, rules, fmt.Sprintf("iptables drop %s<->%s via sidecar", t.Name, peer.Name))
}
