package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// HAProxy's configuration for two nodes and the default 5 s timeout is the golden file's, byte for byte:
// a change to the template shows in review as a change to the file (go test ./target/stack -run
// HAProxyConfig -update rewrites it).
func TestHAProxyConfigGolden(t *testing.T) {
	nodes := []upstream{{"api-1", "10.213.9.11:8080"}, {"api-2", "10.213.9.12:8080"}}
	got, err := haproxyConfig(nodes, 5*time.Second)
	require.NoError(t, err)
	path := filepath.Join("testdata", "haproxy.cfg.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "run: go test ./target/stack -run HAProxyConfig -update")

	// What the golden file must say, whatever else changes in it.
	for _, line := range []string{
		// The retry policy mirrors NGINX's: another node on a failed connection for every method, and on a
		// broken answer, a timeout, a 502 or a 504 for the idempotent ones only; never on a 503.
		"retries 2", "option redispatch 1", "retry-on conn-failure empty-response junk-response response-timeout 502 504",
		"http-request disable-l7-retry unless { method GET HEAD PUT DELETE OPTIONS TRACE }",
		// Active checks on liveness, not readiness (a Redis outage is not a node's failure).
		"http-check send meth GET uri /healthz", "default-server check inter 1000ms fastinter 500ms downinter 1000ms fall 2 rise 2",
		// NGINX's timeouts: connect a fifth of the per-try timeout (at least 1 s), read the per-try timeout.
		"timeout connect 1000ms", "timeout server 5000ms",
		// Literal addresses, and the harness routes readiness reads.
		"server api-2 10.213.9.12:8080", `string "generation 0" if { path /_chaosbench/nginx }`,
		"use_backend node_api-2 if { path_beg /_chaosbench/node/api-2/ }",
	} {
		require.Contains(t, string(got), line)
	}
	require.NotContains(t, string(got), " 503")
	// The per-node routes are not checked: a probe must reach the node itself, as through NGINX.
	_, nodeBackends, _ := strings.Cut(string(got), "\nbackend node_api-1")
	require.NotContains(t, nodeBackends, " check")
}

// HAProxy's CSV statistics: the api backend's servers by name, other proxies and the backend's own row
// left out, columns found by their header.
func TestParseHAProxyStats(t *testing.T) {
	csv := "# pxname,svname,qcur,econ,wredis,status,\n" +
		"entry,FRONTEND,0,,,OPEN,\n" +
		"api,api-1,0,0,0,UP,\n" +
		"api,api-2,0,3,3,DOWN,\n" +
		"api,BACKEND,0,3,3,UP,\n" +
		"node_api-1,api-1,0,0,0,no check,\n"
	got, err := parseHAProxyStats(strings.NewReader(csv))
	require.NoError(t, err)
	require.Equal(t, map[string]HAProxyServer{"api-1": {Status: "UP"}, "api-2": {Status: "DOWN", ConnErrors: 3, Redispatches: 3}}, got)
	// An answer that is not HAProxy's statistics says so.
	_, err = parseHAProxyStats(strings.NewReader("<html>502 Bad Gateway</html>\n"))
	require.ErrorContains(t, err, "no column")
}
