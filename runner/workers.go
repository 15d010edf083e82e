package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// LoaderImage is the loader image (the static chaosbench binary alone, deploy/images/build.sh):
// CHAOSBENCH_LOADER_IMAGE, else what `make images` builds.
func LoaderImage() string {
	if v := os.Getenv("CHAOSBENCH_LOADER_IMAGE"); v != "" {
		return v
	}
	return arch.DefaultLoaderImage
}

// WorkerSetupBound is how long the loader containers may take to start and set up their clients
// (sign-up and login: bcrypt on the service's side) before the run gives up on them. The start waits
// for setup (load.Gate), not for this bound, so the bound only has to be generous: a fixed part for the
// containers, and per client, for each pair of a declared client's setup steps (the built-in setup is two
// requests), 200 ms, several times what two bcrypts of cost 10 take on a loaded core.
func WorkerSetupBound(plan scenarios.Plan, workers int) time.Duration {
	per := (plan.Clients + workers - 1) / max(workers, 1)
	pairs := 1
	if plan.Client != nil {
		pairs = max(1, (len(plan.Client.Setup)+1)/2)
	}
	return min(30*time.Second+time.Duration(per*pairs)*200*time.Millisecond, 3*time.Minute)
}

// WorkersDirName is where the workers' own run folders go, inside the architecture's folder: the merged
// files are the architecture's, as in a run of one engine.
const WorkersDirName = "workers"

// runWorkers carries the load of one architecture with spec.Workers loader containers on st's network,
// calls onStart at the shared start instant (faults and the edge watch run on that clock), waits for
// every worker, and merges their folders into dir. The containers carry the run label: they are removed
// here, and by the stack's Down on any path (Ctrl-C included).
func runWorkers(ctx context.Context, st *stack.Stack, spec scenarios.RunSpec, a arch.Arch, dir string,
	cfg RunConfig, onStart []func(time.Time)) (*load.Result, error) {
	plan, n := spec.Plan, spec.Workers
	if st.Attached() || st.CertPEM() != nil { // what Plan.Spec refused, should a stack disagree with its plan
		return nil, errors.New("workers: the stack is attached or serves TLS")
	}
	img := LoaderImage()
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	gate := load.NewGate(n)
	clockURL, gateURL, stopClock, err := ServeClock(st.Gateway.String(), gate)
	if err != nil {
		return nil, err
	}
	defer stopClock()
	run, err := newWorkerRun(plan, clockURL, gateURL)
	if err != nil {
		return nil, err
	}
	bound := WorkerSetupBound(plan, n)
	fmt.Fprintf(cfg.Log, "chaosbench: %d load workers (%s) on %s, starting together once all are set up (within %s)\n",
		n, img, st.Network, bound)
	loaders, err := run.loaders(st, a, spec.Seed, spec.Scale, absDir, n)
	if err != nil {
		return nil, err
	}
	lds, err := st.CreateLoaders(ctx, img, loaders)
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	defer lds.Remove(ctx)
	// The waits outlive an interruption (ctx): the workers are then stopped, write what they measured
	// and exit, and that is merged like any run. They are bounded all the same: a worker's load ends at
	// the start instant (within the setup bound) plus the plan plus its grace, so past a generous margin
	// it is stopped.
	wctx, cancelWait := context.WithTimeout(context.WithoutCancel(ctx), bound+plan.Duration()+workerDrainMargin)
	defer cancelWait()
	if err := lds.Start(ctx, wctx); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	settle := FireAt(ctx, gate, bound, onStart, func() { lds.Stop(workerStopGrace) })
	codes, errs := waitWorkers(ctx, wctx, lds, absDir)
	if gerr := settle(); gerr != nil {
		return nil, fmt.Errorf("workers: %w", gerr)
	}
	return MergeWorkers(ctx, dir, absDir, n, codes, errs)
}

// ServeClock serves the coordinator's clock on host (the host's address on the run's network, or one
// a cluster's pods reach), for the workers to measure their offset against before they start, and the
// start gate they ask once set up; stop closes both.
func ServeClock(host string, gate *load.Gate) (clockURL, gateURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", "", nil, fmt.Errorf("workers: listen for the clock on %s: %w", host, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", load.ClockHandler())
	mux.Handle("/gate", gate)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	return base + "/", base + "/gate", func() { srv.Close() }, nil
}

// workerRun is what every worker of one run is told alike; each adds its segment and its folder.
type workerRun struct {
	scenario string   // the scenario argument: a built-in's name, or the mounted file
	binds    []string // the scenario file's mount, if any
	clock    string   // the coordinator's clock
	gate     string   // its start gate (load.Gate)
	runID    string
}

