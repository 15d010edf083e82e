package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

func init() {
	Register(Kind{Name: "restart", Roles: anyRole, New: func(p Params) (Fault, error) {
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
	cctx, cancel := context.WithTimeout(ctx, dockerTimeout+f.Grace)
	defer cancel()
	secs := int(f.Grace / time.Second)
	if _, err := env.Docker().ContainerRestart(cctx, t.ID, client.ContainerRestartOptions{Timeout: &secs}); err != nil {
		return Effect{}, fmt.Errorf("restart %s: %w", t.Name, err)
	}
	return Effect{Mechanism: "docker restart"}, nil
}
