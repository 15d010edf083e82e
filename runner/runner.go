// Package runner runs a scenario: for each architecture of its plan, the
// stack up, the clients, the load phases with faults on the load's clock,
// every fault reverted, ground truth read from Redis, the analysis, the
// stack down; then the run folder's reports. Package scenarios only parses
// and validates; this package is what starts containers.
package runner

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// Outcome is a finished (or interrupted) run.
type Outcome struct {
	Summary results.Summary
	Dir     string   // the run folder
	Reports []string // files written
}

// Run runs spec once per architecture, each on a fresh stack, and writes the run folder. It returns the
// summary of what was measured even when the run was interrupted (ctx cancelled) or one architecture
// failed; the error says what went wrong. Faults are always reverted and stacks always removed. What runs
// is spec's (scenarios.Plan.Spec, the one check of it); opts say where the output goes.
func Run(ctx context.Context, spec scenarios.RunSpec, opts ...Option) (Outcome, error) {
	return RunOn(ctx, spec, runArch, opts...)
}

// ArchFunc runs one architecture of spec into dir and returns its entry, as the Docker runner's runArch
// does: always the entry, and an error when it did not run to the end (whatever it measured is still in
// the entry). Another place to run (a Kubernetes cluster: package k8srun) is another ArchFunc.
type ArchFunc func(ctx context.Context, spec scenarios.RunSpec, a arch.Arch, dir string, cfg RunConfig) (results.Arch, error)

// RunOn is Run with each architecture run by runArch: the one run folder, summary, verdict and reports,
// whatever runs the architectures.
func RunOn(ctx context.Context, spec scenarios.RunSpec, runArch ArchFunc, opts ...Option) (Outcome, error) {
	var cfg RunConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return Outcome{}, err
		}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	plan, archs, seed := spec.Plan, spec.Archs, spec.Seed
	started := time.Now()
	dir := cfg.OutDir
	if dir == "" {
		dir = runfolder.Default(started, plan.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Outcome{}, fmt.Errorf("create run folder: %w", err)
	}
	out := Outcome{Dir: dir, Summary: results.Summary{
		Schema: results.SchemaVersion, Scenario: plan.Name, Description: plan.Description,
		Seed: seed, Scale: spec.Scale, StartedAt: started.UTC(),
	}}
	fmt.Fprintf(cfg.Log, "chaosbench: scenario %s (seed %d, scale %g), %d architecture(s), %s of load each; run folder %s\n",
		plan.Name, seed, spec.Scale, len(archs), plan.Duration(), dir)
	archNames := make([]string, len(archs))
	for i, a := range archs {
		archNames[i] = a.Name
	}
	cfg.observe(RunStarted{Scenario: plan.Name, Archs: archNames, Dir: dir})

	// Every planned architecture gets an entry, whatever happens to it: one
	// that did not start or was never reached is "errored", so that the
	// verdict of the run cannot be decided by the architectures that did run.
	var errs []error
	for i, a := range archs {
		if ctx.Err() != nil {
			out.Summary.Architectures = append(out.Summary.Architectures, results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas),
				Error: "not run: the run was interrupted before it"})
			cfg.observe(ArchDone{Arch: out.Summary.Architectures[len(out.Summary.Architectures)-1]})
			continue
		}
		fmt.Fprintf(cfg.Log, "chaosbench: [%d/%d] %s\n", i+1, len(archs), a.Name)
		res, err := runArch(ctx, spec, a, filepath.Join(dir, a.Name), cfg)
		if ctx.Err() != nil {
			// The load stops quietly when its context ends: what it measured
			// is a partial run, never a verdict.
			err = errors.Join(err, fmt.Errorf("interrupted (%w) before the load's end", context.Cause(ctx)))
		}
		if err != nil {
			res.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", a.Name, err))
		}
		out.Summary.Architectures = append(out.Summary.Architectures, res)
		cfg.observe(ArchDone{Arch: res})
		if errors.Is(err, stack.ErrImagesMissing) {
			// Every architecture would fail the same way.
			for _, b := range archs[i+1:] {
				out.Summary.Architectures = append(out.Summary.Architectures, results.Arch{Name: b.Name, Knobs: results.KnobsOf(b, plan.Replicas),
					Error: "not run: " + err.Error()})
				cfg.observe(ArchDone{Arch: out.Summary.Architectures[len(out.Summary.Architectures)-1]})
			}
			break
		}
	}
	out.Summary.DurationS = time.Since(started).Seconds()
	out.Summary.Verdict = results.RunVerdict(out.Summary)
	out.Summary.Passed = out.Summary.Verdict == results.StatusPassed
	paths, werr := render.WriteReports(dir, out.Summary)
	out.Reports = paths
	errs = append(errs, werr)
	cfg.observe(RunDone{Summary: out.Summary, Reports: paths})
	return out, errors.Join(errs...)
}

