package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/stack"
)

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"stack", "up", "--replicas", "0"}, exitBadInput},       // out of range
		{[]string{"stack", "up", "--arch", "serverless"}, exitBadInput},  // unknown preset
		{[]string{"stack", "up", "--balancer", "ip-hash"}, exitBadInput}, // unknown balancer
		{[]string{"stack", "up", "--no-such-flag"}, exitBadInput},        // cobra flag error
		{[]string{"no-such-command"}, exitBadInput},                      // cobra command error
		{[]string{"stack"}, exitBadInput},                                // a group needs a subcommand
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			require.Equal(t, tt.want, run(context.Background(), tt.args))
		})
	}
}

// TestStackUpSIGINT runs the real binary: `stack up` prints its addresses, serves, and leaves nothing
// labelled behind after a SIGINT.
func TestStackUpSIGINT(t *testing.T) {
	dockertest.Require(t)
	bin := buildCLI(t)

	runID := fmt.Sprintf("test-cli-%d", os.Getpid())
	cmd := exec.Command(bin, "stack", "up", "--run-id", runID, "--replicas", "2")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		cli, err := stack.NewDocker(context.Background())
		if err == nil {
			_ = stack.Sweep(context.Background(), cli, runID)
			_ = cli.Close()
		}
	})

	lines := map[string]string{}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(90*time.Second, func() { _ = cmd.Process.Kill() })
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		lines[k] = v
		if k == "node" {
			break // entry and redis come before the nodes
		}
	}
	deadline.Stop()
	require.True(t, strings.HasPrefix(lines["entry"], "http://127.0.0.1:"), "entry line: %v", lines)
	require.True(t, strings.HasPrefix(lines["redis"], "127.0.0.1:"), "redis line: %v", lines)
	resp, err := http.Get(lines["entry"] + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit 0 after Ctrl-C")
	case <-time.After(60 * time.Second):
		t.Fatal("stack up did not exit after SIGINT")
	}
	stacktest.RequireNoRuns(t, runID) // nothing labelled with the run is left
}

// buildCLI compiles the real binary, for tests of the process (signals, exit codes, output).
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chaosbench")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}
