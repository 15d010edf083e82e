package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/results"
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

// TestRunSuiteBadInput: a suite's every entry is checked before anything runs, and bad input exits 2
// with the file, line and field (none of these cases needs Docker: they stop before the first container).
func TestRunSuiteBadInput(t *testing.T) {
	dir := t.TempDir()
	badSuite := filepath.Join(dir, "bad.suite.yaml")
	require.NoError(t, os.WriteFile(badSuite, []byte("name: nightly\nscenarios:\n  - kill-node\n  - {scenario: kill-node, arch: [stateful]}\n"), 0o644))
	nested := filepath.Join(dir, "nested.suite.yaml")
	require.NoError(t, os.WriteFile(nested, []byte("name: nested\nscenarios: [bad.suite.yaml]\n"), 0o644))
	cases := []struct {
		args []string
		msg  string
	}{
		// An architecture the entry's scenario lacks, at its line and column.
		{[]string{"run", badSuite}, badSuite + ":4:34: scenarios[1].arch[0]: \"stateful\" is not an architecture of scenario kill-node"},
		// validate reads suite files too.
		{[]string{"validate", badSuite}, "1 of 1 scenario(s) invalid"},
		// A suite inside a suite.
		{[]string{"run", nested}, "is a suite file: a suite lists scenarios, not suites"},
		// One unknown name among several: nothing runs.
		{[]string{"run", "kill-node", "no-such"}, `no such scenario "no-such"`},
		// --all names the catalogue: no scenario beside it.
		{[]string{"run", "--all", "kill-node"}, "--all runs the whole catalogue"},
		// --arch that leaves a scenario nothing, --scale out of range for an entry.
		{[]string{"run", "kill-node", "compare-architectures", "--arch", "stateful"}, "scenario 1 (kill-node): --arch stateful leaves it no architecture"},
		{[]string{"run", "--all", "--scale", "11"}, "--scale 11: want a factor in (0, 10]"},
		{[]string{"run"}, "run needs a scenario"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			_, err := execCLI(t, tc.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.msg)
			require.Equal(t, exitBadInput, exitCode(err))
		})
	}
}

// TestVerdictExitCodes: the exit code comes from the same verdict as every
// report (results.RunVerdict), so they agree on passed, failed, invalid and
// errored.
func TestVerdictExitCodes(t *testing.T) {
	tests := []struct {
		status results.Status
		runErr error
		want   int
	}{
		{results.StatusPassed, nil, exitOK},                                           // valid, every threshold met
		{results.StatusFailed, nil, exitFailed},                                       // the system failed the scenario
		{results.StatusInvalid, nil, exitFailed},                                      // nothing proven: never 0
		{results.StatusErrored, nil, exitError},                                       // did not run to the end
		{results.StatusErrored, errors.New("stack up: images missing"), exitError},    // and said why
		{results.StatusFailed, errors.New("write report.html: disk full"), exitError}, // the tool broke
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			require.Equal(t, tt.want, exitCode(verdictError("s", tt.status, tt.runErr)))
		})
	}
}

// TestRunStopSignals interrupts a real run while a fault is active, with
// each signal that ends a run early: Ctrl-C, a termination request, and the
// terminal going away (SIGHUP, which used to kill chaosbench at once and
// strand the stack). A second signal during cleanup must not cut it short.
// The binary must revert the fault, write what it measured and remove every
// container and network it created.
func TestRunStopSignals(t *testing.T) {
	dockertest.Require(t)
	bin := buildCLI(t)
	tests := []struct {
		name string
		sigs []syscall.Signal
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}},
		{"SIGHUP then SIGINT during cleanup", []syscall.Signal{syscall.SIGHUP, syscall.SIGINT}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runAndSignal(t, bin, fmt.Sprintf("sig%d-%d", i, os.Getpid()), tt.sigs)
		})
	}
}

func runAndSignal(t *testing.T, bin, name string, sigs []syscall.Signal) {
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(`name: `+name+`
clients: 10
phases:
  - {duration: 60s, rate: 50/s}
faults:
  - {at: 3s, for: 50s, kind: packet-loss, target: api-1, params: {percent: 50}}
  - {at: 55s, for: 2s, kind: kill, target: api-2}
`), 0o644))
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", scenario, "--out", out)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		stacktest.Sweep(t, name)
	})

	injected := make(chan struct{})
	cleaning := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		var once, once2 bool
		for sc.Scan() {
			t.Log(sc.Text())
			if !once && strings.Contains(sc.Text(), "chaos: packet-loss on api-1") {
				once = true
				close(injected)
			}
			if !once2 && strings.Contains(sc.Text(), "stopping; reverting faults") {
				once2 = true
				close(cleaning)
			}
		}
	}()
	select {
	case <-injected:
	case <-time.After(90 * time.Second):
		t.Fatal("the fault was never injected")
	}
	require.NoError(t, cmd.Process.Signal(sigs[0]))
	if len(sigs) > 1 {
		select {
		case <-cleaning:
		case <-time.After(30 * time.Second):
			t.Fatal("no word of cleaning up after the first signal")
		}
		for _, sig := range sigs[1:] {
			require.NoError(t, cmd.Process.Signal(sig))
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		t.Fatalf("chaosbench run did not stop within 90s of %v", sigs)
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, exitError, exit.ExitCode(), "an interrupted run is not a verdict")

	// What was measured is on disk, and the verdict says the run did not finish.
	s, err := results.ReadSummary(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.Len(t, s.Architectures, 1)
	require.Positive(t, s.Architectures[0].Requests.Sent)
	require.Len(t, s.Architectures[0].Faults, 2)
	require.Positive(t, s.Architectures[0].Faults[0].EndS, "the fault was reverted and its end recorded")
	// The fault the signal came before says so, not that the load was too short for it.
	require.Contains(t, s.Architectures[0].Faults[1].Error, "not injected: the run was interrupted (signal ")
	require.Equal(t, results.StatusErrored, s.Verdict)
	require.FileExists(t, filepath.Join(out, "report.html"))

	// Nothing labelled is left: no container, no network.
	stacktest.RequireNoRuns(t, name)
}
