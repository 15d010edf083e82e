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

// runSummary reads the summary.json of the run in out.
func runSummary(t *testing.T, out string) results.Summary {
	t.Helper()
	var s results.Summary
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &s))
	require.Len(t, s.Architectures, 1)
	return s
}

// TestRunTicketdesk runs the declared example under load with `chaosbench run`, against the real service at a
// URL alone (no Docker): every declared op is sent and measured without an error, and the invariants are read
// back through its API (every client's tickets page by page, every counter): the correct build keeps them,
// each check measured and 0, and a threshold on one holds.
func TestRunTicketdesk(t *testing.T) {
	base := startTicketdesk(t)

	out := t.TempDir()
	res, err := execCLI(t, "run", ticketdeskRun(t, base, "thresholds:\n  all: [errors.rate < 0.01, writes.lost == 0, updates.lost == 0]\n"), "--out", out)
	require.NoError(t, err, res)
	require.Equal(t, exitOK, exitCode(err))
	require.Contains(t, res, "invariant tickets (set): ")
	s := runSummary(t, out)
	require.Equal(t, results.StatusPassed, s.Verdict)
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
	for name, c := range a.Checks {
		require.Empty(t, c.NotChecked, name)
	}
	// Every ticket filed was acknowledged (no fault, no error) and read back once; every increment too.
	require.Equal(t, int64(ops["ticket.create"].Requests), a.Count("writes.acknowledged"))
	require.Equal(t, int64(ops["counter.bump"].Requests), a.Count("updates.acknowledged"))
	for _, v := range []int64{a.Count("writes.duplicates"), a.Count("writes.lost"), a.Count("updates.lost"), a.Count("sessions.lost")} {
		require.Zero(t, v)
	}
	require.Zero(t, a.Checks["writes.unexpected"].Value)
	require.Equal(t, int64(6), a.Count("sessions.total"), "one session per client")
	for _, th := range a.Thresholds {
		require.True(t, th.OK, th)
	}
}

// TestRunTicketdeskFlawed shows the counter invariant catching the flawed build's last-write-wins, by
// mechanism: one hot counter, and 250 ms between each bump's read and its write. At 40/s with 40 in 100 ops
// a bump, about 16 bumps a second read the counter, so each bump's write lands after about 4 other bumps
// read the same value: the flawed build takes every write (it ignores If-Match), so most increments
// overwrite each other (measured 33 of 43 lost; 10 is asserted). The correct build refuses the stale
// writes (412), the op re-reads, and no acknowledged increment is lost under the very same load.
func TestRunTicketdeskFlawed(t *testing.T) {
	hot := func(path string) string {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		y := strings.Replace(string(raw), "{{pick c1 c2 c3}}", "hot", 1)
		y = strings.Replace(y, "      - name: write\n", "        think: 250ms\n      - name: write\n", 1)
		require.Contains(t, y, "think: 250ms")
		require.NoError(t, os.WriteFile(path, []byte(y), 0o644))
		return path
	}
	for _, mode := range []string{"flawed", "correct"} {
		t.Run(mode, func(t *testing.T) {
			base := startTicketdesk(t, "TICKETDESK_MODE="+mode)
			out := t.TempDir()
			res, err := execCLI(t, "run", hot(ticketdeskRun(t, base, "thresholds:\n  all: [updates.lost == 0]\n")), "--out", out)
			a := runSummary(t, out).Architectures[0]
			require.Empty(t, a.Error)
			require.Empty(t, a.Checks["updates.lost"].NotChecked)
			t.Logf("%s: checks %+v", mode, a.Checks)
			if mode == "flawed" {
				require.Equal(t, exitFailed, exitCode(err), res)
				require.GreaterOrEqual(t, a.Count("updates.lost"), int64(10), "last write wins over a stale read")
				return
			}
			require.Equal(t, exitOK, exitCode(err), res)
			require.Zero(t, a.Count("updates.lost"))
			require.Positive(t, a.Count("updates.acknowledged"))
		})
	}
}

// TestRunDeclaredWithoutInvariants: declared ops with no invariant and no session leave every check not
// checked (never a measured 0), and a threshold on one fails as not measured, exit 3.
func TestRunDeclaredWithoutInvariants(t *testing.T) {
	base := startTicketdesk(t)
	raw, err := os.ReadFile(ticketdeskRun(t, base, ""))
	require.NoError(t, err)
	y := string(raw)
	y = y[:strings.Index(y, "invariants:")] + y[strings.Index(y, "phases:"):]
	y = strings.ReplaceAll(y, "    record: {set: tickets}\n", "")
	y = strings.ReplaceAll(y, "    record: {counter: counters, key: \"{{name}}\"}\n", "")
	y = strings.Replace(y, "  session: {token: token, unknown: [401], lifetime: 15m}\n", "", 1)
	path := filepath.Join(t.TempDir(), "bare.yaml")
	require.NoError(t, os.WriteFile(path, []byte(y+"thresholds:\n  all: [errors.rate < 0.01, writes.lost == 0]\n"), 0o644))

	out := t.TempDir()
	res, err := execCLI(t, "run", path, "--out", out)
	require.Equal(t, exitFailed, exitCode(err), "%s\n%v", res, err)
	require.Contains(t, res, "not checked")
	a := runSummary(t, out).Architectures[0]
	require.Len(t, a.Checks, len(results.Checks()))
	for name, c := range a.Checks {
		require.Equal(t, runner.NotCheckedDeclared, c.NotChecked, name)
	}
	th := a.Thresholds
	require.Len(t, th, 2)
	require.True(t, th[0].OK, th[0])
	require.False(t, th[1].OK)
	require.True(t, th[1].Unmeasured)
	require.Contains(t, th[1].Detail, "without invariants")
}
