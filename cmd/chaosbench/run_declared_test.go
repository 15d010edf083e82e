package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runner"
)

// ticketdeskRun is examples/ticketdesk/ticketdesk.yaml pointed at base, scaled down to a few seconds at a low
// rate, with extra appended (thresholds).
func ticketdeskRun(t *testing.T, base, extra string) string {
	t.Helper()
	raw, err := os.ReadFile(ticketdeskScenario)
	require.NoError(t, err)
	y := strings.Replace(string(raw), "http://127.0.0.1:8080", base, 1)
	y = strings.Replace(y, "phases: [{duration: 30s, rate: 100/s}]", "phases: [{duration: 3s, rate: 40/s}]\nclients: 6\nseed: 7", 1)
	require.Contains(t, y, "duration: 3s")
	path := filepath.Join(t.TempDir(), "ticketdesk.yaml")
	require.NoError(t, os.WriteFile(path, []byte(y+extra), 0o644))
	return path
}

// TestRunTicketdesk runs the declared example under load with `chaosbench run`, against the real service at a
// URL alone (no Docker): every declared op is sent and measured without an error, every built-in check says
// "not checked" (never a measured 0), and a threshold on one fails as not measured, exit 3.
func TestRunTicketdesk(t *testing.T) {
	base := startTicketdesk(t)

	out := t.TempDir()
	res, err := execCLI(t, "run", ticketdeskRun(t, base, ""), "--out", out)
	require.NoError(t, err, res)
	require.Equal(t, exitOK, exitCode(err))
	require.Contains(t, res, "not checked")
	var s results.Summary
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &s))
	require.Equal(t, results.StatusPassed, s.Verdict)
	require.Len(t, s.Architectures, 1)
	a := s.Architectures[0]
	require.Empty(t, a.Error)
	require.True(t, a.Valid, a.InvalidReasons)
	require.Equal(t, base, a.Knobs.Attached)
	ops := map[string]results.OpStats{}
	for _, o := range a.Ops {
		ops[o.Name] = o
	}
	for _, name := range []string{"ticket.create", "counter.bump"} {
		require.Positive(t, ops[name].Requests, name)
		require.Zero(t, ops[name].Errors, name)
	}
	require.Zero(t, a.Requests.Failed)
	require.Len(t, a.Checks, len(results.Checks()))
	for name, c := range a.Checks {
		require.Equal(t, runner.NotCheckedDeclared, c.NotChecked, name)
	}

	// A threshold on a built-in check is not measured, and fails the run; one on what was measured holds.
	out = t.TempDir()
	res, err = execCLI(t, "run", ticketdeskRun(t, base, "thresholds:\n  all: [errors.rate < 0.01, writes.lost == 0]\n"), "--out", out)
	require.Equal(t, exitFailed, exitCode(err), "%s\n%v", res, err)
	raw, err = os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	s = results.Summary{}
	require.NoError(t, json.Unmarshal(raw, &s))
	th := s.Architectures[0].Thresholds
	require.Len(t, th, 2)
	require.True(t, th[0].OK, th[0])
	require.False(t, th[1].OK)
	require.True(t, th[1].Unmeasured)
	require.Contains(t, th[1].Detail, "declared ops")
}
