// Package k8srun is the coordinator of a run in a Kubernetes cluster (chaosbench k8s run): it renders the
// run (package k8s), checks it against the cluster before applying anything, applies it with client-go,
// waits for the stack and the loader pods, serves the workers' clock and start gate, injects the faults
// through the API on the load's clock (Cluster, behind chaos's Stack port), collects every worker's files
// through the exec stream, merges them and judges the run with the runner's own path (runner.RunOn,
// MergeWorkers, CheckTruth, Judge): the same run folder, reports and exit codes as a local run. The
// namespace is deleted on every path. docs/kubernetes.md tells the steps and what differs from Docker.
package k8srun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/blackbox"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/k8s"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options say where and how a run goes in a cluster.
type Options struct {
	Kubeconfig string // "" : KUBECONFIG, else ~/.kube/config
	Namespace  string // the run's own; created and deleted by the run
	Workers    int
	Images     k8s.Images
	// Listen is this machine's address the pods reach, where the clock and the start gate are served;
	// "": the address of this machine's interface on the pods' network (a cluster on this machine).
	Listen string
	Log    io.Writer
}

// Prepared is a run checked against its cluster, with nothing applied yet.
type Prepared struct {
	spec     scenarios.RunSpec
	plan     scenarios.Plan // unscaled: the workers scale it themselves (--scale)
	scenario k8s.Scenario
	opts     Options
	rc       *rest.Config
	cs       kubernetes.Interface
	secret   string
	render   []k8s.Option
}

// Prepare checks everything that can be checked before anything is applied: the faults the cluster can
// do, the manifests, the cluster reachable, the right to create namespaces, the namespace free, the
// images on the nodes. An error of the user's input is a BadInput (exit 2); nothing is left behind.
func Prepare(ctx context.Context, spec scenarios.RunSpec, plan scenarios.Plan, scenario k8s.Scenario, o Options) (*Prepared, error) {
	if len(spec.Archs) != 1 {
		return nil, BadInput{fmt.Errorf("arch: a run in a cluster is one architecture, and scenario %s has %d: pick one with --arch", plan.Name, len(spec.Archs))}
	}
	if err := Refuse(plan); err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = k8s.DefaultNamespace
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	p := &Prepared{spec: spec, plan: plan, scenario: scenario, opts: o, secret: hex.EncodeToString(secret)}
	p.render = []k8s.Option{k8s.WithScenario(scenario), k8s.WithSeed(spec.Seed), k8s.WithWorkers(o.Workers),
		k8s.WithNamespace(o.Namespace), k8s.WithImages(o.Images), k8s.WithJWTSecret(p.secret), k8s.WithArch(spec.Archs[0].Name),
		k8s.WithRunID(runLabel(plan.Name, time.Now()))}
	if spec.Scale != 1 {
		p.render = append(p.render, k8s.WithScale(spec.Scale))
	}
	m, err := p.manifests("http://gate.invalid/gate", "http://gate.invalid/", "check")
	if err != nil {
		return nil, BadInput{err}
	}
	if p.rc, p.cs, err = Connect(o.Kubeconfig); err != nil {
		return nil, err
	}
	if err := Preflight(ctx, p.cs, p.rc.Host, o.Namespace, imagesOf(m)); err != nil {
		return nil, err
	}
	return p, nil
}

// runLabel names the run (the chaosbench.run label of every object, as the Docker stack's): the scenario
// and when it was prepared, once for every rendering of the run.
func runLabel(name string, at time.Time) string {
	ts := at.UTC().Format("20060102-150405")
	if max := 63 - len(ts) - 1; len(name) > max {
		name = name[:max]
	}
	return strings.Trim(name, "-_.") + "-" + ts
}

// manifests renders the run with the coordinator's gate and clock; the start bound is the latest the
// load may begin (the Job's deadline counts from it).
func (p *Prepared) manifests(gate, clock, runID string) (k8s.Manifests, error) {
	now := time.Now().UTC()
	bound := p.setupBound()
	opts := append(append([]k8s.Option{}, p.render...), k8s.WithStart(now.Add(bound), now), k8s.WithCoordinator(gate, clock, runID))
	return k8s.Render(p.plan, opts...)
}

