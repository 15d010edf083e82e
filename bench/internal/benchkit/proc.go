package benchkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Usage is what one loader process cost, from its rusage after it exited:
// user + system CPU time, peak resident set size and its threads' voluntary
// context switches (each one a thread that blocked and was woken again: the
// wake-ups that, more than the HTTP client's own code, make a request's CPU
// cost at a few thousand per second; docs/load.md). The same reading for
// every tool, taken by the parent, so that no tool reports on itself.
type Usage struct {
	CPU     time.Duration `json:"cpu_ns"`
	PeakRSS float64       `json:"peak_rss_mib"`
	Wakeups int64         `json:"voluntary_switches"`
}

// UsageOf reads a finished process's rusage.
func UsageOf(ps *os.ProcessState) Usage {
	if ps == nil {
		return Usage{}
	}
	u := Usage{CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.PeakRSS = float64(ru.Maxrss) / 1024 // KiB on Linux
		u.Wakeups = ru.Nvcsw
	}
	return u
}

// PerRequest is CPU time per request in microseconds (0 with no requests).
func (u Usage) PerRequest(n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(u.CPU.Microseconds()) / float64(n)
}

// WakeupsPerRequest is voluntary context switches per request (0 with no requests).
func (u Usage) WakeupsPerRequest(n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(u.Wakeups) / float64(n)
}

// Run runs cmd to completion and returns its stdout and usage. Stderr is
// kept and shown in the error when the process fails.
func Run(cmd *exec.Cmd) ([]byte, Usage, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A loader dies with the harness rather than run on against nothing.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	u := UsageOf(cmd.ProcessState)
	if err != nil {
		return stdout.Bytes(), u, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes(), u, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// FindTool looks for a CLI in PATH, then in GOPATH/bin (where `go install`
// puts vegeta and k6). install is the command that installs it, for the
// error message.
func FindTool(name, install string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New(name + " not found: " + install)
}
