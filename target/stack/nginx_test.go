package stack

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
)

func TestNginxConfig(t *testing.T) {
	nodes := []upstream{{"api-1", "10.213.9.11:8080"}, {"api-2", "10.213.9.12:8080"}}
	tests := []struct {
		balancer arch.Balancer
		want     []string // lines that must appear
		absent   []string // lines that must not
	}{
		// nginx's default policy: no directive at all.
		{arch.RoundRobin, []string{"proxy_pass http://api;"}, []string{"least_conn", "hash ", "route_"}},
		{arch.LeastConn, []string{"least_conn;"}, []string{"hash "}},
		// A consistent hash of the session credential, never ip_hash (one Docker /24 = one node).
		// And a cookie session goes back to the node named in its id, the others only as backups.
		{arch.Sticky, []string{"hash $chaosbench_sticky consistent;", `map "$cookie_sid$http_authorization"`,
			`"~\.api-2$" route_api-2;`, "upstream route_api-2 {", "server 10.213.9.11:8080 max_fails=1 fail_timeout=10s backup; # api-1",
			"proxy_pass http://$chaosbench_pool;",
			// A login is placed by the load client's placement header (load.PlacementHeader) with split_clients,
			// which hashes the header alone: the same node per client in every run of a seed, whatever the
			// subnet; without a credential or the header, the hash of every node.
			"split_clients $http_" + strings.ReplaceAll(strings.ToLower(load.PlacementHeader), "-", "_") + " $chaosbench_placed {",
			"50.00% route_api-1;", "* route_api-2;", "default $chaosbench_credential_pool;", `""      $chaosbench_anonymous_pool;`},
			[]string{"ip_hash", "least_conn", "proxy_pass http://api;"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.balancer), func(t *testing.T) {
			b, err := nginxConfig(tt.balancer, nodes, 5*time.Second, 7)
			require.NoError(t, err)
			conf := string(b)
			common := []string{
				"server 10.213.9.11:8080 max_fails=1 fail_timeout=10s; # api-1", // literal IPs, passive health
				"keepalive 64;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`,
				"proxy_next_upstream error timeout http_502 http_504;", // never http_503: a Redis outage is not a node failure
				"location /_chaosbench/node/api-2/", "proxy_read_timeout 5000ms;", "proxy_connect_timeout 1000ms;",
				`return 200 "generation 7\n";`,
			}
			for _, w := range append(common, tt.want...) {
				require.Contains(t, conf, w)
			}
			// POST and PATCH must never be replayed after they were sent.
			for _, a := range append([]string{"non_idempotent"}, tt.absent...) {
				require.NotContains(t, conf, a)
			}
			require.Equal(t, strings.Count(conf, "{"), strings.Count(conf, "}"), "balanced braces")
		})
	}
}
