package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

// buildRefapi compiles the real binary: these tests exercise the process
// (exit codes, signals), not the package.
func buildRefapi(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "refapi")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func TestBadConfigurationExits2(t *testing.T) {
	bin := buildRefapi(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"JWT_SECRET=too-short", "SESSIONS=disk"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, stderr.String(), "JWT_SECRET: is 9 bytes; at least 32 are required")
	require.Contains(t, stderr.String(), `SESSIONS: "disk" is not redis or memory`)
}

// SIGTERM lets an in-flight request finish (a signup whose bcrypt hash takes
// a noticeable time at cost 14, about a second) and then exits 0.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	bin := buildRefapi(t)
	rs := redistest.Start(t)
	addr, err := ports.Addr()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--addr", addr, "--bcrypt-cost", "14")
	cmd.Env = append(os.Environ(), "REDIS_URL="+rs.URL(), "JWT_SECRET=0123456789abcdef0123456789abcdef", "NODE_ID=drain")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	require.Eventually(t, func() bool {
		r, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	}, 30*time.Second, 50*time.Millisecond)

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, err := http.Post("http://"+addr+"/v1/users", "application/json",
			strings.NewReader(`{"username":"slow","password":"password-slow"}`))
		if err != nil {
			done <- result{err: err}
			return
		}
		r.Body.Close()
		done <- result{code: r.StatusCode}
	}()
	time.Sleep(300 * time.Millisecond) // let the request reach the handler; the hash takes far longer
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	res := <-done
	require.NoError(t, res.err)
	require.Equal(t, http.StatusCreated, res.code, "the in-flight request completes during the drain")
	require.NoError(t, cmd.Wait(), "clean exit after draining; logs:\n%s", logs.String())
	require.Contains(t, logs.String(), `"msg":"draining"`)
}
