package results

import (
	"testing"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/stretchr/testify/require"
)

// TestErrorClassOfHeaderRefusals: the two refusals of a giant token are told apart in the errors by
// class, never dropped.
func TestErrorClassOfHeaderRefusals(t *testing.T) {
	cases := []struct {
		name string
		rec  load.Record
		want string
	}{
		// The API's own refusal: its JSON code.
		{"api 431", load.Record{Class: load.Class4xx, Status: 431, Code: "headers_too_large"}, "headers_too_large"},
		// NGINX's "400 Request Header Or Cookie Too Large" is HTML: no code, so its status names it.
		{"nginx 400", load.Record{Class: load.Class4xx, Status: 400}, "http_400"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.rec.ErrorKind(), tc.name)
	}
}

// TestOpsRequestBytes: the engine's request bytes become bytes per request and per attempt, the
// reports show them (render/tokens_test.go).
func TestOpsRequestBytes(t *testing.T) {
	res, recs := syntheticRun(0, 0, func(int, *load.Record) {})
	res.Stats = []load.OpStats{
		{Op: "profile.read", Phase: "warm", Count: 100, Attempts: 100, ReqBytes: 100 * 20_600},
		{Op: "profile.read", Phase: "load", Count: 900, Retries: 100, Attempts: 1000, ReqBytes: 1000 * 20_600},
	}
	a, err := Analyze(Input{Name: "pad-20k", Load: res, Records: recs,
		Knobs: KnobsOf(arch.Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: arch.RoundRobin, TokenPad: 20 << 10}, 2)})
	require.NoError(t, err)
	require.Len(t, a.Ops, 1)
	require.Equal(t, 22660.0, a.Ops[0].ReqBytesPerRequest, "1100 attempts' bytes over 1000 requests")
	require.Equal(t, 20600.0, a.Ops[0].ReqBytesPerAttempt)
	require.Equal(t, 20<<10, a.Knobs.TokenPadBytes)
	// The reports show them: render/tokens_test.go.
}

// TestHeadersTooLargeMetric: the threshold metric counts the service's 431s (by code, or by status from
// a service without codes), not NGINX's HTML 400s.
func TestHeadersTooLargeMetric(t *testing.T) {
	m, ok := LookupMetric("errors.headers_too_large")
	require.True(t, ok)
	a := Arch{Requests: Requests{Sent: 200}, Errors: map[string]int64{"headers_too_large": 50, "http_431": 10, "http_400": 100}}
	require.InDelta(t, 0.3, m.Value(a), 1e-9)
	require.Zero(t, m.Value(Arch{}), "nothing sent: no share")
}
