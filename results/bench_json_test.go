package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenchJSONGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteBenchJSON(&b, []Summary{fixtureSummary()}))
	golden(t, "bench.json", b.Bytes())
	// The format github-action-benchmark reads: an array of {name, unit, value[, extra]}, names unique.
	var got []map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	names := map[string]bool{}
	for _, e := range got {
		for k := range e {
			require.Contains(t, []string{"name", "unit", "value", "extra"}, k)
		}
		require.IsType(t, float64(0), e["value"])
		require.False(t, names[e["name"].(string)], "name twice: %s", e["name"])
		names[e["name"].(string)] = true
	}
}

func benchByName(runs ...Summary) map[string]BenchEntry {
	out := map[string]BenchEntry{}
	for _, e := range Bench(runs) {
		out[e.Name] = e
	}
	return out
}

// TestBenchMeasuredOnly: what was not measured is absent and named, never 0.
func TestBenchMeasuredOnly(t *testing.T) {
	s := fixtureSummary()
	const p = "compare-architectures/"
	got := benchByName(s)

	// stateless: everything measured, in the units the format shows
	require.Equal(t, BenchEntry{Name: p + "stateless latency.p99", Unit: "ms", Value: 28.8}, got[p+"stateless latency.p99"])
	require.InDelta(t, s.Architectures[0].ErrorRate*100, got[p+"stateless errors.rate"].Value, 1e-9)
	require.Equal(t, "%", got[p+"stateless errors.rate"].Unit)
	require.Equal(t, 2.0, got[p+"stateless recovery.seconds[kill any-api 20-30s]"].Value)
	require.Contains(t, got, p+"stateless writes.lost")
	require.Equal(t, "seed 42, scale 1, 12000 requests sent", got[p+"stateless latency.p50"].Extra)

	// stateful never recovered from the packet loss: no number for it (∞ is not one), and its first entry says so
	require.NotContains(t, got, p+"stateful recovery.seconds[packet-loss any-api 40-50s]")
	require.Contains(t, got, p+"stateful recovery.seconds[kill any-api 20-30s]")
	require.Contains(t, got[p+"stateful latency.p50"].Extra, "not measured: recovery.seconds[packet-loss any-api 40-50s] (not recovered)")

	// stateless-no-idempotency's duplicates are a measured count
	require.Equal(t, 12.0, got[p+"stateless-no-idempotency writes.duplicates"].Value)

	// a check the ground truth could not answer is absent, not 0
	s.Architectures[0].Checks["writes.lost"] = CheckResult{NotChecked: "the service cannot list orders"}
	got = benchByName(s)
	require.NotContains(t, got, p+"stateless writes.lost")
	require.Contains(t, got[p+"stateless latency.p50"].Extra, "writes.lost (not checked: the service cannot list orders)")

	// an invalid or errored architecture has no numbers at all
	s.Architectures[1].Valid = false
	s.Architectures[2].Error = "interrupted"
	for name := range benchByName(s) {
		require.True(t, strings.HasPrefix(name, p+"stateless "), name)
	}
}

// One entry list over several scenarios; identical names are told apart.
func TestBenchRuns(t *testing.T) {
	a := fixtureSummary()
	a.Architectures = a.Architectures[:1]
	a.Architectures[0].Faults = append(a.Architectures[0].Faults, a.Architectures[0].Faults[0])
	b := a
	b.Scenario = "kill-node"
	got := benchByName(a, b)
	require.Contains(t, got, "kill-node/stateless latency.p99")
	require.Contains(t, got, "compare-architectures/stateless latency.p99")
	require.Contains(t, got, "kill-node/stateless recovery.seconds[kill any-api 20-30s] #2")
	require.Empty(t, Bench(nil))
	var buf bytes.Buffer
	require.NoError(t, WriteBenchJSON(&buf, nil))
	require.Equal(t, "[]\n", buf.String(), "an empty array, not null")
}
