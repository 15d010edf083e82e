package chaos

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	// Every fault of the issue is registered under its scenario name.
	require.Equal(t, []string{"kill", "latency", "packet-loss", "partition", "pause", "redis-memory-pressure",
		"redis-outage", "restart", "stop"}, Names())

	r := &Registry{}
	r.Register("x", func(Params) (Fault, error) { return &Kill{}, nil })
	require.Panics(t, func() { r.Register("x", func(Params) (Fault, error) { return &Kill{}, nil }) },
		"a duplicate name is refused loudly")
	_, err := r.New("y", nil)
	require.ErrorContains(t, err, `unknown fault "y"`)
}

func TestFaultParams(t *testing.T) {
	tests := []struct {
		fault  string
		params Params
		ok     bool
	}{
		{"packet-loss", Params{"percent": "30"}, true},
		{"packet-loss", Params{"percent": "30%"}, true},    // a percent sign is fine
		{"packet-loss", Params{"percent": "0"}, false},     // nothing to drop
		{"packet-loss", Params{"percent": "101"}, false},   // over 100
		{"packet-loss", Params{"percentage": "30"}, false}, // typo: unknown parameter
		{"latency", Params{"delay": "200ms", "jitter": "50ms"}, true},
		{"latency", Params{"delay": "0s"}, false},   // no delay is no fault
		{"latency", Params{"delay": "fast"}, false}, // not a duration
		{"partition", Params{"from": "nginx"}, true},
		{"partition", Params{"from": "postgres"}, false}, // no such peer
		{"redis-outage", Params{"mode": "pause"}, true},
		{"redis-outage", Params{"mode": "drop"}, false}, // kill or pause only
		{"redis-memory-pressure", Params{"maxmemory": "1mb", "policy": "allkeys-lfu"}, true},
		{"redis-memory-pressure", Params{"policy": "lru"}, false}, // not a Redis policy
		{"stop", Params{"grace": "2s"}, true},
		{"kill", Params{"signal": "TERM"}, false}, // kill takes no parameter
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			_, err := New(tt.fault, tt.params)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
