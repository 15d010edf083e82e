package render

import (
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// TestOpsRequestBytes: the ops rows show the request bytes the analysis found (results' TestOpsRequestBytes),
// the knobs line the token padding, and a summary without them keeps its table as it was.
func TestOpsRequestBytes(t *testing.T) {
	a := results.Arch{Name: "pad-20k", Valid: true, Knobs: results.Knobs{TokenPadBytes: 20 << 10},
		Ops: []results.OpStats{{Name: "profile.read", Requests: 1000, ReqBytesPerRequest: 22660, ReqBytesPerAttempt: 20600}}}
	require.Contains(t, knobsText(a.Knobs), "token padded to 20480 bytes")

	txt := string(render(t, TextReporter{}, results.Summary{Architectures: []results.Arch{a}}))
	require.Contains(t, txt, "requests · p99 · errors · bytes/request")
	require.Contains(t, txt, "22.1 KiB")

	a.Ops[0].ReqBytesPerRequest, a.Ops[0].ReqBytesPerAttempt = 0, 0
	txt = string(render(t, TextReporter{}, results.Summary{Architectures: []results.Arch{a}}))
	require.NotContains(t, txt, "bytes/request", "an older summary: no bytes column")
}
