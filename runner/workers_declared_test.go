package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkersDeclaredTicketdesk runs the declared example (examples/ticketdesk: its own API, declared
// client, ops and invariants) in chaosbench's stack (its image, `make images`, beside the stack's Redis)
// with the load from two loader containers. Each worker reads the declared ops from the scenario file and
// sends both of them; each sets up its own share of the clients; the merged ledger holds every client
// once, and the invariants are read back through the API as those clients and checked, not "not
// checked": the correct build keeps them (no ticket twice or missing, no increment lost).
func TestWorkersDeclaredTicketdesk(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Parallel() // its own stack, named by run id
	file := workersTicketdesk(t, "correct", func(y string) string { return y })
	plan, err := scenarios.Load(file)
	require.NoError(t, err)
	require.True(t, plan.Declared())

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := Run(ctx, specOf(t, plan, scenarios.Ask{Workers: 2}), WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
	require.NoError(t, err)
	require.Len(t, out.Summary.Architectures, 1)
	a := out.Summary.Architectures[0]
	require.Empty(t, a.Error)
	require.True(t, a.Valid, "%v", a.InvalidReasons)
	require.Len(t, a.Workers, 2)
	archDir := filepath.Join(out.Dir, a.Name)

	// Every declared op was sent by both workers, each with its own share of the clients.
	for i := range 2 {
		w, err := load.ReadWorker(filepath.Join(archDir, WorkersDirName, strconv.Itoa(i)))
		require.NoError(t, err)
		sent := map[string]int64{}
		for _, s := range w.Stats {
			sent[s.Op] += s.Count
		}
		require.Len(t, plan.Ops, 2)
		for _, op := range plan.Ops {
			assert.Positive(t, sent[op.Name], "worker %d sent %s", i, op.Name)
		}
		first, n := w.Segment.Clients(plan.Clients)
		require.Len(t, w.Ledger.Clients, n, "worker %d set up its share of the clients", i)
		for j, c := range w.Ledger.Clients {
			assert.Equal(t, first+j, c.ID)
		}
		t.Logf("worker %s: sent %v, clients %d from %d", w.Segment, sent, n, first)
	}

	// The merged ledger (the one the checks read) has every client once, with its setup held.
	led, err := load.ReadLedger(filepath.Join(archDir, runfolder.LedgerFile))
	require.NoError(t, err)
	require.Len(t, led.Clients, plan.Clients)
	for i, c := range led.Clients {
		assert.Equal(t, i, c.ID, "every client once")
		assert.Empty(t, c.SetupError)
		assert.NotEmpty(t, c.Vars["token"], "client %d: its session token, for the invariants' reads", c.ID)
	}

	// One {{run.id}} across the workers, as in one process: the counters named after the run are the
	// scenario's three (c1, c2, c3), bumped by both workers, not three per worker.
	require.NotContains(t, led.RunID, "+", "the workers share the run's id")
	counters := map[string]bool{}
	for _, r := range led.Resources {
		if r.Counter == "counters" {
			counters[r.Key] = true
			assert.True(t, strings.HasPrefix(r.Key, led.RunID+"."), "counter %s is named after the run %s", r.Key, led.RunID)
		}
	}
	assert.LessOrEqual(t, len(counters), 3, "counters %v", counters)

	ops := map[string]int64{}
	for _, o := range a.Ops {
		ops[o.Name] = int64(o.Requests)
		assert.Zero(t, o.Errors, o.Name)
	}
	for name, c := range a.Checks {
		assert.Empty(t, c.NotChecked, "check %s is measured", name)
	}
	t.Logf("ops %v; checks %+v", ops, a.Checks)
	assert.Positive(t, a.Count("writes.acknowledged"))
	assert.Equal(t, ops["ticket.create"], a.Count("writes.acknowledged"), "every ticket filed was acknowledged and read back")
	assert.Equal(t, ops["counter.bump"], a.Count("updates.acknowledged"), "every increment acknowledged")
	for name, v := range map[string]int64{"writes.duplicates": a.Count("writes.duplicates"), "writes.lost": a.Count("writes.lost"),
		"updates.lost": a.Count("updates.lost"), "sessions.lost": a.Count("sessions.lost")} {
		assert.Zero(t, v, name)
	}
	assert.Equal(t, int64(plan.Clients), a.Count("sessions.total"), "one session per client, across both workers")
	assert.Equal(t, results.StatusPassed, out.Summary.Verdict)
}

// workersTicketdesk writes examples/ticketdesk/ticketdesk.yaml as a scenario of chaosbench's stack (the
// ticketdesk image in mode, behind NGINX, beside the stack's Redis): 6 clients, 6 s at 40/s, thresholds
// that hold on a correct service, changed by edit.
func workersTicketdesk(t *testing.T, mode string, edit func(string) string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "ticketdesk", "ticketdesk.yaml"))
	require.NoError(t, err)
	y := strings.Replace(string(raw), "target: {url: http://127.0.0.1:8080, health: /health}",
		"target: {image: chaosbench/ticketdesk:dev, port: 8080, health: /health, env: {TICKETDESK_MODE: "+mode+"}}", 1)
	y = strings.Replace(y, "name: ticketdesk", "name: workers-ticketdesk-"+mode, 1)
	y = strings.Replace(y, "phases: [{duration: 30s, rate: 100/s}]", "phases: [{duration: 6s, rate: 40/s}]\nclients: 6\nseed: 7\n"+
		"thresholds:\n  all: [errors.rate < 0.01, writes.lost == 0, writes.duplicates == 0, updates.lost == 0]\n", 1)
	require.Contains(t, y, "image: chaosbench/ticketdesk:dev")
	require.Contains(t, y, "duration: 6s")
	y = edit(y)
	file := filepath.Join(t.TempDir(), "workers-ticketdesk-"+mode+".yaml")
	require.NoError(t, os.WriteFile(file, []byte(y), 0o644))
	return file
}

