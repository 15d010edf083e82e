package chaos

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

func init() {
	Register(Kind{Name: "kill", Roles: anyRole, New: func(p Params) (Fault, error) { return &Kill{}, p.check() }})
}

// Kill sends SIGKILL to the target's container: no shutdown, in-flight requests die with it. Revert
// starts the container again (same address; memory sessions and unsaved Redis data are gone).
type Kill struct{}

var _ Fault = (*Kill)(nil)

func (*Kill) Name() string { return "kill" }

func (*Kill) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	cctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := env.Docker().ContainerKill(cctx, t.ID, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		return Effect{}, fmt.Errorf("kill %s: %w", t.Name, err)
	}
	return Effect{Mechanism: "docker kill SIGKILL",
		Revert: func(ctx context.Context) error { return startContainer(ctx, env, t.ID) }}, nil
}