// newWorkerRun settles the scenario the workers read and one run id.
//
// The scenario as the workers read it: a built-in by name, a file mounted read-only. A declared
// scenario travels the same way: the worker loads the file and takes its client section, ops, mix
// and retry from it (LoadConfig, as here), the segment from its flags; its ledger keeps each of its
// clients' variables, and the merge joins them for the invariants' reads (declaredCheck). The file is
// the one definition of them, already parsed and checked by one loader, where flags or JSON would be a
// second encoding of the plan to keep in step.
func newWorkerRun(plan scenarios.Plan, clockURL, gateURL string) (workerRun, error) {
	run := workerRun{scenario: plan.Source, clock: clockURL, gate: gateURL}
	if name, ok := plan.BuiltinName(); ok {
		run.scenario = name
	} else {
		abs, err := filepath.Abs(plan.Source)
		if err != nil {
			return workerRun{}, fmt.Errorf("workers: scenario file: %w", err)
		}
		run.scenario, run.binds = "/scenario.yaml", []string{abs + ":/scenario.yaml:ro"}
	}
	// One run id for every worker (load.Config.RunID): a declared scenario's {{run.id}} names one thing
	// across them, as in one process.
	run.runID = load.NewRunID()
	return run, nil
}

// loaders are the n loader containers' commands, each with its segment and its own folder under
// absDir, which it makes.
func (run workerRun) loaders(st *stack.Stack, a arch.Arch, seed int64, scale float64, absDir string, n int) ([]stack.Loader, error) {
	port := "80"
	target := "http://" + st.Nginx.IP.String() + ":" + port
	loaders := make([]stack.Loader, n)
	for i := range n {
		wdir := filepath.Join(absDir, WorkersDirName, strconv.Itoa(i))
		if err := os.MkdirAll(wdir, 0o755); err != nil {
			return nil, fmt.Errorf("workers: %w", err)
		}
		loaders[i] = stack.Loader{Out: wdir, Binds: run.binds,
			Cmd: []string{"worker", run.scenario, "--segment", fmt.Sprintf("%d/%d", i, n), "--target", target,
				"--start", run.gate, "--seed", strconv.FormatInt(seed, 10), "--out", "/out",
				"--arch", a.Name, "--scale", strconv.FormatFloat(scale, 'g', -1, 64),
				"--clock", run.clock, "--allow-net", st.Subnet.String(), "--run-id", run.runID}}
	}
	return loaders, nil
}

// FireAt is the coordinator's side of the shared clock: faults and the edge watch start at the instant
// the gate gave the workers, as OnStart does for an engine in this process. When the workers are not all
// set up within bound, stop stops them and settle says so. Once the workers are done, settle: the hooks
// either never ran, or have returned (what they set is then safe to read).
func FireAt(ctx context.Context, gate *load.Gate, bound time.Duration, onStart []func(time.Time), stop func()) (settle func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var gateErr error
	go func() {
		defer close(done)
		gctx, cancelGate := context.WithTimeout(ctx, bound)
		at, err := gate.Wait(gctx)
		cancelGate()
		if err != nil {
			if ctx.Err() == nil { // not set up in time; an interruption or the workers' end is not that
				gateErr = fmt.Errorf("not every worker was set up within %s: %w", bound, err)
				stop()
			}
			return
		}
		if !poll.Sleep(ctx, time.Until(at)) {
			return
		}
		for _, fn := range onStart {
			fn(at)
		}
	}()
	return func() error {
		cancel()
		<-done
		return gateErr
	}
}

// waitWorkers waits for every worker, writing their logs into the run folder's logs. Ctrl-C (ctx) or
// the bound (wctx) stops the workers as a signal stops chaosbench: SIGTERM, and they write what they
// measured before they exit.
func waitWorkers(ctx, wctx context.Context, lds *stack.Loaders, absDir string) ([]int64, []error) {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-wctx.Done():
		case <-done:
			return
		}
		lds.Stop(workerStopGrace)
	}()
	codes, errs := lds.Wait(ctx, runfolder.Arch(absDir).Logs())
	close(done)
	return codes, errs
}

// MergeWorkers reads the n workers' folders (absDir/workers/I, each written by load.WriteWorker) and
// merges them into dir: the architecture's result. A worker that failed (codes[i] not 0, or errs[i]), or
// left no folder it could have written, fails the run; after an interruption (ctx), a worker that exited
// 1 having written its folder is what it measured.
func MergeWorkers(ctx context.Context, dir, absDir string, n int, codes []int64, errs []error) (*load.Result, error) {
	parts := make([]*load.Result, n)
	for i := range n {
		p, rerr := load.ReadWorker(filepath.Join(absDir, WorkersDirName, strconv.Itoa(i)))
		// An interrupted worker exits 1 after writing its folder: that folder is what it measured.
		if errs[i] == nil && codes[i] != 0 && (ctx.Err() == nil || rerr != nil) {
			errs[i] = fmt.Errorf("workers: loader %d exited %d (its log: %s)", i, codes[i], filepath.Join(runfolder.LogsDir, stack.LogName(i)))
		} else if errs[i] != nil {
			errs[i] = fmt.Errorf("workers: %w", errs[i])
		}
		if errs[i] == nil && rerr != nil {
			errs[i] = fmt.Errorf("workers: loader %d: %w", i, rerr)
		}
		parts[i] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	merged, err := load.Merge(dir, parts...)
	if err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	return merged, nil
}

// workerDrainMargin is how long past the plan's end the workers may take (grace, writing files) before
// they are stopped.
const workerDrainMargin = 2 * time.Minute

// workerStopGrace is how long a stopped worker has to write what it measured before SIGKILL: its own
// grace period is the retry budget plus a timeout.
const workerStopGrace = 20 * time.Second
