// Package dockertest decides whether a test may use Docker: it skips when no daemon answers and CI is
// unset, and fails in CI, where the Docker suite must run.
package dockertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Require skips or fails tb when no Docker daemon answers.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI is set but Docker is unavailable: %v", err)
		}
		tb.Skipf("no Docker daemon (%v); set CI to make this a failure", err)
	}
}

// Available reports whether a Docker daemon answers within a few seconds.
func Available() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := os.Stat("/var/run/docker.sock"); err != nil && os.Getenv("DOCKER_HOST") == "" {
		return err
	}
	if _, err := exec.LookPath("docker"); err != nil {
		// The Go client needs no CLI; the socket's presence is enough of a hint.
		return nil
	}
	return exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run()
}
