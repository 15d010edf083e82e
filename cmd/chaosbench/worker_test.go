package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target"
)

// TestWorkerBadInput: every flag of the worker's contract is checked before anything is sent, and a bad
// one exits 2 naming it.
func TestWorkerBadInput(t *testing.T) {
	ok := []string{"worker", "steady-baseline", "--segment", "0/2", "--target", "http://127.0.0.1:9",
		"--start", "2030-01-01T00:00:00Z", "--seed", "1", "--out", t.TempDir()}
	with := func(flag, value string) []string {
		args := append([]string{}, ok...)
		for i, a := range args {
			if a == flag {
				args[i+1] = value
				return args
			}
		}
		return append(args, flag, value)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"segment out of range", with("--segment", "2/2")},                                               // I must be < N
		{"segment not I/N", with("--segment", "half")},                                                   // not a segment
		{"target off this machine", with("--target", "http://192.0.2.1:80")},                             // TEST-NET: never a local address
		{"target not http", with("--target", "ftp://127.0.0.1/")},                                        // wrong scheme
		{"start not RFC 3339", with("--start", "18:00")},                                                 // no date
		{"start gate off this machine", with("--start", "http://192.0.2.1:80/gate")},                     // the gate stays local too
		{"unknown arch", with("--arch", "serverless")},                                                   // not in the scenario
		{"scale out of range", with("--scale", "0")},                                                     // as run --scale
		{"ca not a file", with("--ca", "/no/such/file.pem")},                                             // unreadable
		{"bad allow-net", with("--allow-net", "10.0.0.0")},                                               // not a CIDR
		{"allow-net on the host", with("--allow-net", "0.0.0.0/0")},                                      // only a worker in a container names its network
		{"clock off this machine", with("--clock", "http://192.0.2.1:80/")},                              // the clock too stays local
		{"more workers than clients", with("--segment", "0/64")},                                         // steady-baseline has 50 clients
		{"run id not plain", with("--run-id", "a b/c")},                                                  // goes into keys and names as it is
		{"unknown scenario", append([]string{"worker", "no-such-scenario"}, ok[2:]...)},                  // not a file nor a built-in
		{"missing flags", []string{"worker", "steady-baseline", "--segment", "0/2"}},                     // no target, start, seed, out
		{"in-cluster outside a pod", append(with("--target", "http://10.96.0.10:8080"), "--in-cluster")}, // no KUBERNETES_SERVICE_HOST here
		{"cluster target without in-cluster", with("--target", "http://10.96.0.10:8080")},                // a Service's address is not this machine's
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, exitBadInput, run(context.Background(), tc.args))
		})
	}
	// A pod's environment without a pod's service-account token (this host has none): still refused, so
	// that setting one variable on a host is no way around the locality rule.
	t.Run("in-cluster with the variable but no token", func(t *testing.T) {
		if _, err := os.Stat(local.TokenPath); err == nil {
			t.Skip("this process runs in a pod: it has a service-account token")
		}
		t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
		t.Setenv("API_SERVICE_HOST", "10.96.0.10")
		require.Equal(t, exitBadInput, run(context.Background(), append(with("--target", "http://10.96.0.10:8080"), "--in-cluster")))
	})
	// run --workers: out of range is bad input, refused before any container starts.
	require.Equal(t, exitBadInput, run(context.Background(), []string{"run", "kill-node", "--workers", "-1"}))
	require.Equal(t, exitBadInput, run(context.Background(), []string{"run", "kill-node", "--workers", "33"}))
	// What workers cannot measure is refused before any container starts too, in a suite as alone: TLS at
	// the edge (the certificate names 127.0.0.1), more workers than clients.
	require.Equal(t, exitBadInput, run(context.Background(), []string{"run", "tls-keepalive", "--workers", "2"}))
	require.Equal(t, exitBadInput, run(context.Background(), []string{"run", "steady-baseline", "tls-keepalive", "--workers", "2"}))
	few := filepath.Join(t.TempDir(), "few.yaml")
	require.NoError(t, os.WriteFile(few, []byte("name: few\nclients: 2\nphases:\n  - {duration: 5s, rate: 10/s}\n"), 0o644))
	require.Equal(t, exitBadInput, run(context.Background(), []string{"run", few, "--workers", "3"}))
	// The base line itself is good input: nothing answers on port 9, so setup fails (1), not the flags (2).
	require.Equal(t, exitError, run(context.Background(), ok))
}

// TestWorkersMergeOnTheReferenceAPI runs the worker command as two workers against the reference API
// (in-process, on a real redis-server), on one start instant and with a coordinator clock, then as one:
// the two plan exactly what one does, each wrote its folder with a measured clock offset, and their merge
// holds every request and order once.
func TestWorkersMergeOnTheReferenceAPI(t *testing.T) {
	rs := redistest.Start(t)
	cfg := target.DefaultConfig()
	cfg.RedisURL, cfg.NodeID, cfg.JWTSecret, cfg.BcryptCost = rs.URL(), "api-1", "worker-test-secret-0123456789abcdef", 4
	srv, err := target.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	clock := httptest.NewServer(load.ClockHandler())
	t.Cleanup(clock.Close)

	dir := t.TempDir()
	scenario := filepath.Join(dir, "w.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(`name: w
seed: 3
clients: 6
phases: [{name: load, duration: 2s, rate: 100/s}]
`), 0o644))
	worker := func(seg, out string, start time.Time) int {
		return run(context.Background(), []string{"worker", scenario, "--segment", seg, "--target", api.URL,
			"--start", start.UTC().Format(time.RFC3339Nano), "--seed", "3", "--out", out, "--clock", clock.URL})
	}

	start := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = worker(strconv.Itoa(i)+"/2", filepath.Join(dir, strconv.Itoa(i)), start)
		}()
	}
	wg.Wait()
	require.Equal(t, []int{0, 0}, codes)
	require.Equal(t, exitOK, worker("0/1", filepath.Join(dir, "whole"), time.Now().Add(2*time.Second)))

	whole, err := load.ReadWorker(filepath.Join(dir, "whole"))
	require.NoError(t, err)
	var parts []*load.Result
	for i := range 2 {
		p, err := load.ReadWorker(filepath.Join(dir, strconv.Itoa(i)))
		require.NoError(t, err)
		require.Len(t, p.Workers, 1)
		c := p.Workers[0].Clock
		assert.True(t, c.Measured, "worker %d measured its clock", i)
		assert.Less(t, c.Offset.Abs(), 50*time.Millisecond, "one machine, one clock")
		for _, s := range p.Ledger.Sessions {
			assert.Contains(t, s.User, "-s"+strconv.Itoa(i)+"of2-", "the segment is in its users' names")
		}
		parts = append(parts, p)
	}
	merged, err := load.Merge(filepath.Join(dir, "merged"), parts...)
	require.NoError(t, err)
	assert.Equal(t, whole.Totals.Planned, merged.Totals.Planned, "two workers plan exactly what one does")
	assert.Equal(t, merged.Totals.Planned, merged.Totals.Sent+merged.Totals.Dropped)
	assert.Equal(t, merged.Totals.Sent, merged.Totals.Completed)
	assert.Len(t, merged.Ledger.Sessions, 6, "every client once: 3 per worker")
	n := 0
	require.NoError(t, merged.Ledger.EachOrder(func(o load.OrderEntry) error {
		n++
		assert.True(t, strings.HasPrefix(o.Key, parts[0].RunID) || strings.HasPrefix(o.Key, parts[1].RunID))
		return nil
	}))
	assert.Equal(t, merged.Ledger.OrderCount(), n)
	assert.Positive(t, n)
}
