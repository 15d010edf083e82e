package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/stretchr/testify/require"
)

// refused is a fault that the target refuses at injection, as a Docker error
// or a failing sidecar would: registered from test code, like any fault.
type refused struct{}

func (refused) Name() string { return "test-refused" }
func (refused) Inject(context.Context, *chaos.Env, chaos.Target) (chaos.Effect, error) {
	return chaos.Effect{}, errors.New("refused by the test")
}

func init() {
	chaos.Register(chaos.Kind{Name: "test-refused", Roles: []arch.Role{arch.RoleAPI},
		New: func(chaos.Params) (chaos.Fault, error) { return refused{}, nil }})
}

// TestFaultThatFailsIsAccounted runs a real stack with a fault that fails at
// injection. Before, the run log said so and moved on, and the run passed
// with "recovery 0.0 s"; now the fault is in the summary with its error, the
// architecture is invalid, and recovery.seconds is not measured.
func TestFaultThatFailsIsAccounted(t *testing.T) {
	dockertest.RequireLoad(t)
	plan, err := scenarios.Parse("refused.yaml", []byte(`name: refused
seed: 0
clients: 10
phases: [{duration: 8s, rate: 50/s}]
faults:
  - {at: 3s, for: 2s, kind: test-refused, target: api-1}
thresholds: {all: [recovery.seconds < 5, errors.rate < 1%]}
`))
	require.NoError(t, err)
	require.True(t, plan.SeedSet)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := Run(ctx, specOf(t, plan, scenarios.Ask{}), WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
	require.NoError(t, err, "a fault that failed is a verdict, not a run error")
	require.Equal(t, int64(0), out.Summary.Seed, "seed 0 is a real seed, recorded as such")
	require.Len(t, out.Summary.Architectures, 1)
	a := out.Summary.Architectures[0]
	require.Len(t, a.Faults, 1)
	f := a.Faults[0]
	require.Contains(t, f.Error, "refused by the test")
	require.Nil(t, f.RecoveryS)
	require.False(t, a.Valid)
	require.Contains(t, a.InvalidReasons, "fault test-refused on api-1 did not run as planned: "+f.Error)
	th := a.Thresholds[0]
	require.Equal(t, "recovery.seconds < 5", th.Expr)
	require.False(t, th.OK)
	require.True(t, th.Unmeasured)
	require.Equal(t, results.StatusInvalid, out.Summary.Verdict)
	require.False(t, out.Summary.Passed)
}

// specOf is plan as a command asking ask would run it (scenarios.Plan.Spec).
func specOf(t *testing.T, plan scenarios.Plan, ask scenarios.Ask) scenarios.RunSpec {
	t.Helper()
	spec, err := plan.Spec(ask)
	require.NoError(t, err)
	return spec
}
