package scenarios

import (
	"fmt"

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

// checkPostgresFault refuses a fault that needs PostgreSQL (postgres-outage) on a scenario with an
// architecture that keeps everything in Redis: it would have nothing to break there.
func checkPostgresFault(v *positioner, field string, k chaos.Kind, p *Plan) {
	if !k.Postgres {
		return
	}
	if without := withoutPostgres(p); without != "" {
		v.add(field+".kind", "%s needs PostgreSQL: %s keeps its orders in Redis (use stateless-postgres, or store: postgres)",
			k.Name, without)
	}
}

// checkPostgresTarget refuses the target postgres on a scenario with an architecture that has none.
func checkPostgresTarget(t string, p *Plan) error {
	if t != arch.PostgresName {
		return nil
	}
	if without := withoutPostgres(p); without != "" {
		return fmt.Errorf("postgres is the PostgreSQL server of a store: postgres architecture: %s has none (use stateless-postgres)", without)
	}
	return nil
}
