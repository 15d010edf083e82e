package chaos

import (
	"context"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "restart", Roles: arch.Roles, New: func(p Params) (Fault, error) {
		if err := p.check("grace"); err != nil {
			return nil, err
		}
		g, err := p.Duration("grace", 10*time.Second)
		return &Restart{Grace: g}, err
	}})
}

// Restart stops the container gracefully (SIGTERM, then SIGKILL after Grace) and starts it at once. The
// fault lasts as long as the restart; Revert has nothing left to undo.
type Restart struct{ Grace time.Duration }

var _ Fault = (*Restart)(nil)

func (*Restart) Name() string { return "restart" }

func (f *Restart) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if err := env.Stack.Restart(ctx, t.Name, f.Grace); err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: "docker restart"}, nil
}
