package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// maxClockSkew mirrors the reference API's bound (target.MaxClockOffset), so that validation refuses what
// the node would refuse at run time.
const maxClockSkew = 24 * time.Hour

func init() {
	Register(Kind{Name: "clock-skew", Roles: []arch.Role{arch.RoleAPI}, RefapiOnly: true, New: func(p Params) (Fault, error) {
		if err := p.check("offset"); err != nil {
			return nil, err
		}
		v, ok := p["offset"]
		if !ok || v == "" {
			return nil, fmt.Errorf("parameter offset is required (a duration like 30s, or -90s for a clock behind)")
		}
		// Params.Duration refuses negative durations; a clock behind is the other half of this fault.
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("parameter offset=%q: want a duration like 30s or -90s", v)
		}
		if d == 0 || d > maxClockSkew || d < -maxClockSkew {
			return nil, fmt.Errorf("parameter offset=%q: want a non-zero duration within ±%s", v, maxClockSkew)
		}
		return &ClockSkew{Offset: d}, nil
	}})
}

// ClockSkew moves one API node's clock by Offset, as the node's token and session checks read it: the
// drift of one machine among synchronised ones. It is not the system clock: a container shares the
// kernel's CLOCK_REALTIME (time namespaces do not cover it) and libfaketime does not reach Go, so the
// reference API adds the offset itself, set through its admin endpoint (docs/faults.md). Revert sets 0.
type ClockSkew struct {
	Offset time.Duration
}

var _ Fault = (*ClockSkew)(nil)

func (*ClockSkew) Name() string { return "clock-skew" }

func (f *ClockSkew) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	if err := env.Stack.SetClockOffset(ctx, t.Name, f.Offset); err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: "API clock offset " + f.Offset.String(),
		Revert: func(ctx context.Context) error { return env.Stack.SetClockOffset(ctx, t.Name, 0) }}, nil
}