// setupBound is how long the loader pods may take to start and set up their clients before the start
// gate gives up on them: the local workers' bound, and a minute for pods to be scheduled and started.
func (p *Prepared) setupBound() time.Duration {
	return runner.WorkerSetupBound(p.spec.Plan, p.opts.Workers) + time.Minute
}

// imagesOf lists the images of the manifests' pods, each once.
func imagesOf(m k8s.Manifests) []string {
	var out []string
	seen := map[string]bool{}
	add := func(im string) {
		if !seen[im] {
			seen[im] = true
			out = append(out, im)
		}
	}
	for _, o := range m.Objects {
		for _, c := range podContainers(o) {
			add(c)
		}
	}
	add(m.Config.Images.Base) // the partition's probe
	return out
}

// Run runs the prepared run into a run folder, as runner.Run does for Docker.
func (p *Prepared) Run(ctx context.Context, opts ...runner.Option) (runner.Outcome, error) {
	return runner.RunOn(ctx, p.spec, p.runArch, opts...)
}

// cleanupTimeout bounds deleting the namespace after the run (or after Ctrl-C).
const cleanupTimeout = 3 * time.Minute

// runArch is the architecture's run in the cluster (runner.ArchFunc): steps 2 to 9 of docs/kubernetes.md.
func (p *Prepared) runArch(ctx context.Context, spec scenarios.RunSpec, a arch.Arch, dir string, cfg runner.RunConfig) (res results.Arch, err error) {
	plan, n, log := spec.Plan, p.opts.Workers, cfg.Log
	res = results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas)}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(absDir, 0o755); err != nil {
		return res, fmt.Errorf("create folder: %w", err)
	}
	cl := &Cluster{cs: p.cs, rc: p.rc, ns: p.opts.Namespace, port: a.Service.ListenPort(), images: p.opts.Images}
	first, err := p.manifests("http://gate.invalid/gate", "http://gate.invalid/", "check")
	if err != nil {
		return res, err
	}
	cl.images = first.Config.Images
	// Cleanup on its own context: after Ctrl-C or SIGHUP the run's is cancelled, and the namespace must go.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		cl.saveStackLogs(cctx, runfolder.Arch(absDir).Logs())
		fmt.Fprintf(log, "chaosbench: deleting namespace %s\n", cl.ns)
		if derr := deleteNamespace(cctx, p.cs, cl.ns); derr != nil {
			err = errors.Join(err, derr)
		}
	}()

	// The stack first (the Job's pods read its Services' addresses from their environment), then the
	// loaders, once the stack is ready.
	// Redis is ready before the API's pods are made: they read its Service's address from the
	// variables the kubelet sets when it starts them.
	stackObjs, _ := split(first.Objects)
	fmt.Fprintf(log, "chaosbench: applying %d objects to namespace %s at %s\n", len(stackObjs), cl.ns, p.rc.Host)
	for _, part := range splitAt(stackObjs, deployAPI) {
		if err := apply(ctx, p.cs, part.objs); err != nil {
			return res, err
		}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		err = waitDeployments(wctx, p.cs, cl.ns, part.deployments...)
		cancel()
		if err != nil {
			return res, fmt.Errorf("the stack did not become ready: %w", err)
		}
	}
	host, err := p.listenAddr(ctx, cl)
	if err != nil {
		return res, err
	}
	gate := load.NewGate(n)
	clockURL, gateURL, stopClock, err := runner.ServeClock(host, gate)
	if err != nil {
		return res, err
	}
	defer stopClock()
	m, err := p.manifests(gateURL, clockURL, load.NewRunID())
	if err != nil {
		return res, err
	}
	_, job := split(m.Objects)
	bound := p.setupBound()
	fmt.Fprintf(log, "chaosbench: %d loader pods (%s), clock and start gate on %s, starting together once all are set up (within %s)\n",
		n, m.Config.Images.Loader, host, bound)
	if err := apply(ctx, p.cs, job); err != nil {
		return res, err
	}

	faults := runner.ArmFaults(ctx, cl, plan, spec.Seed, log, cl.NewFault)
	defer faults.RevertAll()
	lctx, stopWait := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWait(nil)
	settle := runner.FireAt(ctx, gate, bound, []func(time.Time){faults.OnStart}, func() { stopWait(errors.New("not set up in time")) })
	wctx, cancel := context.WithTimeout(lctx, bound+plan.Duration()+2*time.Minute)
	defer cancel()
	pods, codes, errs := cl.waitLoaders(ctx, wctx, n)
	gerr := settle()
	injections := faults.Stop()
	logs := runfolder.Arch(absDir).Logs()
	for i, pod := range pods {
		if pod == "" {
			continue
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		if lerr := cl.saveLog(cctx, pod, "worker", filepath.Join(logs, stack.LogName(i))); lerr != nil {
			fmt.Fprintf(log, "chaosbench: %v\n", lerr)
		}
		if errs[i] == nil || codes[i] >= 0 {
			if cerr := cl.collect(cctx, pod, filepath.Join(absDir, runner.WorkersDirName, strconv.Itoa(i))); cerr != nil && errs[i] == nil {
				errs[i] = cerr
			}
		}
		cancel()
	}
	if gerr != nil {
		return res, fmt.Errorf("workers: %w", gerr)
	}
	lr, err := runner.MergeWorkers(ctx, dir, absDir, n, codes, errs)
	if err != nil {
		return res, err
	}
	faults.RevertAll()
	poll.Sleep(ctx, blackbox.DefaultSettle) // answers the clients gave up on may still be committing
	src, closeSrc, err := cl.truthSource(context.WithoutCancel(ctx), a)
	if err != nil {
		return res, err
	}
	defer closeSrc()
	truth, err := runner.CheckTruth(plan, spec.Seed, lr.Ledger, cfg, src)
	if err != nil {
		return res, err
	}
	return runner.Judge(plan, a, dir, lr, truth, injections, res.Knobs, nil)
}

