package pgtruth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
)

// A run of stateless-postgres with a node killed under load: every check reads its ground truth from
// PostgreSQL's tables, measures something (none "not checked"), and the black-box checker, which reads the
// same orders and resources through the API's contract, agrees with it on every count.
const crossCheck = `name: pg-cross-check
seed: 3
architectures: [stateless-postgres]
clients: 20
phases:
  - {duration: 16s, rate: 100/s}
faults:
  - {at: 5s, for: 4s, kind: kill, target: api-2}
`

func TestRunReadsPostgresAndAgreesWithTheAPI(t *testing.T) {
	dockertest.Require(t)
	plan, err := scenarios.Parse("pg-cross-check.yaml", []byte(crossCheck))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec, err := plan.Spec(scenarios.Ask{})
	require.NoError(t, err)
	out, err := runner.Run(ctx, spec, runner.WithOutDir(t.TempDir()), runner.WithLog(tlog{t}, false), runner.WithCrossCheck())
	require.NoError(t, err)
	require.Len(t, out.Summary.Architectures, 1)
	a := out.Summary.Architectures[0]
	require.Empty(t, a.Error)
	require.True(t, a.Valid, "%v", a.InvalidReasons)
	require.Positive(t, a.Count("writes.acknowledged"), "orders were stored in PostgreSQL and counted there")
	require.NotEmpty(t, a.Checks)
	for check, r := range a.Checks {
		require.Empty(t, r.NotChecked, check)
		bb := a.BlackBox[check]
		require.Empty(t, bb.NotChecked, "black box %s", check)
		require.Equal(t, r.Value, bb.Value, "%s from PostgreSQL and through the API", check)
	}
	require.Zero(t, a.Count("writes.duplicates"))
	require.Zero(t, a.Count("writes.lost"))
}

type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
