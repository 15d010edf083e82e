// Package k8s renders the Kubernetes manifests of a run: the loaders as an Indexed Job whose pods each run
// one segment of the scenario's load (`chaosbench worker`) from one shared start instant, an outbox beside
// each that keeps the worker's files for the coordinator to copy, and, for the bundled reference stack, the
// reference API as a Deployment and a Service with Redis. It builds the real k8s.io/api types, so that the
// field names are right by construction, and starts nothing: no cluster client, no Docker, no Redis.
// docs/kubernetes.md says how a run goes there, how faults map, and what was and was not tested.
package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Object names, in the run's own namespace (deleting the namespace removes the run).
const (
	nameScenario = "scenario"
	nameSecret   = "refapi"
	nameRedis    = "redis"
	nameAPI      = "api"
	nameLoader   = "loader"

	// outDir is where a worker writes its files (an emptyDir shared with the outbox); scenarioDir is where
	// a shipped scenario file is mounted.
	outDir       = "/out"
	scenarioDir  = "/etc/chaosbench"
	scenarioKey  = "scenario.yaml"
	jwtSecretKey = "jwt-secret"
	// CollectedFile is what the coordinator creates in outDir once it has copied a worker's files: the
	// outbox then exits and the pod completes.
	CollectedFile = ".collected"
)

// Label keys: the run label is the Docker stack's (chaosbench.run), so that one word finds a run's
// objects in either place.
const (
	LabelRun       = "chaosbench.run"
	labelPartOf    = "app.kubernetes.io/part-of"
	labelComponent = "app.kubernetes.io/component"
)

// Manifests is a rendered run: its objects in apply order, and what the manifests do not carry.
type Manifests struct {
	Objects []runtime.Object
	// Notes say what of the scenario the manifests leave to the coordinator (faults, thresholds).
	Notes []string
	// Target is the URL the workers send to; Namespace holds every object.
	Target, Namespace string
	Config            Config
}

// Render builds the manifests of one architecture of plan. Every invalid option and every part of the
// plan that the manifests cannot honour is reported at once.
func Render(plan scenarios.Plan, opts ...Option) (Manifests, error) {
	cfg := Config{
		Namespace: DefaultNamespace, Workers: DefaultWorkers, CollectWindow: DefaultCollectWindow,
		Images: Images{Loader: DefaultLoaderImage, Refapi: DefaultRefapiImage, Base: DefaultBaseImage},
	}
	var errs []error
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Start.IsZero() {
		errs = append(errs, errors.New("start: the shared start instant is required (WithStart)"))
	}
	if cfg.Scenario.Name == "" && cfg.Scenario.File == nil {
		errs = append(errs, errors.New("scenario: how the workers find it is required (WithScenario)"))
	}
	a, err := pickArch(plan, cfg.Arch)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.Arch = a.Name
	if cfg.Workers > plan.Clients {
		errs = append(errs, fmt.Errorf("workers %d: the scenario has %d virtual clients and each worker needs one at least", cfg.Workers, plan.Clients))
	}
	if cfg.Target == "" && err == nil {
		errs = append(errs, checkBundled(plan, a)...)
	}
	if cfg.Target != "" && err == nil && a.Edge.HTTP2 && !strings.HasPrefix(cfg.Target, "https://") {
		// The workers' load engine speaks HTTP/2 over TLS only: every request would fail at the worker's start.
		errs = append(errs, fmt.Errorf("arch %s: http2 is negotiated in the TLS handshake: give an https --target, not %s", a.Name, cfg.Target))
	}
	if len(errs) > 0 {
		return Manifests{}, errors.Join(errs...)
	}
	if cfg.JWTSecret == "" && cfg.Target == "" && !a.Service.Custom() {
		return Manifests{}, errors.New("jwt secret: the reference API needs one (WithJWTSecret)")
	}
	if cfg.RunID == "" {
		cfg.RunID = defaultRunID(plan.Name, cfg.Start)
	}

	m := Manifests{Namespace: cfg.Namespace, Target: cfg.Target, Config: cfg}
	m.Objects = append(m.Objects, namespace(cfg))
	if cfg.Scenario.File != nil {
		m.Objects = append(m.Objects, scenarioConfigMap(cfg))
	}
	if cfg.Target == "" {
		stack := bundledStack(plan, a, cfg)
		m.Target = stack.url
		m.Objects = append(m.Objects, stack.objects...)
	}
	m.Objects = append(m.Objects, loaderJob(plan, cfg, m.Target))
	m.Notes = notes(plan)
	if cfg.Clock == "" {
		m.Notes = append(m.Notes, "no coordinator clock: every worker's clock offset is recorded as not measured, and the "+
			"merged run is invalid (chaosbench k8s run serves one)")
	}
	return m, nil
}

// pickArch is the plan's architecture named name, or its only one.
func pickArch(plan scenarios.Plan, name string) (arch.Arch, error) {
	var names []string
	for _, a := range plan.Architectures {
		names = append(names, a.Name)
	}
	if name == "" {
		if len(plan.Architectures) == 1 {
			return plan.Architectures[0], nil
		}
		return arch.Arch{}, fmt.Errorf("arch: scenario %s has %d architectures (%s); a run in a cluster is one: pick it with --arch",
			plan.Name, len(names), strings.Join(names, ", "))
	}
	as, err := plan.Archs(name)
	if err != nil {
		return arch.Arch{}, fmt.Errorf("arch: %w", err)
	}
	return as[0], nil
}

