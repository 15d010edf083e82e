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
}
