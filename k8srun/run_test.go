package k8srun

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/k8s"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
)

// TestRefuse: every fault the cluster cannot do is named with why, all at once, as bad input; the faults
// it can do pass.
func TestRefuse(t *testing.T) {
	plan := func(faults ...scenarios.FaultPlan) scenarios.Plan { return scenarios.Plan{Faults: faults} }
	for _, tc := range []struct {
		name string
		plan scenarios.Plan
		want []string // "" : accepted
	}{
		{"kill, stop and partition from redis", plan( // the mapped faults
			scenarios.FaultPlan{Kind: "kill", Target: "any-api"}, scenarios.FaultPlan{Kind: "stop", Target: "redis"},
			scenarios.FaultPlan{Kind: "partition", Target: "api-2"}), nil},
		{"pause", plan(scenarios.FaultPlan{Kind: "pause", Target: "api-1"}), []string{"pause on api-1", "cgroup freezer"}}, // no freezer through the API
		{"response-loss", plan(scenarios.FaultPlan{Kind: "response-loss", Target: "api-2"}), []string{"HTTP proxy"}},       // no proxy in the Service's path
		{"partition from nginx", plan(scenarios.FaultPlan{Kind: "partition", Target: "api-1", Params: map[string]string{"from": "nginx"}}),
			[]string{"no NGINX in the cluster"}}, // no NGINX rendered
		{"kill nginx", plan(scenarios.FaultPlan{Kind: "kill", Target: "nginx"}), []string{"api-N and redis only"}}, // no such pod
		{"two at once", plan(scenarios.FaultPlan{Kind: "pause", Target: "api-1"}, scenarios.FaultPlan{Kind: "latency", Target: "api-1"}),
			[]string{"pause on api-1", "latency on api-1"}}, // both named
	} {
		err := Refuse(tc.plan)
		if tc.want == nil {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorAs(t, err, new(BadInput), tc.name)
		for _, w := range tc.want {
			require.ErrorContains(t, err, w, tc.name)
		}
	}
}

// TestUntar: a worker's folder comes out whole; an entry that would leave the folder is refused.
func TestUntar(t *testing.T) {
	archive := func(entries map[string]string) *bytes.Buffer {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for name, body := range entries {
			require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
			_, err := tw.Write([]byte(body))
			require.NoError(t, err)
		}
		require.NoError(t, tw.Close())
		return &b
	}
	dir := t.TempDir()
	require.NoError(t, untar(archive(map[string]string{"./worker.json": "{}", "./records.jsonl": "x\n"}), dir))
	got, err := os.ReadFile(filepath.Join(dir, "records.jsonl"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(got))
	require.ErrorContains(t, untar(archive(map[string]string{"../escape": "x"}), t.TempDir()), "unexpected entry")
	require.ErrorContains(t, untar(archive(map[string]string{"/etc/passwd": "x"}), t.TempDir()), "unexpected entry")
}

// TestTestdataScenario: the user's-image scenario of make k8s-e2e is one the cluster can run.
func TestTestdataScenario(t *testing.T) {
	plan, err := scenarios.Load("testdata/naiveshop-kill.yaml")
	require.NoError(t, err)
	require.NoError(t, Refuse(plan))
}

// TestSplitAt: Redis and what it needs are applied and ready before the API's Deployment.
func TestSplitAt(t *testing.T) {
	plan, err := scenarios.Load("kill-node")
	require.NoError(t, err)
	m, err := k8s.Render(plan, k8s.WithScenario(k8s.Scenario{Name: "kill-node"}), k8s.WithStart(time.Now().Add(time.Minute), time.Now()),
		k8s.WithJWTSecret("0123456789abcdef0123"))
	require.NoError(t, err)
	stackObjs, job := split(m.Objects)
	require.Len(t, job, 1)
	stages := splitAt(stackObjs, deployAPI)
	require.Len(t, stages, 2)
	require.Equal(t, []string{deployRedis}, stages[0].deployments)
	require.Equal(t, []string{deployAPI}, stages[1].deployments)
	require.Equal(t, len(stackObjs), len(stages[0].objs)+len(stages[1].objs))
}
