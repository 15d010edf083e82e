package chaos

import (
	"context"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "stop", Roles: arch.Roles, New: func(p Params) (Fault, error) {
		if err := p.check("grace"); err != nil {
			return nil, err
		}
		g, err := p.Duration("grace", 10*time.Second)
		return &Stop{Grace: g}, err
	}})
}

// Stop sends SIGTERM and gives the process Grace to drain before SIGKILL: a graceful shutdown, as in a
// rolling deploy. Revert starts the container again.
type Stop struct{ Grace time.Duration }

var _ Fault = (*Stop)(nil)

func (*Stop) Name() string { return "stop" }

func (f *Stop) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if err := env.Stack.Stop(ctx, t.Name, f.Grace); err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: "docker stop SIGTERM",
		Revert: func(ctx context.Context) error { return env.Stack.Start(ctx, t.Name) }}, nil
}