// split separates the stack's objects from the loaders' Job.
func split(objs []runtime.Object) (stackObjs, job []runtime.Object) {
	for _, o := range objs {
		if _, ok := o.(*batchv1.Job); ok {
			job = append(job, o)
		} else {
			stackObjs = append(stackObjs, o)
		}
	}
	return stackObjs, job
}

// stage is a part of the stack to apply and the Deployments to wait for before the next.
type stage struct {
	objs        []runtime.Object
	deployments []string
}

// splitAt cuts objs before the Deployment named name: what comes before it is ready first.
func splitAt(objs []runtime.Object, name string) []stage {
	var out []stage
	cur := stage{}
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			if d.Name == name && len(cur.objs) > 0 {
				out = append(out, cur)
				cur = stage{}
			}
			cur.deployments = append(cur.deployments, d.Name)
		}
		cur.objs = append(cur.objs, o)
	}
	return append(out, cur)
}

// listenAddr is the address the clock and the gate are served on: Options.Listen, else this machine's
// address on the network of the stack's pods (the node's bridge of a cluster on this machine), which
// the workers' --in-cluster rule allows as part of their own pod network.
func (p *Prepared) listenAddr(ctx context.Context, cl *Cluster) (string, error) {
	if p.opts.Listen != "" {
		return p.opts.Listen, nil
	}
	pods, err := cl.pods(ctx, deployRedis)
	if err != nil || len(pods) == 0 {
		return "", fmt.Errorf("find the pods' network: no redis pod (%v)", err)
	}
	ip := podIP(pods[0])
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("list this machine's addresses: %w", err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		pfx, err := netip.ParsePrefix(n.String())
		if err == nil && !pfx.Addr().IsLoopback() && pfx.Masked().Contains(ip) {
			return pfx.Addr().String(), nil
		}
	}
	return "", BadInput{fmt.Errorf("no address of this machine is on the pods' network (redis pod at %s): give --listen, an address "+
		"of this machine the pods reach, for the workers' clock and start gate", ip)}
}

