package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/chaosbench/chaosbench/internal/redistest"
)

const ticketdeskScenario = "../../examples/ticketdesk/ticketdesk.yaml"

// startTicketdesk builds examples/ticketdesk (a main package) and runs it on a free loopback port with a real
// redis-server; it returns the service's base URL.
func startTicketdesk(t *testing.T, env ...string) string {
	t.Helper()
	rs := redistest.Start(t)
	bin := filepath.Join(t.TempDir(), "ticketdesk")
	build := exec.Command("go", "build", "-o", bin, "../../examples/ticketdesk")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	port, err := ports.Free()
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR="+addr, "REDIS_URL="+rs.URL(), "NODE_ID=td-1", "TICKETDESK_TRIAGE_DELAY=0s")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	return base
}

// TestTryTicketdesk runs `chaosbench try` on the example as a new user would, against the real service.
func TestTryTicketdesk(t *testing.T) {
	base := startTicketdesk(t)

	out, err := execCLI(t, "try", ticketdeskScenario, "--target", base)
	require.NoError(t, err, out)
	require.Equal(t, exitOK, exitCode(err))
	for _, step := range []string{"setup/register", "setup/login", "counter.bump/read", "counter.bump/write", "ticket.create/file"} {
		require.Contains(t, out, step, "every step is named")
	}
	require.Contains(t, out, "capture token=")
	require.Regexp(t, `capture name=[0-9a-f]+\.c[123]\n`, out, "counters named after the run")
	require.Contains(t, out, "expect held")
	require.Contains(t, out, "ok: 5 request(s)")

	// The same as JSON, for scripts.
	out, err = execCLI(t, "try", ticketdeskScenario, "--target", base, "--format", "json", "--seed", "7")
	require.NoError(t, err, out)
	var rep struct {
		Seed     uint64 `json:"seed"`
		Requests []struct {
			Step   string `json:"step"`
			Status int    `json:"status"`
			Expect string `json:"expect"`
		} `json:"requests"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.EqualValues(t, 7, rep.Seed)
	require.Len(t, rep.Requests, 5)
	require.Equal(t, 201, rep.Requests[len(rep.Requests)-1].Status)

	// A capture path that matches nothing: exit 3, the step, the path and the start of the body.
	raw, err := os.ReadFile(ticketdeskScenario)
	require.NoError(t, err)
	wrong := filepath.Join(t.TempDir(), "wrong.yaml")
	require.NoError(t, os.WriteFile(wrong, []byte(strings.Replace(string(raw), `"$.count"`, `"$.cnt"`, 1)), 0o644))
	out, err = execCLI(t, "try", wrong, "--target", base)
	require.Equal(t, exitFailed, exitCode(err), out)
	require.Contains(t, out, "capture n FAILED: json $.cnt matched nothing in counter.bump/read")
	require.Regexp(t, `body: \{"name":"[0-9a-f]+\.c[123]"`, out)
	require.Contains(t, out, "not run: counter.bump: 1 later step(s)")
}

func TestTryBadInputAndUnreachable(t *testing.T) {
	free, err := ports.Free()
	require.NoError(t, err)
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"try", ticketdeskScenario, "--target", "http://8.8.8.8:80"}, exitBadInput},                   // not on this machine
		{[]string{"try", ticketdeskScenario, "--format", "xml"}, exitBadInput},                                 // unknown format
		{[]string{"try", "kill-node"}, exitBadInput},                                                           // a built-in scenario declares nothing
		{[]string{"try", "missing.yaml"}, exitBadInput},                                                        // no such file
		{[]string{"try", ticketdeskScenario, "--target", fmt.Sprintf("http://127.0.0.1:%d", free)}, exitError}, // nothing listens
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, err := execCLI(t, c.args...)
			require.Equal(t, c.want, exitCode(err), "%s\n%v", out, err)
		})
	}
	out, err := execCLI(t, "validate", ticketdeskScenario)
	require.NoError(t, err)
	require.Contains(t, out, "2 declared op(s)")
}