// cleanupTimeout bounds reverting faults and removing a stack after the run
// (or after Ctrl-C, when the run's context is already cancelled).
const cleanupTimeout = 60 * time.Second

// runArch runs one architecture on its own stack: start it, arm the faults on the load's clock, drive
// the load, read the ground truth once the faults are reverted, analyze. It always returns the
// architecture's entry; an error means it did not run to the end (whatever it measured is still in the
// entry). A fault that could not be injected or reverted is not such an error: it is recorded on the
// fault, and makes the architecture invalid.
func runArch(ctx context.Context, spec scenarios.RunSpec, a arch.Arch, dir string, cfg RunConfig) (res results.Arch, err error) {
	plan := spec.Plan
	res = results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("create folder: %w", err)
	}
	st, err := startStack(ctx, plan, a, cfg)
	if err != nil {
		return res, err
	}
	if plan.Attach != nil {
		res.Knobs = results.Knobs{Attached: cmp.Or(plan.Attach.Project, plan.Attach.URL), Replicas: len(st.Nodes)}
	}
	// Cleanup runs on a context of its own: after Ctrl-C the run's context
	// is cancelled, and the stack must still go.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		st.SaveLogs(cctx, runfolder.Arch(dir).Logs())
		if derr := st.Down(cctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("stack down: %w", derr))
		}
	}()

	cfg.observe(ArchStarted{Arch: a.Name, Containers: containerNames(st)})
	faults := ArmFaults(ctx, st, plan, spec.Seed, cfg.Log, chaos.New)
	if cfg.Observer != nil {
		faults.inj.Watch(func(i chaos.Injection) { cfg.observe(FaultChanged{Arch: a.Name, Injection: i}) })
	}
	defer faults.RevertAll()
	lr, edge, lerr := driveLoad(ctx, st, spec, a, dir, cfg, faults.OnStart)
	injections := faults.Stop()
	if lerr != nil && lr == nil {
		return res, fmt.Errorf("load: %w", lerr)
	}
	truth, err := readTruth(ctx, st, plan, a, spec.Seed, lr.Ledger, cfg, faults)
	if err != nil {
		return res, err
	}

	res, err = Judge(plan, a, dir, lr, truth, injections, res.Knobs, edge)
	return res, errors.Join(err, lerr)
}

// Judge is what every run of an architecture ends with, wherever its load ran: the analysis of the load's
// records against the ground truth and the faults, the plan's thresholds, the histogram file, and the
// entry's files. An error with an entry means the histogram was not written; an analysis that failed
// returns a bare entry.
func Judge(plan scenarios.Plan, a arch.Arch, dir string, lr *load.Result, truth Truth, injections []chaos.Injection,
	knobs results.Knobs, edge *results.EdgeStats) (results.Arch, error) {
	var exprs []results.Expr
	for _, t := range plan.ThresholdsFor(a.Name) {
		e, err := results.BindThreshold(t.Expr)
		if err != nil {
			return results.Arch{Name: a.Name, Knobs: knobs}, err
		}
		exprs = append(exprs, e)
	}
	res, aerr := results.Analyze(results.Input{
		Name: a.Name, Records: recordsOf(lr), Load: lr, Findings: truth.findings, Invariants: truth.reads,
		Faults: injections, Thresholds: exprs, Knobs: knobs, Edge: edge,
	})
	if aerr != nil {
		return results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas)}, aerr
	}
	res.BlackBox = truth.blackBox
	var err error
	hgrm := runfolder.Arch(dir).Hgrm()
	if herr := results.WriteHgrmFile(hgrm, lr.Latency("", ""), 1000); herr != nil {
		err = herr
	}
	res.Files = runfolder.ArchFiles(a.Name)
	return res, err
}

