package chaos

import (
	"context"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "pause", Roles: arch.Roles, New: func(p Params) (Fault, error) { return &Pause{}, p.check() }})
}

// Pause freezes every process of the container (cgroup freezer): connections are still accepted by the
// kernel but nothing answers, the stall a long GC pause or an overloaded host gives. Revert unpauses.
type Pause struct{}

var _ Fault = (*Pause)(nil)

func (*Pause) Name() string { return "pause" }

func (*Pause) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if err := env.Stack.Pause(ctx, t.Name); err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: "docker pause (cgroup freezer)",
		Revert: func(ctx context.Context) error { return env.Stack.Unpause(ctx, t.Name) }}, nil
}
