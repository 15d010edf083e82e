package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/k8s"
)

// TestK8sRender writes the manifests of a built-in scenario to a file; they pass the offline check and
// carry the flags.
func TestK8sRender(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.yaml")
	code := run(context.Background(), []string{"k8s", "render", "kill-node", "--workers", "4",
		"--start", "2099-01-01T00:00:00Z", "--namespace", "load-1", "--out", out})
	require.Equal(t, exitOK, code)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Empty(t, k8s.Check(raw))
	s := string(raw)
	require.Contains(t, s, "--segment=$(JOB_COMPLETION_INDEX)/4")
	require.Contains(t, s, "--start=2099-01-01T00:00:00Z")
	require.Contains(t, s, "--seed=7") // the scenario's
	require.Contains(t, s, "--target=http://api.load-1.svc:8080")
	require.Equal(t, 1, strings.Count(s, "kind: Job"))
}

// TestK8sRenderBadInput: every mistake exits 2.
func TestK8sRenderBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no subcommand", []string{"k8s"}},
		{"unknown scenario", []string{"k8s", "render", "no-such-scenario"}},
		{"bad start", []string{"k8s", "render", "kill-node", "--start", "tomorrow"}},
		// a start already past: the workers would begin late
		{"past start", []string{"k8s", "render", "kill-node", "--start", "2000-01-01T00:00:00Z"}},
		{"zero workers", []string{"k8s", "render", "kill-node", "--workers", "0"}},
		// several architectures: a cluster run is one
		{"no arch", []string{"k8s", "render", "compare-architectures"}},
		// sticky is NGINX's balancer
		{"sticky", []string{"k8s", "render", "compare-architectures", "--arch", "stateful"}},
		{"bad target", []string{"k8s", "render", "kill-node", "--target", "ftp://x"}},
		{"bad namespace", []string{"k8s", "render", "kill-node", "--namespace", "Bad_NS"}},
		{"extra argument", []string{"k8s", "render", "kill-node", "kill-node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 1 {
				args = append(args, "--out", os.DevNull) // nothing reaches a file when the input is bad
			}
			require.Equal(t, exitBadInput, run(context.Background(), args))
		})
	}
}