// checkBundled refuses what the bundled stack cannot be in a cluster as the manifests render it: each
// would otherwise run a different architecture under the scenario's name.
func checkBundled(plan scenarios.Plan, a arch.Arch) []error {
	var errs []error
	if plan.Attach != nil {
		errs = append(errs, fmt.Errorf("target: scenario %s attaches to %s on this machine, which a cluster cannot reach: "+
			"give the service's address in the cluster with --target", plan.Name, plan.Attach.URL))
	}
	if a.RedisHA {
		errs = append(errs, fmt.Errorf("arch %s: Redis with Sentinels is not rendered for Kubernetes (docs/kubernetes.md); "+
			"aim --target at your own deployment of it", a.Name))
	}
	if a.RedisCluster {
		errs = append(errs, fmt.Errorf("arch %s: a Redis Cluster is not rendered for Kubernetes (one Redis would run in its place); "+
			"aim --target at your own deployment of it", a.Name))
	}
	if a.UsesPostgres() {
		errs = append(errs, fmt.Errorf("arch %s: PostgreSQL (store: postgres) is not rendered for Kubernetes; "+
			"aim --target at your own deployment of it", a.Name))
	}
	if a.Balancer != "" && a.Balancer != arch.RoundRobin {
		proxy := "NGINX's"
		if a.Balancer == arch.HAProxy {
			proxy = "HAProxy's" // the Docker stack's, in NGINX's place
		}
		errs = append(errs, fmt.Errorf("arch %s: balancer %s is %s, which the manifests do not run: a Service spreads "+
			"connections itself (docs/kubernetes.md); use a round-robin architecture or --target", a.Name, a.Balancer, proxy))
	}
	if a.Edge.Measure {
		errs = append(errs, fmt.Errorf("arch %s: TLS and keep-alive at the edge are NGINX's, which the manifests do not run", a.Name))
	}
	return errs
}

// defaultRunID names the run after its scenario and start (a label value: at most 63 characters).
func defaultRunID(name string, start time.Time) string {
	ts := start.UTC().Format("20060102-150405")
	if max := 63 - len(ts) - 1; len(name) > max {
		name = strings.TrimRight(name[:max], "-")
	}
	return name + "-" + ts
}

// notes are the parts of the plan that the manifests do not carry: the coordinator does them.
func notes(plan scenarios.Plan) []string {
	var out []string
	for _, f := range plan.Faults {
		out = append(out, fmt.Sprintf("fault %s %s at %s for %s is not in the manifests: the coordinator injects it "+
			"(docs/kubernetes.md, Faults)", f.Kind, f.Target, f.At, f.For))
	}
	if len(plan.Thresholds) > 0 {
		out = append(out, fmt.Sprintf("%d threshold(s) are judged by the coordinator on the merged outputs, not in the cluster", len(plan.Thresholds)))
	}
	return out
}

// loadDuration is the planned length of the load at the workers' scale.
func loadDuration(plan scenarios.Plan, scale float64) time.Duration {
	if scale > 0 {
		plan = plan.Scaled(scale)
	}
	return plan.Duration()
}

func seconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// YAML is the manifests as one multi-document stream, in apply order, with a header that says what it is.
func (m Manifests) YAML() ([]byte, error) {
	var b bytes.Buffer
	c := m.Config
	fmt.Fprintf(&b, "# chaosbench k8s render: architecture %s, %d worker(s) from %s, seed %d, run %s\n",
		c.Arch, c.Workers, c.Start.Format(time.RFC3339Nano), c.Seed, c.RunID)
	fmt.Fprintf(&b, "# load: %s; apply with kubectl apply -f, remove with kubectl delete namespace %s\n", m.Target, m.Namespace)
	fmt.Fprintf(&b, "# (docs/kubernetes.md: collecting the outputs, faults, what is not rendered)\n")
	for _, n := range m.Notes {
		fmt.Fprintf(&b, "# note: %s\n", n)
	}
	for _, o := range m.Objects {
		doc, err := objectYAML(o)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// objectYAML marshals an object without what a client never sets: the status, and the null
// creationTimestamp that metav1.ObjectMeta's Time marshals to.
func objectYAML(o runtime.Object) ([]byte, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", o, err)
	}
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("marshal %T: %w", o, err)
	}
	delete(tree, "status") // the cluster's to write
	dropNulls(tree)
	if raw, err = json.Marshal(tree); err != nil {
		return nil, fmt.Errorf("marshal %T: %w", o, err)
	}
	return yaml.JSONToYAML(raw)
}

// dropNulls removes null values (never an empty map: emptyDir: {} means something).
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if x == nil {
				delete(t, k)
				continue
			}
			dropNulls(x)
		}
	case []any:
		for _, x := range t {
			dropNulls(x)
		}
	}
}