// TestWorkersDeclaredTicketdeskFlawed: the invariants read after a merge of two workers find what is
// there. One hot counter named after the run, bumped by the clients of both workers with 250 ms between
// each bump's read and its write, as cmd/chaosbench's TestRunTicketdeskFlawed does in one process: the
// flawed build ignores If-Match, so most increments overwrite each other (that test measured 33 of 43
// lost in 3 s; this run bumps for 6 s), and the counter invariant, read on the merged ledger, counts them.
// It also shows the workers' one run.id: were it one per worker, each would bump a hot counter of its own.
func TestWorkersDeclaredTicketdeskFlawed(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Parallel() // its own stack, named by run id
	file := workersTicketdesk(t, "flawed", func(y string) string {
		y = strings.Replace(y, "{{pick c1 c2 c3}}", "hot", 1)
		y = strings.Replace(y, "      - name: write\n", "        think: 250ms\n      - name: write\n", 1)
		require.Contains(t, y, "think: 250ms")
		return y
	})
	plan, err := scenarios.Load(file)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := Run(ctx, specOf(t, plan, scenarios.Ask{Workers: 2}), WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
	require.NoError(t, err)
	require.Len(t, out.Summary.Architectures, 1)
	a := out.Summary.Architectures[0]
	require.Empty(t, a.Error)
	require.Len(t, a.Workers, 2)
	require.Empty(t, a.Checks["updates.lost"].NotChecked)
	t.Logf("flawed: checks %+v", a.Checks)
	led, err := load.ReadLedger(filepath.Join(out.Dir, a.Name, runfolder.LedgerFile))
	require.NoError(t, err)
	var counters []string
	for _, r := range led.Resources {
		if r.Counter == "counters" {
			counters = append(counters, r.Key)
		}
	}
	require.Equal(t, []string{led.RunID + ".hot"}, counters, "one hot counter, bumped by both workers")
	require.GreaterOrEqual(t, a.Count("updates.lost"), int64(10), "last write wins over a stale read")
	require.Equal(t, results.StatusFailed, out.Summary.Verdict)
}
