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
	dockertest.Require(t)
	t.Parallel() // its own stacks, named by run id
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
		cmd := exec.Command(compose, append([]string{"-p", project}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "docker-compose %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	dc("up", "-d")
	t.Cleanup(func() { dc("down", "-v", "--remove-orphans") })
	url := "http://" + dc("port", "lb", "80")
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
	out, err := Run(ctx, plan, WithOutDir(t.TempDir()), WithLog(testWriter{t}, false))
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
