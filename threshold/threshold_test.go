package threshold

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fake is a catalogue of a few metrics, so that the grammar is tested without results (whose tests
// parse against the real catalogue: results/thresholds_test.go, fault_metrics_test.go).
type fake struct{}

var fakeRun = map[string]Kind{"latency.p99": KindMS, "errors.rate": KindRatio, "writes.duplicates": KindCount, "recovery.seconds": KindSeconds}
var fakeFault = map[string]Kind{"latency.p99": KindMS, "errors.rate": KindRatio}

func (fake) Metric(n string) (Kind, bool) { k, ok := fakeRun[n]; return k, ok }
func (fake) Metrics() []string {
	return []string{"errors.rate", "latency.p99", "recovery.seconds", "writes.duplicates"}
}
func (fake) FaultMetric(n string) (Kind, bool) { k, ok := fakeFault[n]; return k, ok }
func (fake) FaultMetrics() []string            { return []string{"errors.rate", "latency.p99"} }

func withFake(t *testing.T) {
	catalogue.Lock()
	old := catalogue.c
	catalogue.c = fake{}
	catalogue.Unlock()
	t.Cleanup(func() { SetCatalogue(old) })
}

func TestParse(t *testing.T) {
	withFake(t)
	e, err := Parse(" latency.p99 < 0.3s")
	require.NoError(t, err)
	require.Equal(t, Expr{Source: "latency.p99 < 0.3s", Metric: Metric{Name: "latency.p99", Kind: KindMS}, Op: OpLT, Limit: 300}, e)

	e, err = Parse("faults[kill].errors.rate<5%")
	require.NoError(t, err)
	require.Equal(t, Metric{Name: "faults[kill].errors.rate", Kind: KindRatio, Window: "errors.rate"}, e.Metric)
	require.Equal(t, &FaultRef{Index: -1, Kind: "kill"}, e.Fault)
	require.InDelta(t, 0.05, e.Limit, 1e-12)

	e, err = Parse("recovery.seconds <= 1500ms")
	require.NoError(t, err)
	require.Equal(t, 1.5, e.Limit)
}

func TestParseErrors(t *testing.T) {
	withFake(t)
	for expr, want := range map[string]string{
		"latency.p98 < 1ms":                `threshold "latency.p98 < 1ms": column 1: unknown metric "latency.p98"; known: latency.p99`,
		"errors.rate < 5":                  `threshold "errors.rate < 5": column 15: errors.rate is a ratio 0..1: write 5% or 0.05`,
		"writes.duplicates =< 0":           `threshold "writes.duplicates =< 0": column 19: unknown operator "=<"; use < <= > >= == !=`,
		"faults[1].writes.duplicates == 0": `threshold "faults[1].writes.duplicates == 0": column 11: writes.duplicates is measured over the whole run, not per fault: write it without faults[1]; a fault's window has errors.rate, latency.p99`,
		"faults[1].p99 < 1s":               `threshold "faults[1].p99 < 1s": column 11: unknown metric "p99" of a fault's window: write faults[1].latency.p99; known: errors.rate, latency.p99`,
	} {
		_, err := Parse(expr)
		require.EqualError(t, err, want)
		var te *Error
		require.True(t, errors.As(err, &te))
	}
}

func TestFaultRefResolve(t *testing.T) {
	i, err := FaultRef{Index: -1, Kind: "pause"}.Resolve([]string{"kill", "pause"})
	require.NoError(t, err)
	require.Equal(t, 1, i)
	_, err = FaultRef{Index: -1, Kind: "kill"}.Resolve([]string{"kill", "kill"})
	require.EqualError(t, err, "faults[kill] is ambiguous: faults[0], faults[1] are all kill; name one by its index, e.g. faults[0]")
	_, err = FaultRef{Index: 2}.Resolve([]string{"kill"})
	require.EqualError(t, err, "faults[2]: the scenario has 1 fault, faults[0] to faults[0] (faults[0] kill)")
}

func TestNoCatalogue(t *testing.T) {
	catalogue.Lock()
	old := catalogue.c
	catalogue.c = nil
	catalogue.Unlock()
	t.Cleanup(func() { SetCatalogue(old) })
	require.PanicsWithValue(t, `threshold: no metric catalogue: the metrics are declared in results, which sets it; link it (import _ "github.com/chaosbench/chaosbench/results")`,
		func() { _, _ = Parse("latency.p99 < 1ms") })
}
