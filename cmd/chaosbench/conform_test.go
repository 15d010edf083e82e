package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/require"
)

// refAPIURL is the reference API in-process on a real redis-server, with concurrency set as given.
func refAPIURL(t *testing.T, concurrency target.ConcurrencyMode) string {
	return refapitest.Start(t, refapitest.WithConfig(func(c *target.Config) { c.Concurrency = concurrency })).URL
}

// conform's exit code is the suite's verdict: 0 conforming, 3 a required rule failed, 2 bad input, 1 the
// service could not be reached.
func TestConformCmd(t *testing.T) {
	good := refAPIURL(t, target.ConcurrencyETag)
	lww := refAPIURL(t, target.ConcurrencyNone)
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string
	}{
		// The reference API keeps the contract.
		{"conforming", []string{"conform", good, "--rules", "etag.,idempotency."}, exitOK, "CONFORMING"},
		// Last write wins breaks the ETag rules.
		{"not conforming", []string{"conform", lww, "--rules", "etag."}, exitFailed, "NOT CONFORMING: 2 required rule(s) failed"},
		// JUnit for CI.
		{"junit", []string{"conform", good, "--rules", "auth.", "--format", "junit"}, exitOK, `<testsuite name="chaosbench.conform"`},
		// Only this machine.
		{"not local", []string{"conform", "http://10.99.1.2:8080"}, exitBadInput, "not on this machine"},
		// A prefix that selects nothing would pass by checking nothing.
		{"unknown rules", []string{"conform", good, "--rules", "idem."}, exitBadInput, `names no rule`},
		{"no url", []string{"conform"}, exitBadInput, "takes the service's URL"},
		{"bad format", []string{"conform", good, "--format", "yaml"}, exitBadInput, "want one of json, junit, text"},
		// Nothing listens there.
		{"unreachable", []string{"conform", "http://127.0.0.1:1"}, exitError, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := execCLI(t, tc.args...)
			require.Equal(t, tc.want, exitCode(err), "%s %v", out, err)
			text := out
			if err != nil {
				text += err.Error()
			}
			require.True(t, strings.Contains(text, tc.out), "%q not in %s", tc.out, text)
		})
	}
}

// conform --stack checks the reference API in chaosbench's own stack with nothing skipped but the refresh
// rules: it knows the JWT secret, and stops and restarts Redis for the state-store rule. Its reference API
// runs as the stateless preset does, refresh tokens off, so those rules say so (skipped, never passed);
// conform's TestRefreshRules runs them on an API with refresh on. The stack is gone afterwards.
func TestConformStack(t *testing.T) {
	dockertest.Require(t)
	out, err := execCLI(t, "conform", "--stack", "--format", "json")
	require.NoError(t, err, out)
	var rep struct {
		Conforming bool `json:"conforming"`
		Results    []struct {
			Rule, Status, Detail string
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.True(t, rep.Conforming)
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Rule, "refresh.") {
			require.Equal(t, "skipped", r.Status, "%s: %s", r.Rule, r.Detail)
			require.Contains(t, r.Detail, "refresh tokens off")
			continue
		}
		require.Equal(t, "passed", r.Status, "%s: %s", r.Rule, r.Detail)
	}
	stacktest.RequireNoRuns(t, "conform-")
}
