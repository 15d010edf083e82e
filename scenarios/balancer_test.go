package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/target/arch"
)

// haproxyHead is a scenario comparing NGINX (stateless) with HAProxy (custom architecture h, line 4).
const haproxyHead = "name: x\narchitectures: [stateless, h]\ncustom_architectures:\n" +
	"  - {name: h, base: stateless, balancer: haproxy"

// What needs NGINX is refused where an architecture runs HAProxy, naming file:line:col and the field.
func TestHAProxyRefusals(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		// TLS is NGINX's configuration: refused at the knob, on the architecture's line.
		{"tls", haproxyHead + ", tls: true}\nphases:\n  - {duration: 30s, rate: 10/s}\n",
			[]string{"bad.yaml:4:", "custom_architectures[0].tls", "is NGINX's", "balancer haproxy"}},
		// Naming a keep-alive knob measures the edge with NGINX's stub_status: refused even at its default.
		{"client keep-alive", haproxyHead + ", client_keepalive: true}\nphases:\n  - {duration: 30s, rate: 10/s}\n",
			[]string{"bad.yaml:4:", "custom_architectures[0].client_keepalive", "stub_status"}},
		{"upstream keep-alive", haproxyHead + ", upstream_keepalive: false}\nphases:\n  - {duration: 30s, rate: 10/s}\n",
			[]string{"bad.yaml:4:", "custom_architectures[0].upstream_keepalive", "is NGINX's"}},
		// A fault on the container named nginx: HAProxy's is named haproxy.
		{"kill nginx", haproxyHead + "}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: nginx}\n",
			[]string{"bad.yaml:8:", "faults[0].target", "architecture h runs HAProxy in NGINX's place"}},
		// The latency and response-loss faults reload NGINX with a route through their proxy.
		{"latency", haproxyHead + "}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: latency, target: api-1, params: {delay: 100ms}}\n",
			[]string{"bad.yaml:8:", "faults[0].kind", "latency sends a node's traffic through a proxy", "architecture h runs HAProxy"}},
		{"response-loss", haproxyHead + "}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: response-loss, target: api-2}\n",
			[]string{"bad.yaml:8:", "faults[0].kind", "response-loss sends a node's traffic"}},
		// A balancer that does not exist lists haproxy among the known ones.
		{"unknown balancer", "name: x\narchitectures: [h]\ncustom_architectures:\n  - {name: h, balancer: envoy}\nphases:\n  - {duration: 30s, rate: 10/s}\n",
			[]string{"bad.yaml:4:", "custom_architectures[0].balancer", "want round-robin, least-conn, sticky or haproxy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// The faults that act on containers work through HAProxy as through NGINX: on the API nodes, on Redis,
// and partition's from: nginx, which finds the balancer by its role.
func TestHAProxyAllowed(t *testing.T) {
	p, err := Parse("ok.yaml", []byte(haproxyHead+`}
phases:
  - {duration: 60s, rate: 10/s}
faults:
  - {at: 5s, for: 5s, kind: kill, target: any-api}
  - {at: 12s, for: 5s, kind: pause, target: api-2}
  - {at: 19s, for: 5s, kind: restart, target: api-3}
  - {at: 26s, for: 5s, kind: partition, target: api-1, params: {from: nginx}}
  - {at: 33s, for: 5s, kind: redis-outage, target: redis}
  - {at: 40s, for: 5s, kind: packet-loss, target: api-1, params: {percent: 10}}
`))
	require.NoError(t, err)
	require.Len(t, p.Faults, 6)
	require.Equal(t, arch.HAProxy, p.Architectures[1].Balancer)
	require.True(t, p.Architectures[1].Edge.Default())
}

// TestExtraRedisTargets: a fault may hit a Redis server or Sentinel that every architecture of the
// scenario runs: a Redis Cluster's nodes redis-2..redis-6, a Redis HA stack's replicas and Sentinels; a
// name one architecture lacks is refused naming it.
func TestExtraRedisTargets(t *testing.T) {
	parse := func(archs, target string) error {
		_, err := Parse("x.yaml", []byte("name: x\narchitectures: ["+archs+"]\nphases:\n  - {duration: 30s, rate: 10/s}\n"+
			"faults:\n  - {at: 5s, for: 5s, kind: kill, target: "+target+"}\n"))
		return err
	}
	cases := []struct {
		archs, target, want string // want "": accepted
	}{
		{"stateless-cluster", "redis-5", ""},                                               // a cluster node
		{"stateless-ha, stateless-cluster", "redis-2", ""},                                 // both run a redis-2
		{"stateless-ha, stateless-cluster", "redis-4", "architecture stateless-ha has no"}, // HA has two replicas
		{"stateless-cluster", "redis-7", `unknown target "redis-7"`},                       // six nodes in all
	}
	for _, c := range cases {
		err := parse(c.archs, c.target)
		if c.want == "" {
			require.NoError(t, err, "%s on %s", c.target, c.archs)
			continue
		}
		require.ErrorContains(t, err, c.want, "%s on %s", c.target, c.archs)
	}
}
