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
		// HTTP/2 over TLS: NGINX's listen option and the load's transport.
		{"http2", "{name: c, tls: true, http2: true}", arch.Edge{TLS: true, HTTP2: true, Measure: true}},
		// Named off, it still measures the edge, like the other knobs.
		{"http2 off", "{name: c, tls: true, http2: false}", arch.Edge{TLS: true, Measure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("edge.yaml", []byte("name: x\narchitectures: [c]\ncustom_architectures:\n  - "+tt.yaml+
				"\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
			require.NoError(t, err)
			require.Equal(t, tt.want, p.Architectures[0].Edge)
		})
	}
	// Every catalogue scenario but tls-keepalive and http2-edge leaves the edge alone.
	cat, err := Catalogue()
	require.NoError(t, err)
	for _, e := range cat {
		for _, a := range e.Plan.Architectures {
			if e.Name != "tls-keepalive" && e.Name != "http2-edge" {
				require.True(t, a.Edge.Default(), "%s/%s", e.Name, a.Name)
			}
		}
	}
}

// HTTP/2 where it cannot run is refused at its own knob, with file:line:col.
func TestHTTP2Refusals(t *testing.T) {
	tests := []struct {
		name string
		knob string // the custom architecture's knobs
		want []string
	}{
		// No cleartext h2c: HTTP/2 is negotiated in the TLS handshake.
		{"without tls", "{name: c, http2: true}", []string{"edge.yaml:4:", "custom_architectures[0].http2", "needs tls: true"}},
		// tls named false is no better than unset.
		{"tls off", "{name: c, tls: false, http2: true}", []string{"edge.yaml:4:", "custom_architectures[0].http2", "needs tls: true"}},
		// A connection per request: nothing to multiplex.
		{"no client keep-alive", "{name: c, tls: true, http2: true, client_keepalive: false}",
			[]string{"edge.yaml:4:", "custom_architectures[0].http2", "needs client_keepalive: true"}},
		// NGINX's listen option: refused on HAProxy like the other edge knobs.
		{"haproxy", "{name: c, balancer: haproxy, tls: true, http2: true}",
			[]string{"edge.yaml:4:", "custom_architectures[0].http2", "is NGINX's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("edge.yaml", []byte("name: x\narchitectures: [c]\ncustom_architectures:\n  - "+tt.knob+
				"\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}
