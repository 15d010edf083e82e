package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/stretchr/testify/require"
)

func TestRunValidateListExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\nphases:\n  - {duration: 10s, rate: 0/s}\n"), 0o644))
	cases := []struct {
		args []string
		want int
	}{
		// Listing and validating built-ins needs no Docker.
		{[]string{"list"}, exitOK},
		{[]string{"validate", "kill-node", "compare-architectures"}, exitOK},
		// A bad file is bad input, reported before anything runs.
		{[]string{"validate", bad}, exitBadInput},
		{[]string{"run", bad}, exitBadInput},
		// Unknown scenario, architecture not in it, impossible scale.
		{[]string{"run", "no-such-scenario"}, exitBadInput},
		{[]string{"run", "kill-node", "--arch", "stateful"}, exitBadInput},
		{[]string{"run", "kill-node", "--scale", "0"}, exitBadInput},
		{[]string{"run"}, exitBadInput},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			require.Equal(t, tc.want, run(context.Background(), tc.args))
		})
	}
}

// TestRunSIGINT interrupts a real run while a fault is active: the binary
// must revert it, write what it measured and remove every container.
func TestRunSIGINT(t *testing.T) {
	dockertest.Require(t)
	bin := buildCLI(t)

	name := fmt.Sprintf("sigint-%d", os.Getpid())
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(`name: `+name+`
clients: 10
phases:
  - {duration: 60s, rate: 50/s}
faults:
  - {at: 3s, for: 50s, kind: packet-loss, target: api-1, params: {percent: 50}}
`), 0o644))
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", scenario, "--out", out)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		sweepRuns(t, name)
	})

	injected := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			t.Log(sc.Text())
			if !once && strings.Contains(sc.Text(), "chaos: packet-loss on api-1") {
				once = true
				close(injected)
			}
		}
	}()
	select {
	case <-injected:
	case <-time.After(90 * time.Second):
		t.Fatal("the fault was never injected")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("chaosbench run did not stop within 90s of SIGINT")
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, exitError, exit.ExitCode(), "an interrupted run is not a verdict")

	// What was measured is on disk.
	s, err := results.ReadSummary(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.Len(t, s.Architectures, 1)
	require.Positive(t, s.Architectures[0].Requests.Sent)
	require.Len(t, s.Architectures[0].Faults, 1)
	require.Positive(t, s.Architectures[0].Faults[0].EndS, "the fault was reverted and its end recorded")
	require.FileExists(t, filepath.Join(out, "report.html"))

	// Nothing labelled is left.
	cli, err := stack.NewDocker(context.Background())
	require.NoError(t, err)
	defer cli.Close()
	runs, err := stack.List(context.Background(), cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.False(t, strings.HasPrefix(r.RunID, name), "leftover run %s: %+v", r.RunID, r)
	}
}

// sweepRuns removes whatever a failed test left behind.
func sweepRuns(t *testing.T, prefix string) {
	cli, err := stack.NewDocker(context.Background())
	if err != nil {
		return
	}
	defer cli.Close()
	runs, _ := stack.List(context.Background(), cli)
	for _, r := range runs {
		if strings.HasPrefix(r.RunID, prefix) {
			_ = stack.Sweep(context.Background(), cli, r.RunID)
		}
	}
}
