package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

func init() {
	Register(Kind{Name: "stop", Roles: anyRole, New: func(p Params) (Fault, error) {
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
	cctx, cancel := context.WithTimeout(ctx, dockerTimeout+f.Grace)
	defer cancel()
	secs := int(f.Grace / time.Second)
	if _, err := env.Docker().ContainerStop(cctx, t.ID, client.ContainerStopOptions{Signal: "SIGTERM", Timeout: &secs}); err != nil {
		return Effect{}, fmt.Errorf("stop %s: %w", t.Name, err)
	}
	return Effect{Mechanism: "docker stop SIGTERM",
		Revert: func(ctx context.Context) error { return startContainer(ctx, env, t.ID) }}, nil
}