// waitLoaders waits until every loader pod's worker container has ended and returns, by completion
// index, the pod, the worker's exit code (-1 when it did not end) and why it could not be waited for.
// Ctrl-C (ctx) or the bound (wctx) ends the wait: the workers that did not end are errors.
func (c *Cluster) waitLoaders(ctx, wctx context.Context, n int) (pods []string, codes []int64, errs []error) {
	pods, codes, errs = make([]string, n), make([]int64, n), make([]error, n)
	for i := range codes {
		codes[i] = -1
	}
	both, cancel := context.WithCancel(wctx)
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			cancel()
		case <-both.Done():
		}
	}()
	err := until(both, time.Second, func(ctx context.Context) error {
		list, err := c.podsOf(ctx, "loader")
		if err != nil {
			return err
		}
		ended := 0
		for _, p := range list {
			idx, ok := p.Labels[batchv1.JobCompletionIndexAnnotation] // a label too since Kubernetes 1.28
			if !ok {
				idx = p.Annotations[batchv1.JobCompletionIndexAnnotation]
			}
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= n {
				continue
			}
			pods[i] = p.Name
			for _, s := range p.Status.ContainerStatuses {
				if s.Name == "worker" && s.State.Terminated != nil {
					codes[i] = int64(s.State.Terminated.ExitCode)
					ended++
				}
				if w := s.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "CreateContainerError") {
					return fatal{fmt.Errorf("loader pod %s, container %s: %s: %s", p.Name, s.Name, w.Reason, w.Message)}
				}
			}
		}
		if ended < n {
			return fmt.Errorf("%d of %d workers ended", ended, n)
		}
		return nil
	})
	for i := range n {
		switch {
		case codes[i] >= 0:
		case pods[i] == "":
			errs[i] = fmt.Errorf("loader %d: no pod (%v)", i, err)
		default:
			errs[i] = fmt.Errorf("loader %d (pod %s) did not end: %v", i, pods[i], err)
		}
	}
	return pods, codes, errs
}

// truthSource reads the ground truth through port-forwards: Redis's for the reference API's store, and
// one API pod's port for the contract and the invariants (the black-box checker, a declared scenario).
func (c *Cluster) truthSource(ctx context.Context, a arch.Arch) (runner.TruthSource, func(), error) {
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var api []string
	err := poll.Until(wctx, 500*time.Millisecond, func(ctx context.Context) error {
		ps, err := c.pods(ctx, deployAPI)
		if err != nil || len(ps) == 0 {
			return fmt.Errorf("no ready api pod (%v)", err)
		}
		api = []string{ps[0].Name}
		return nil
	})
	if err != nil {
		return runner.TruthSource{}, closeAll, fmt.Errorf("read the ground truth: %w", err)
	}
	addr, stop, err := c.forward(wctx, api[0], c.port)
	if err != nil {
		return runner.TruthSource{}, closeAll, err
	}
	closers = append(closers, stop)
	src := runner.TruthSource{Entry: "http://" + addr}
	if !a.Service.Custom() {
		rp, err := c.pods(wctx, deployRedis)
		if err != nil || len(rp) == 0 {
			return src, closeAll, fmt.Errorf("read the ground truth: no ready redis pod (%v)", err)
		}
		raddr, stop, err := c.forward(wctx, rp[0].Name, arch.RedisPort)
		if err != nil {
			return src, closeAll, err
		}
		closers = append(closers, stop)
		src.Store = func(ctx context.Context, l load.LedgerSnapshot) (results.Findings, error) {
			rdb := redis.NewClient(&redis.Options{Addr: raddr})
			defer rdb.Close()
			return runner.RedisCheck(ctx, rdb, l)
		}
	}
	return src, closeAll, nil
}

// saveStackLogs writes every stack pod's log into dir (api-<pod>.log, redis-<pod>.log), as the Docker
// stack saves its containers'.
func (c *Cluster) saveStackLogs(ctx context.Context, dir string) {
	for _, comp := range []string{deployAPI, deployRedis} {
		pods, err := c.podsOf(ctx, comp)
		if err != nil {
			continue
		}
		for _, p := range pods {
			_ = c.saveLog(ctx, p.Name, comp, filepath.Join(dir, comp+"-"+p.Name+".log"))
		}
	}
}
