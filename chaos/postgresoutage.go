package chaos

import (
	"context"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "postgres-outage", Roles: []arch.Role{arch.RolePostgres}, Postgres: true,
		New: func(p Params) (Fault, error) {
			if err := p.check("mode", "grace"); err != nil {
				return nil, err
			}
			mode, err := p.String("mode", "stop", "stop", "kill")
			if err != nil {
				return nil, err
			}
			g, err := p.Duration("grace", 2*time.Second)
			return &PostgresOutage{Mode: mode, Grace: g}, err
		}})
}

// PostgresOutage takes the architecture's PostgreSQL away for the fault's window, then starts it again
// with its data: stop (docker stop: SIGTERM, a smart shutdown that refuses new connections and waits
// for the nodes' pooled sessions, then SIGKILL after Grace) or kill (SIGKILL at once). Either way what was
// committed survives: the server's directory is the container's own and fsync is on, so the restart
// recovers from its WAL. Whatever the target spec, it hits the stack's PostgreSQL.
type PostgresOutage struct {
	Mode  string // stop or kill
	Grace time.Duration
}

var _ Fault = (*PostgresOutage)(nil)

func (*PostgresOutage) Name() string { return "postgres-outage" }

func (f *PostgresOutage) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	pg, err := env.one(arch.RolePostgres)
	if err != nil {
		return Effect{}, err
	}
	t = Target{Spec: t.Spec, Container: pg}
	var eff Effect
	if f.Mode == "kill" {
		eff, err = (&Kill{}).Inject(ctx, env, t)
	} else {
		eff, err = (&Stop{Grace: f.Grace}).Inject(ctx, env, t)
	}
	eff.Mechanism = "postgres " + eff.Mechanism
	return eff, err
}