// driveLoad sends spec's load at st, from this process or from loader containers (spec.Workers), with
// onStart called once the clients are set up; it returns what the load measured and, for an architecture
// with an edge, what the edge saw.
func driveLoad(ctx context.Context, st *stack.Stack, spec scenarios.RunSpec, a arch.Arch, dir string,
	cfg RunConfig, onStart func(time.Time)) (*load.Result, *results.EdgeStats, error) {
	starts := []func(time.Time){onStart}
	edge := startEdgeWatch(ctx, st, a.Edge)
	started := false
	if edge != nil {
		starts = append(starts, func(t time.Time) { started = true; edge.begin(t) })
	}
	var lr *load.Result
	var err error
	if spec.Workers > 0 {
		// The same plan from loader containers, merged into this folder (workers.go).
		lr, err = runWorkers(ctx, st, spec, a, dir, cfg, starts)
	} else {
		lcfg := spec.LoadConfig(a, st.Entry)
		lcfg.RunDir = dir
		lcfg.TLS = clientTLS(st)
		lopts := []load.Option{load.WithLogger(slog.New(slog.NewTextHandler(cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))),
			load.WithProgress(cfg.Log, cfg.Progress)}
		for _, fn := range starts {
			lopts = append(lopts, load.OnStart(fn))
		}
		if cfg.Observer != nil {
			lopts = append(lopts, load.OnLive(func(l load.Live) { cfg.observe(LoadSecond{Arch: a.Name, Live: l}) }))
		}
		lr, err = load.Run(ctx, lcfg, lopts...)
	}
	return lr, edge.stop(ctx, started), err
}

// clientTLS is the TLS configuration that trusts st's certificate and nothing else (nil: plain HTTP).
func clientTLS(st *stack.Stack) *tls.Config {
	if roots := st.RootCAs(); roots != nil {
		return stack.ClientTLS(roots)
	}
	return nil
}

// recordsOf streams lr's records.jsonl, for the analysis.
func recordsOf(lr *load.Result) func(fn func(load.Record) error) error {
	return func(fn func(load.Record) error) error {
		f, err := os.Open(lr.Files.Records)
		if err != nil {
			return err
		}
		defer f.Close()
		return load.ReadRecords(f, fn)
	}
}

// startStack starts the architecture's stack, or attaches to the running project the scenario names
// (starting nothing: then only the load's URL, on this machine, and the project's containers are touched).
func startStack(ctx context.Context, plan scenarios.Plan, a arch.Arch, cfg RunConfig) (*stack.Stack, error) {
	id := runID(plan.Name, a.Name)
	if at := plan.Attach; at != nil {
		if err := local.CheckURL(ctx, at.URL); err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		opts := append([]stack.Option{stack.WithLog(cfg.Log), stack.WithRunID(id)}, cfg.StackOptions...)
		st, err := stack.Attach(ctx, stack.Attachment{URL: at.URL, Project: at.Project, API: at.API, Redis: at.Redis,
			Nginx: at.Nginx, Service: plan.Service}, opts...)
		if err != nil {
			return nil, err
		}
		if err := st.WaitReadyWithin(ctx, 30*time.Second); err != nil {
			return nil, errors.Join(fmt.Errorf("attach: not ready: %w", err), st.Down(context.WithoutCancel(ctx)))
		}
		return st, nil
	}
	sopts := []stack.Option{stack.WithArchitecture(a), stack.WithReplicas(plan.Replicas), stack.WithRedis(plan.Redis),
		stack.WithLog(cfg.Log), stack.WithRunID(id)}
	if plan.SessionTTL > 0 {
		sopts = append(sopts, stack.WithRefapiEnv("SESSION_TTL", plan.SessionTTL.String()))
	}
	if plan.TokenLeeway != nil {
		sopts = append(sopts, stack.WithRefapiEnv("TOKEN_LEEWAY", plan.TokenLeeway.String()))
	}
	st, err := stack.Up(ctx, append(sopts, cfg.StackOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("stack up: %w", err)
	}
	return st, nil
}

// *stack.Stack is the Docker side of the port through which faults act.
var _ chaos.Stack = (*stack.Stack)(nil)

// runID names one architecture's stack: readable in `docker ps`, unique per run.
func runID(scenario, arch string) string {
	id := fmt.Sprintf("%s-%s-%04x", scenario, arch, rand.IntN(1<<16))
	if len(id) > 48 {
		id = id[:48]
	}
	return id
}
