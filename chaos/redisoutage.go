package chaos

import (
	"context"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-outage", Roles: []arch.Role{arch.RoleRedis}, New: func(p Params) (Fault, error) {
		if err := p.check("mode"); err != nil {
			return nil, err
		}
		mode, err := p.String("mode", "kill", "kill", "pause")
		return &RedisOutage{Mode: mode}, err
	}})
}

// RedisOutage takes Redis away: kill (connections refused or reset; with persistence none its data is
// lost on restart) or pause (connections hang: clients see timeouts). Whatever the target spec, it hits
// the stack's Redis.
type RedisOutage struct {
	Mode string // kill or pause
}

var _ Fault = (*RedisOutage)(nil)

func (*RedisOutage) Name() string { return "redis-outage" }

func (f *RedisOutage) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	redis, err := env.one(arch.RoleRedis)
	if err != nil {
		return Effect{}, err
	}
	t = Target{Spec: t.Spec, Container: redis}
	var eff Effect
	if f.Mode == "pause" {
		eff, err = (&Pause{}).Inject(ctx, env, t)
	} else {
		eff, err = (&Kill{}).Inject(ctx, env, t)
	}
	eff.Mechanism = "redis " + eff.Mechanism
	return eff, err
}
