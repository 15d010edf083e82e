package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
)

// TestAttachToCompose attaches to a compose project chaosbench did not start (testdata/attach: two replicas
// of examples/naiveshop, Redis, NGINX): the load goes to the project's URL, the faults hit its containers
// by their compose labels and are reverted, ground truth is read through the API, and at the end every
// container of the project is still there and nothing of chaosbench's is left.
func TestAttachToCompose(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Parallel() // its own stacks, named by run id
	project, url, dc := composeUp(t, "docker-compose.yml")
	before := dc("ps", "-q")

	plan, err := scenarios.Parse("attach.yaml", []byte(`name: attach
seed: 7
target:
  url: `+url+`
  compose: {project: `+project+`, api: api, redis: redis, nginx: lb}
clients: 10
resources: 5
timeout: 500ms
retry: {attempts: 4, backoff: 50ms, max_backoff: 400ms, budget: 3s}
phases:
  - {duration: 14s, rate: 40/s}
faults:
  - {at: 4s, for: 3s, kind: kill, target: api-2}
  - {at: 9s, for: 2s, kind: packet-loss, target: api-1, params: {percent: 20}}
`))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := Run(ctx, specOf(t, plan, scenarios.Ask{}), WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
	require.NoError(t, err)
	a := out.Summary.Architectures[0]
	require.Empty(t, a.Error)
	require.Equal(t, project, a.Knobs.Attached)
	require.Equal(t, 2, a.Knobs.Replicas, "api-1 and api-2, by container number")
	require.Len(t, a.Faults, 2)
	for _, f := range a.Faults {
		require.Empty(t, f.Error, "%s on %s", f.Kind, f.Target)
	}
	require.Positive(t, a.Requests.OK)
	for name, c := range a.Checks {
		require.Empty(t, c.NotChecked, "read through the API: %s", name)
	}

	// Nothing of the project was removed, every container runs again, and chaosbench left nothing.
	require.Equal(t, before, dc("ps", "-q"))
	for _, line := range strings.Split(dc("ps"), "\n")[2:] {
		require.Contains(t, line, "Up", line)
	}
	stacktest.RequireNoRuns(t, "attach-")
}

// composeUp starts testdata/attach/file as a compose project of its own, removed at the end of the test, and
// returns its name, its balancer's URL and a docker-compose runner for it.
func composeUp(t *testing.T, file string) (string, string, func(args ...string) string) {
	t.Helper()
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but docker-compose is missing (.ci/run installs it)")
		}
		t.Skip("docker-compose is not installed")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "attach"))
	project := fmt.Sprintf("cbattach%d", time.Now().UnixNano()%1_000_000)
	dc := func(args ...string) string {
		cmd := exec.Command(compose, append([]string{"-p", project, "-f", file}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "docker-compose %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	dc("up", "-d")
	t.Cleanup(func() { dc("down", "-v", "--remove-orphans") })
	return project, "http://" + dc("port", "lb", "80"), dc
}

// TestAttachDeclared attaches to a compose project of examples/ticketdesk, whose API is not the contract, with
// its declared scenario (examples/ticketdesk/ticketdesk.yaml): the declared ops are sent through the project's
// balancer while a fault kills one of its replicas, and afterwards the invariants are read back through its
// API. The correct build keeps them: every check is measured (none "not checked"), with no duplicate, lost
// ticket or lost increment, although the kill cut requests in flight.
func TestAttachDeclared(t *testing.T) {
	dockertest.RequireLoad(t)
	t.Parallel()
	project, url, dc := composeUp(t, "docker-compose.ticketdesk.yml")
	before := dc("ps", "-q")

	raw, err := os.ReadFile(filepath.Join("..", "examples", "ticketdesk", "ticketdesk.yaml"))
	require.NoError(t, err)
	y := strings.Replace(string(raw), "target: {url: http://127.0.0.1:8080, health: /health}",
		"target: {url: "+url+", health: /health, compose: {project: "+project+", api: api, redis: redis, nginx: lb}}", 1)
	y = strings.Replace(y, "phases: [{duration: 30s, rate: 100/s}]", `seed: 7
clients: 10
timeout: 500ms
retry: {attempts: 4, backoff: 50ms, max_backoff: 400ms, budget: 3s}
phases: [{duration: 14s, rate: 40/s}]
faults: [{at: 4s, for: 3s, kind: kill, target: api-2}]`, 1)
	require.Contains(t, y, project)
	require.Contains(t, y, "kind: kill")
	plan, err := scenarios.Parse("ticketdesk-attach.yaml", []byte(y))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := Run(ctx, specOf(t, plan, scenarios.Ask{}), WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
	require.NoError(t, err)
	a := out.Summary.Architectures[0]
	require.Empty(t, a.Error)
	require.Equal(t, project, a.Knobs.Attached)
	require.Len(t, a.Faults, 1)
	require.Empty(t, a.Faults[0].Error)
	for name, c := range a.Checks {
		require.Empty(t, c.NotChecked, "read back through the declared invariants: %s", name)
	}
	t.Logf("checks %+v", a.Checks)
	require.Positive(t, a.Count("writes.acknowledged"))
	require.Positive(t, a.Count("updates.acknowledged"))
	require.Equal(t, int64(10), a.Count("sessions.total"), "one session per client: none was refused (they live in Redis)")
	require.Zero(t, a.Count("writes.duplicates"))
	require.Zero(t, a.Count("writes.lost"))
	require.Zero(t, a.Checks["writes.unexpected"].Value)
	require.Zero(t, a.Count("updates.lost"))
	require.Zero(t, a.Count("sessions.lost"))

	require.Equal(t, before, dc("ps", "-q"), "nothing of the project was removed")
	stacktest.RequireNoRuns(t, "attach-")
}
