package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/target/arch"
)

// withoutPostgres names an architecture of p that has no PostgreSQL ("" when every one has it): an
// attached service is one, since chaosbench knows no database of it.
func withoutPostgres(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	for _, a := range p.Architectures {
		if !a.UsesPostgres() {
			return "architecture " + a.Name
		}
	}
	return ""
}

// withoutStandby names an architecture of p that has PostgreSQL but no standby ("" when every one has
// one; withoutPostgres names those with no PostgreSQL at all).
func withoutStandby(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	for _, a := range p.Architectures {
		if a.UsesPostgres() && !a.HasPostgresStandby() {
			return "architecture " + a.Name
		}
	}
	return ""
}

// checkPostgresFault refuses a fault that needs PostgreSQL (postgres-outage) on a scenario with an
// architecture that keeps everything in Redis: it would have nothing to break there; and one that needs
// a standby (postgres-failover) on an architecture with one server: it would have nothing to promote.
func checkPostgresFault(v *positioner, field string, k chaos.Kind, p *Plan) {
	if !k.Postgres {
		return
	}
	if without := withoutPostgres(p); without != "" {
		v.add(field+".kind", "%s needs PostgreSQL: %s keeps its orders in Redis (use stateless-postgres, or store: postgres)",
			k.Name, without)
	} else if without := withoutStandby(p); k.PostgresStandby && without != "" {
		v.add(field+".kind", "%s needs a PostgreSQL standby to promote: %s has one server "+
			"(set postgres_standby: async or sync, or stack.postgres.standby)", k.Name, without)
	}
}

// checkPostgresTarget refuses the target postgres on a scenario with an architecture that has none, and
// postgres-2 on one without a standby.
func checkPostgresTarget(t string, p *Plan) error {
	switch t {
	case arch.PostgresName:
		if without := withoutPostgres(p); without != "" {
			return fmt.Errorf("postgres is the PostgreSQL server of a store: postgres architecture: %s has none (use stateless-postgres)", without)
		}
	case arch.PostgresStandbyName:
		without := withoutPostgres(p)
		if without == "" {
			without = withoutStandby(p)
		}
		if without != "" {
			return fmt.Errorf("postgres-2 is the PostgreSQL standby of an architecture with postgres_standby: %s has none", without)
		}
	}
	return nil
}

// validateStackPostgres applies stack.postgres.standby to every architecture that does not set its own
// postgres_standby, refusing it where there is no PostgreSQL to replicate.
func validateStackPostgres(v *positioner, f file, p *Plan) {
	mode := f.Stack.Postgres.Standby
	if mode == "" || p.Attach != nil {
		return
	}
	own := map[string]bool{}
	for _, c := range f.CustomArchitectures {
		own[c.Name] = c.PostgresStandby != ""
	}
	var said []string
	for i := range p.Architectures {
		a := &p.Architectures[i]
		if own[a.Name] {
			continue
		}
		a.PostgresStandby = mode
		if err := a.CheckStore(); err != nil {
			_, msg, _ := strings.Cut(err.Error(), " ") // the field names the knob
			if !slices.Contains(said, msg) {
				v.add("stack.postgres.standby", "%s", msg)
				said = append(said, msg)
			}
		}
	}
}
