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
	require.Contains(t, s, "--seed=7")                                 // the scenario's
	require.Contains(t, s, "--target=http://$(API_SERVICE_HOST):8080") // the kubelet's variable: no cluster DNS needed
	require.Contains(t, s, "--in-cluster")
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

// TestK8sRunBadInput: what k8s run refuses before it applies anything exits 2, with no cluster at all;
// a cluster that does not answer exits 1. None leaves a run folder.
func TestK8sRunBadInput(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.kubeconfig") // a cluster on a port where nothing listens
	require.NoError(t, os.WriteFile(none, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: x}}]
current-context: c
`), 0o600))
	out := filepath.Join(dir, "run")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"unknown scenario", []string{"no-such-scenario"}, exitBadInput},                                     // not a file nor a built-in
		{"zero workers", []string{"kill-node", "--workers", "0"}, exitBadInput},                              // a run needs a loader
		{"no arch", []string{"compare-architectures"}, exitBadInput},                                         // a cluster run is one architecture
		{"a fault the cluster cannot do", []string{"../../examples/naiveshop/naiveshop.yaml"}, exitBadInput}, // response-loss needs chaosbench's proxy
		{"pause", []string{"rolling-restart"}, exitBadInput},                                                 // not mapped: refused by name
		{"no kubeconfig", []string{"kill-node", "--kubeconfig", filepath.Join(dir, "nope")}, exitBadInput},   // the file is not there
		{"no cluster reachable", []string{"kill-node", "--kubeconfig", none}, exitError},                     // nothing answers
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"k8s", "run"}, tt.args...)
			require.Equal(t, tt.want, run(context.Background(), append(args, "--out", out)))
			_, err := os.Stat(out)
			require.True(t, os.IsNotExist(err), "a run folder was left behind")
		})
	}
}
