package results

import (
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHarnessSummary: the engine's send lag and stages reach the summary in milliseconds, in stage order
// with their names; a result without them (a run from before the engine measured them) has none.
func TestHarnessSummary(t *testing.T) {
	res, recs := synthetic(shape{faultAt: 10 * time.Second, faultEnd: 20 * time.Second, slow: 10 * time.Millisecond})
	a, err := Analyze(Input{Name: "x", Load: res, Records: recs})
	require.NoError(t, err)
	assert.Nil(t, a.Harness, "no send lag measured: no harness in the summary")

	h := load.Harness{SendLag: load.NewHistogram(), TraceEvery: 4, Traced: 2}
	// Under 2048 µs: exact at 3 significant digits.
	for _, us := range []int64{100, 200, 300, 1900} {
		require.NoError(t, h.SendLag.RecordValue(us))
	}
	for i := range h.Stages {
		h.Stages[i] = load.NewHistogram()
		require.NoError(t, h.Stages[i].RecordValue(int64(10*(i+1))))
		require.NoError(t, h.Stages[i].RecordValue(int64(20*(i+1))))
	}
	res.Harness = h
	a, err = Analyze(Input{Name: "x", Load: res, Records: recs})
	require.NoError(t, err)
	require.NotNil(t, a.Harness)
	assert.Equal(t, LagMS{Count: 4, P50: 0.2, P99: 1.9, Max: 1.9}, a.Harness.SendLag)
	assert.Equal(t, 4, a.Harness.TraceEvery)
	assert.EqualValues(t, 2, a.Harness.Traced)
	require.Len(t, a.Harness.Stages, int(load.NumStages))
	assert.Equal(t, StageMS{Stage: "wake", Span: "planned → dispatched", LagMS: LagMS{Count: 2, P50: 0.01, P99: 0.02, Max: 0.02}},
		a.Harness.Stages[0])
	assert.Equal(t, "read", a.Harness.Stages[4].Stage)
}
