package chaos

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

func init() {
	Register(Kind{Name: "pause", Roles: anyRole, New: func(p Params) (Fault, error) { return &Pause{}, p.check() }})
}

// Pause freezes every process of the container (cgroup freezer): connections are still accepted by the
// kernel but nothing answers, the stall a long GC pause or an overloaded host gives. Revert unpauses.
type Pause struct{}

var _ Fault = (*Pause)(nil)

func (*Pause) Name() string { return "pause" }

func (*Pause) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	return pause(ctx, env, t)
}

func pause(ctx context.Context, env *Env, t Target) (Effect, error) {
	cctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := env.Docker().ContainerPause(cctx, t.ID, client.ContainerPauseOptions{}); err != nil {
		return Effect{}, fmt.Errorf("pause %s: %w", t.Name, err)
	}
	return Effect{Mechanism: "docker pause (cgroup freezer)", Revert: func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
		defer cancel()
		if _, err := env.Docker().ContainerUnpause(ctx, t.ID, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("unpause %s: %w", t.Name, err)
		}
		return nil
	}}, nil
}
