package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestListSaysWhatFaultsNeed: a fault that validation refuses on some stacks says which in list's NEEDS
// column, so a user learns it before writing the scenario, not from the error after.
func TestListSaysWhatFaultsNeed(t *testing.T) {
	out, err := execCLI(t, "list")
	require.NoError(t, err)
	for _, want := range []string{
		`(?m)^redis-split-brain\s.*Redis Sentinels \(stateless-ha\)$`,
		`(?m)^clock-skew\s.*the reference API`,
		`(?m)^latency\s.*chaosbench's own NGINX`,
		`(?m)^redis-link\s+API nodes \(any-api, api-N\) or redis\s+redis \(attached: a redis service in target.compose\)$`,
		`(?m)^kill\s.*sentinel-N on stateless-ha.*\s-$`,
		`(?m)^postgres-outage\s+postgres \(on stateless-postgres\)\s+PostgreSQL \(store: postgres, stateless-postgres\)$`,
		`(?m)^stateless-postgres\s.*\spostgres$`,
		`(?m)^postgres-failover\s+postgres \(on stateless-postgres\)\s+a PostgreSQL standby \(postgres_standby: async or sync\)$`,
	} {
		require.Regexp(t, regexp.MustCompile(want), out)
	}
}

// TestListNamesFaultWindowMetrics: list says how a threshold reads one fault's window, with every metric it can.
func TestListNamesFaultWindowMetrics(t *testing.T) {
	out, err := execCLI(t, "list")
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`(?m)^ONE FAULT'S WINDOW\s+faults\[INDEX\]\.METRIC \(0-based\) or faults\[KIND\]\.METRIC .*errors\.rate.*latency\.p99.*requests\.sent$`), out)
}
