package results

import (
	"testing"

	"github.com/stretchr/testify/require"
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
