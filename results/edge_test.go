package results

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/target/arch"
)

// An edge count the runner could not read is not measured: a threshold on it fails, never passes at 0.
func TestEdgeMetricsNotMeasured(t *testing.T) {
	one, accepts := int64(0), int64(30)
	conns := 0.01
	for _, tc := range []struct {
		name string
		a    Arch
		expr string
		ok   bool
	}{
		// No edge stats at all (the scenario names no edge knob).
		{"no edge", Arch{}, "nginx.conns_per_request < 0.25", false},
		// Edge stats, but NGINX's status never answered: accepts and conns absent.
		{"status unread", Arch{Edge: &EdgeStats{LoadTimeWait: 3}}, "nginx.conns_per_request < 0.25", false},
		{"time wait unread", Arch{Edge: &EdgeStats{}}, "nginx.time_wait < 10", false},
		// Measured values are read as they are, zero included.
		{"measured", Arch{Edge: &EdgeStats{NginxAccepts: &accepts, NginxConnsPerRequest: &conns}}, "nginx.conns_per_request < 0.25", true},
		{"measured zero", Arch{Edge: &EdgeStats{NginxTimeWait: &one}}, "nginx.time_wait < 10", true},
		// The load's CPU: 0 means it was not read.
		{"cpu unread", Arch{}, "load.cpu_per_request < 1ms", false},
		{"cpu measured", Arch{LoadCPUMSPerRequest: 0.5}, "load.cpu_per_request < 1ms", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ParseThreshold(tc.expr)
			require.NoError(t, err)
			th := x.Eval(tc.a)
			require.Equal(t, tc.ok, th.OK, "%+v", th)
			if !tc.ok {
				require.True(t, th.Unmeasured, "%+v", th)
			}
		})
	}
}

// The protocol is a knob of the summary: "http2": true with HTTP/2 at the edge, absent otherwise (an
// additive field: a summary from before it reads as HTTP/1.1, which it was).
func TestKnobsHTTP2(t *testing.T) {
	base := arch.Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: arch.RoundRobin}
	for _, tc := range []struct {
		name string
		edge arch.Edge
		want string // in the JSON, or "" for absent
	}{
		// TLS 1.3 with HTTP/2.
		{"h2", arch.Edge{TLS: true, HTTP2: true, Measure: true}, `"http2":true`},
		// TLS 1.3 with HTTP/1.1: no http2 key.
		{"tls h1", arch.Edge{TLS: true, Measure: true}, ""},
		// The default edge: no edge key at all.
		{"default", arch.Edge{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.Edge = tc.edge
			b, err := json.Marshal(KnobsOf(a, 2))
			require.NoError(t, err)
			if tc.want == "" {
				require.NotContains(t, string(b), "http2")
			} else {
				require.Contains(t, string(b), tc.want)
			}
		})
	}
}
