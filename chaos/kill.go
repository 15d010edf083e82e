package chaos

import (
	"context"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "kill", Roles: arch.Roles, New: func(p Params) (Fault, error) { return &Kill{}, p.check() }})
}

// Kill sends SIGKILL to the target's container: no shutdown, in-flight requests die with it. Revert
// starts the container again (same address; memory sessions and unsaved Redis data are gone).
type Kill struct{}

var _ Fault = (*Kill)(nil)

func (*Kill) Name() string { return "kill" }

func (*Kill) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if err := env.Stack.Kill(ctx, t.Name); err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: "docker kill SIGKILL",
		Revert: func(ctx context.Context) error { return env.Stack.Start(ctx, t.Name) }}, nil
}
