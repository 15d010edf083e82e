package render

import (
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/stretchr/testify/require"
)

// TestStoresInReport: the knobs line says where each architecture kept its state, and the report's method
// says where ground truth was read, so that a PostgreSQL or Redis Cluster run is not told "from Redis".
func TestStoresInReport(t *testing.T) {
	knobs := func(name string) results.Knobs {
		a, err := arch.Preset(name)
		require.NoError(t, err)
		return results.KnobsOf(a, 3)
	}
	for _, tc := range []struct {
		name       string
		archs      []string
		knobs      string // in the first architecture's knobs line
		truth      string
		notInKnobs string
	}{
		// the plain stack: Redis alone
		{name: "redis", archs: []string{"stateless"}, truth: "straight from Redis", notInKnobs: "orders and resources in"},
		// orders and resources in PostgreSQL: the checker reads them there, sessions in Redis
		{name: "postgres", archs: []string{"stateless-postgres"}, knobs: "orders and resources in postgres (a pool of 30 per node)",
			truth: "straight from PostgreSQL (orders, resources) and Redis (sessions)"},
		// a Redis Cluster: every primary is read
		{name: "cluster", archs: []string{"stateless-cluster"}, knobs: "redis cluster of 3 primaries + 3 replicas",
			truth: "straight from every Redis Cluster primary"},
		// side by side: each source named once
		{name: "both", archs: []string{"stateless", "stateless-postgres", "stateless-ha"},
			truth: "straight from Redis; from PostgreSQL (orders, resources) and Redis (sessions)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s results.Summary
			for _, n := range tc.archs {
				s.Architectures = append(s.Architectures, results.Arch{Name: n, Knobs: knobs(n)})
			}
			text := knobsText(s.Architectures[0].Knobs)
			require.Contains(t, text, tc.knobs)
			if tc.notInKnobs != "" {
				require.NotContains(t, text, tc.notInKnobs)
			}
			require.Equal(t, tc.truth, truthSource(s))
		})
	}
}
