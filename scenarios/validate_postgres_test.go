package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPostgresArchitectures(t *testing.T) {
	const phases = "phases:\n  - {duration: 30s, rate: 10/s}\n"
	bad := []struct {
		name, yaml string
		want       []string
	}{
		// postgres-outage on an architecture that keeps its orders in Redis has nothing to break.
		{"outage without postgres", "name: x\narchitectures: [stateless-postgres, stateless]\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: postgres-outage, target: postgres}\n",
			[]string{"bad.yaml:6:29:", "faults[0].kind", "postgres-outage needs PostgreSQL: architecture stateless keeps its orders in Redis"}},
		// A container-wide fault on the postgres container needs every architecture to have one.
		{"kill postgres without it", "name: x\n" + phases + "faults:\n  - {at: 5s, for: 5s, kind: kill, target: postgres}\n",
			[]string{"bad.yaml:5:", "faults[0].target", "architecture stateless has none (use stateless-postgres)"}},
		// The outage hits PostgreSQL, never another container.
		{"outage on redis", "name: x\narchitectures: [stateless-postgres]\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: postgres-outage, target: redis}\n",
			[]string{"faults[0].target", "postgres-outage cannot target redis (Redis): it targets postgres"}},
		// postgres-failover on an architecture with one PostgreSQL server has no standby to promote.
		{"failover without a standby", "name: x\narchitectures: [stateless-postgres]\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: postgres-failover, target: postgres}\n",
			[]string{"bad.yaml:6:29:", "faults[0].kind", "postgres-failover needs a PostgreSQL standby to promote: " +
				"architecture stateless-postgres has one server (set postgres_standby: async or sync, or stack.postgres.standby)"}},
		// One architecture with a standby is not enough: the other would run the fault on nothing.
		{"failover beside an architecture without one", "name: x\narchitectures: [s, stateless-postgres]\ncustom_architectures:\n" +
			"  - {name: s, base: stateless-postgres, postgres_standby: sync}\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: postgres-failover, target: postgres}\n",
			[]string{"faults[0].kind", "architecture stateless-postgres has one server"}},
		// Without PostgreSQL at all it says so first, as postgres-outage does.
		{"failover without postgres", "name: x\n" + phases + "faults:\n  - {at: 5s, for: 5s, kind: postgres-failover, target: postgres}\n",
			[]string{"faults[0].kind", "postgres-failover needs PostgreSQL: architecture stateless keeps its orders in Redis"}},
		// The failover hits the primary of the moment, named postgres; Redis is no target of it.
		{"failover on redis", "name: x\narchitectures: [stateless-postgres]\nstack: {postgres: {standby: async}}\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: postgres-failover, target: redis}\n",
			[]string{"faults[0].target", "postgres-failover cannot target redis (Redis): it targets postgres"}},
		// postgres-2 exists only with a standby: a kill aimed at it on a one-server architecture is refused.
		{"kill postgres-2 without a standby", "name: x\narchitectures: [stateless-postgres]\n" + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: kill, target: postgres-2}\n",
			[]string{"bad.yaml:6:", "faults[0].target", "postgres-2 is the PostgreSQL standby of an architecture with postgres_standby: architecture stateless-postgres has none"}},
		// A replication mode PostgreSQL does not have, at the custom architecture's field.
		{"unknown standby mode", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, base: stateless-postgres, postgres_standby: quorum}\n" + phases,
			[]string{"bad.yaml:4:", "custom_architectures[0].postgres_standby", `postgres_standby "quorum": want async or sync`}},
		// A standby of nothing: the architecture keeps its orders in Redis.
		{"stack standby without postgres", "name: x\narchitectures: [stateless]\nstack: {postgres: {standby: sync}}\n" + phases,
			[]string{"bad.yaml:3:", "stack.postgres.standby", "sync needs PostgreSQL: architecture stateless keeps its orders in Redis"}},
		// A user's image has no PostgreSQL of chaosbench's to replicate.
		{"standby on an image", "name: x\ntarget: {image: shop:dev}\narchitectures: [c]\ncustom_architectures:\n  - {name: c, postgres_standby: sync}\n" + phases,
			[]string{"custom_architectures[0].postgres_standby", "is a knob of the reference API"}},
		// A store the API does not have, named at its field.
		{"unknown store", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, store: mysql}\n" + phases,
			[]string{"bad.yaml:4:", "custom_architectures[0].store", `store "mysql": want redis or postgres`}},
		// A user's image keeps its own state.
		{"store on an image", "name: x\ntarget: {image: shop:dev}\narchitectures: [c]\ncustom_architectures:\n  - {name: c, store: postgres}\n" + phases,
			[]string{"custom_architectures[0].store", "is a knob of the reference API"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}

	// A custom architecture takes the store; the preset has it; the outage is accepted on both.
	p, err := Parse("ok.yaml", []byte("name: x\narchitectures: [stateless-postgres, c]\ncustom_architectures:\n"+
		"  - {name: c, base: stateful, store: postgres}\n"+phases+
		"faults:\n  - {at: 5s, for: 5s, kind: postgres-outage, target: postgres}\n"))
	require.NoError(t, err)
	for _, a := range p.Architectures {
		require.True(t, a.UsesPostgres(), a.Name)
	}

	// The failover is accepted where every architecture has a standby: stack.postgres.standby gives the
	// preset one, and a custom architecture's own postgres_standby wins over it.
	p, err = Parse("ok.yaml", []byte("name: x\narchitectures: [stateless-postgres, s]\ncustom_architectures:\n"+
		"  - {name: s, base: stateless-postgres, postgres_standby: sync}\nstack: {postgres: {standby: async}}\n"+phases+
		"faults:\n  - {at: 5s, for: 5s, kind: postgres-failover, target: postgres}\n"+
		"  - {at: 15s, for: 5s, kind: kill, target: postgres-2}\n"))
	require.NoError(t, err)
	require.Equal(t, "async", p.Architectures[0].PostgresStandby)
	require.Equal(t, "sync", p.Architectures[1].PostgresStandby)
}
