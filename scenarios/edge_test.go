package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/target/arch"
)

func TestEdgeKnobs(t *testing.T) {
	tests := []struct {
		name string
		yaml string // the custom architecture's knobs
		want arch.Edge
	}{
		// No edge knob: the stack as it always was, nothing measured.
		{"none", "{name: c, base: stateless}", arch.Edge{}},
		// Naming a knob, even at its default, measures the edge: a plain architecture compared with a TLS one.
		{"defaults named", "{name: c, tls: false, client_keepalive: true, upstream_keepalive: true}", arch.Edge{Measure: true}},
		{"tls", "{name: c, tls: true}", arch.Edge{TLS: true, Measure: true}},
		// Keep-alive off on either side.
		{"no keep-alive", "{name: c, tls: true, client_keepalive: false, upstream_keepalive: false}",
			arch.Edge{TLS: true, NoClientKeepAlive: true, NoUpstreamKeepAlive: true, Measure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("edge.yaml", []byte("name: x\narchitectures: [c]\ncustom_architectures:\n  - "+tt.yaml+
				"\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
			require.NoError(t, err)
			require.Equal(t, tt.want, p.Architectures[0].Edge)
		})
	}
	// Every catalogue scenario but tls-keepalive leaves the edge alone.
	cat, err := Catalogue()
	require.NoError(t, err)
	for _, e := range cat {
		for _, a := range e.Plan.Architectures {
			if e.Name != "tls-keepalive" {
				require.True(t, a.Edge.Default(), "%s/%s", e.Name, a.Name)
			}
		}
	}
}
