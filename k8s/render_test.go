package k8s

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixed makes a rendering reproducible: the start, the render time, the secret and the seed.
func fixed(extra ...Option) []Option {
	start := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	return append([]Option{
		WithStart(start, start.Add(-2*time.Minute)),
		WithSeed(7),
		WithJWTSecret("test-secret-not-for-use"),
	}, extra...)
}

func loadPlan(t *testing.T, name string) scenarios.Plan {
	t.Helper()
	plan, err := scenarios.Load(name)
	require.NoError(t, err)
	return plan
}

// TestGolden renders a built-in scenario with the bundled stack, and a shipped file against an external
// target, and compares them with testdata/*.yaml (go test ./k8s -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		plan string
		opts []Option
	}{
		// the reference stack in the cluster, the scenario a built-in of the loader image
		{"kill-node-bundled", "kill-node", []Option{WithScenario(Scenario{Name: "kill-node"}), WithWorkers(3)}},
		// a user's file shipped in a ConfigMap, against a service already in the cluster, at half scale
		{"file-external", "testdata/shop.yaml", []Option{WithScenario(Scenario{File: mustRead(t, "testdata/shop.yaml")}),
			WithTarget("http://shop.shop.svc:8080"), WithNamespace("shop-load"), WithScale(0.5)}},
		// a user's image (target.image) as the API nodes, with its port, health path and env, and no JWT Secret;
		// images from a registry
		{"naiveshop-image", "../examples/naiveshop/naiveshop.yaml", []Option{
			WithScenario(Scenario{File: mustRead(t, "../examples/naiveshop/naiveshop.yaml")}),
			WithImages(Images{Loader: "registry.example/chaosbench:v1", Base: "registry.example/chaosbench-base:v1"})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Render(loadPlan(t, tt.plan), fixed(tt.opts...)...)
			require.NoError(t, err)
			got, err := m.YAML()
			require.NoError(t, err)
			path := filepath.Join("testdata", tt.name+".yaml")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestRenderRefuses: what the manifests cannot honour is refused with a message that says why, never
// rendered as a different architecture under the scenario's name.
func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name, plan string
		opts       []Option
		want       string
	}{
		// several architectures and none picked: a run in a cluster is one
		{"no arch", "compare-architectures", nil, "pick it with --arch"},
		// an architecture the scenario does not have
		{"unknown arch", "kill-node", []Option{WithArch("stateful")}, `arch: "stateful" is not an architecture`},
		// sticky sessions are NGINX's balancer, which the manifests do not run
		{"sticky", "compare-architectures", []Option{WithArch("stateful")}, "balancer sticky is NGINX's"},
		// HAProxy in NGINX's place is the Docker stack's too
		{"haproxy", "balancer-compare", []Option{WithArch("stateless-haproxy")}, "balancer haproxy is HAProxy's"},
		// TLS and HTTP/2 at the edge are NGINX's, which the manifests do not run
		{"http2 bundled", "http2-edge", []Option{WithArch("tls-h2")}, "TLS and keep-alive at the edge are NGINX's"},
		// the workers speak HTTP/2 over TLS only: a plain http target is refused, not failed in the cluster
		{"http2 plain target", "http2-edge", []Option{WithArch("tls-h2"), WithTarget("http://api.shop.svc:8080")}, "give an https --target"},
		// Redis with Sentinels is not rendered
		{"redis ha", "redis-failover", []Option{WithArch("stateless-ha")}, "Sentinels is not rendered"},
		// nor is a Redis Cluster: one Redis would silently run in its place
		{"redis cluster", "redis-cluster", []Option{WithArch("stateless-cluster")}, "a Redis Cluster is not rendered"},
		// nor is PostgreSQL: the nodes would be told STORE=postgres with no server to reach
		{"postgres", "postgres-outage", nil, "PostgreSQL (store: postgres) is not rendered"},
		// an attached service on this machine, and no address in the cluster
		{"attach without target", "testdata/shop.yaml", nil, "give the service's address in the cluster with --target"},
		// more workers than virtual clients
		{"too many workers", "kill-node", []Option{WithWorkers(51)}, "each worker needs one at least"},
		{"workers out of range", "kill-node", []Option{WithWorkers(0)}, "workers 0: want 1 to 64"},
		{"bad namespace", "kill-node", []Option{WithNamespace("Load_Test")}, `namespace "Load_Test"`},
		{"bad target", "kill-node", []Option{WithTarget("api:8080")}, "want http://HOST[:PORT]"},
		// a start already past: every worker would begin late
		{"start in the past", "kill-node", []Option{WithStart(time.Unix(0, 0), time.Unix(60, 0))}, "is before now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fixed(append([]Option{WithScenario(Scenario{Name: tt.plan})}, tt.opts...)...)
			_, err := Render(loadPlan(t, tt.plan), opts...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestRenderSegments: the Job has one completion per worker and each pod's args name its own segment
// through the index; the outbox and the deadline follow the scaled load.
func TestRenderSegments(t *testing.T) {
	plan := loadPlan(t, "kill-node") // 40 s of load
	m, err := Render(plan, fixed(WithScenario(Scenario{Name: "kill-node"}), WithWorkers(5), WithScale(0.5))...)
	require.NoError(t, err)
	job := m.Objects[len(m.Objects)-1].(*batchv1.Job)
	require.Equal(t, int32(5), *job.Spec.Completions)
	require.Equal(t, int32(5), *job.Spec.Parallelism)
	w := job.Spec.Template.Spec.Containers[0]
	require.Contains(t, w.Args, "--segment=$(JOB_COMPLETION_INDEX)/5")
	require.Contains(t, w.Args, "--scale=0.5")
	// 2 min of lead, 20 s of load, 10 min to collect, a minute spare
	require.Equal(t, int64(120+20+600+60), *job.Spec.ActiveDeadlineSeconds)
	start := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	require.Equal(t, strconv.FormatInt(start.Add(20*time.Second+DefaultCollectWindow).Unix(), 10),
		job.Spec.Template.Spec.Containers[1].Env[0].Value)
	raw, err := m.YAML()
	require.NoError(t, err)
	require.Empty(t, Check(raw))
}
