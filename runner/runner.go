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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/blackbox"
	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/invariants"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/redis/go-redis/v9"
)

// Outcome is a finished (or interrupted) run.
type Outcome struct {
	Summary results.Summary
	Dir     string   // the run folder
	Reports []string // files written
}

// Run runs plan once per architecture, each on a fresh stack, and writes the
// run folder. It returns the summary of what was measured even when the run
// was interrupted (ctx cancelled) or one architecture failed; the error says
// what went wrong. Faults are always reverted and stacks always removed.
func Run(ctx context.Context, plan scenarios.Plan, opts ...Option) (Outcome, error) {
	cfg := RunConfig{Scale: 1}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return Outcome{}, err
		}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	archs := plan.Architectures
	if len(cfg.Archs) > 0 {
		archs = nil
		for _, n := range cfg.Archs {
			a, ok := plan.Arch(n)
			if !ok {
				var names []string
				for _, a := range plan.Architectures {
					names = append(names, a.Name)
				}
				return Outcome{}, fmt.Errorf("architecture %q is not in scenario %s (it has %s)", n, plan.Name, strings.Join(names, ", "))
			}
			archs = append(archs, a)
		}
	}
	plan = plan.Scaled(cfg.Scale)
	seed := plan.Seed
	if cfg.Seed != nil {
		seed = *cfg.Seed
	} else if !plan.SeedSet {
		seed = rand.Int64N(1 << 40)
	}
	started := time.Now()
	dir := cfg.OutDir
	if dir == "" {
		dir = filepath.Join("runs", started.UTC().Format("20060102-150405")+"-"+plan.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Outcome{}, fmt.Errorf("create run folder: %w", err)
	}
	out := Outcome{Dir: dir, Summary: results.Summary{
		Schema: results.SchemaVersion, Scenario: plan.Name, Description: plan.Description,
		Seed: seed, Scale: cfg.Scale, StartedAt: started.UTC(),
	}}
	fmt.Fprintf(cfg.Log, "chaosbench: scenario %s (seed %d, scale %g), %d architecture(s), %s of load each; run folder %s\n",
		plan.Name, seed, cfg.Scale, len(archs), plan.Duration(), dir)

	// Every planned architecture gets an entry, whatever happens to it: one
	// that did not start or was never reached is "errored", so that the
	// verdict of the run cannot be decided by the architectures that did run.
	var errs []error
	for i, a := range archs {
		if ctx.Err() != nil {
			out.Summary.Architectures = append(out.Summary.Architectures, results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas),
				Error: "not run: the run was interrupted before it"})
			continue
		}
		fmt.Fprintf(cfg.Log, "chaosbench: [%d/%d] %s\n", i+1, len(archs), a.Name)
		res, err := runArch(ctx, plan, a, seed, filepath.Join(dir, a.Name), cfg)
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
		if errors.Is(err, stack.ErrImagesMissing) {
			// Every architecture would fail the same way.
			for _, b := range archs[i+1:] {
				out.Summary.Architectures = append(out.Summary.Architectures, results.Arch{Name: b.Name, Knobs: results.KnobsOf(b, plan.Replicas),
					Error: "not run: " + err.Error()})
			}
			break
		}
	}
	out.Summary.DurationS = time.Since(started).Seconds()
	out.Summary.Verdict = results.RunVerdict(out.Summary)
	out.Summary.Passed = out.Summary.Verdict == results.StatusPassed
	paths, werr := results.WriteReports(dir, out.Summary)
	out.Reports = paths
	errs = append(errs, werr)
	return out, errors.Join(errs...)
}

// engineSeed turns the scenario's seed into the load engine's, where 0
// means "pick one at random": a splitmix64 step, so that every scenario
// seed, 0 included, is a real one and a run can be replayed from the seed
// its summary records.
func engineSeed(seed int64) uint64 {
	z := uint64(seed) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) | 1
}

// cleanupTimeout bounds reverting faults and removing a stack after the run
// (or after Ctrl-C, when the run's context is already cancelled).
const cleanupTimeout = 60 * time.Second

// The files the runner adds to an architecture's folder, beside the load's
// (load.RecordsFileName and the others).
const (
	hgrmFileName = "latency.hgrm" // the whole run's latency distribution
	logsDirName  = "logs"         // the containers' logs
)

// runArch runs one architecture on its own stack. It always returns the
// architecture's entry; an error means it did not run to the end (whatever
// it measured is still in the entry). A fault that could not be injected or
// reverted is not such an error: it is recorded on the fault, and makes the
// architecture invalid.
func runArch(ctx context.Context, plan scenarios.Plan, a arch.Arch, seed int64, dir string, cfg RunConfig) (res results.Arch, err error) {
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
		st.SaveLogs(cctx, filepath.Join(dir, logsDirName))
		if derr := st.Down(cctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("stack down: %w", derr))
		}
	}()

	// The faults act on this stack through chaos's port; *stack.Stack is its Docker implementation.
	env := chaos.NewEnv(st, seed)
	env.Log = cfg.Log
	inj := chaos.NewInjector(env)
	// Reverting is always attempted; a revert that fails is recorded on
	// its fault (and so in the verdict), not turned into a run error.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_ = inj.RevertAll(cctx)
	}()

	// Faults start on the load's clock: OnStart fires once clients are set
	// up, and every fault waits for its offset from that instant. Each
	// planned fault ends with a record in its slot, injected or not, so the
	// summary lists them in the scenario's order and none can vanish.
	var wg sync.WaitGroup
	faultCtx, stopFaultsCause := context.WithCancelCause(ctx)
	stopFaults := func() { stopFaultsCause(errLoadEnded) }
	defer stopFaults()
	injections := make([]chaos.Injection, len(plan.Faults))
	onStart := func(start time.Time) {
		env.Start = start
		for i, fp := range plan.Faults {
			wg.Add(1)
			go func() {
				defer wg.Done()
				injections[i] = runFault(faultCtx, inj, fp, start)
			}()
		}
	}

	lopts := []load.Option{load.OnStart(onStart), load.WithLogger(slog.New(slog.NewTextHandler(cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		load.WithProgress(cfg.Log, cfg.Progress)}
	starts := []func(time.Time){onStart}
	lcfg := LoadConfig(plan, a, seed, st.Entry)
	lcfg.RunDir = dir
	if roots := st.RootCAs(); roots != nil {
		lcfg.TLS = stack.ClientTLS(roots) // the run's certificate, and nothing else
	}
	edge := startEdgeWatch(ctx, st, a.Edge)
	started := false
	if edge != nil {
		begin := func(t time.Time) { started = true; edge.begin(t) }
		lopts = append(lopts, load.OnStart(begin))
		starts = append(starts, begin)
	}
	var lr *load.Result
	var lerr error
	if cfg.Workers > 0 {
		// The same plan from loader containers, merged into this folder (workers.go).
		lr, lerr = runWorkers(ctx, st, plan, a, seed, dir, cfg, starts)
	} else {
		lr, lerr = load.Run(ctx, lcfg, lopts...)
	}
	edgeStats := edge.stop(ctx, started)
	stopFaults()
	wg.Wait()
	if lerr != nil && lr == nil {
		return res, fmt.Errorf("load: %w", lerr)
	}

	// Ground truth, once the load is over, every fault reverted and the service had a moment to settle
	// (answers the clients gave up on may still be committing): from Redis for the reference API, through
	// the contract for a user's image, whose storage chaosbench does not know.
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = inj.RevertAll(cctx)
	// An interrupted run skips the wait, not the check: what was measured is still written.
	sleepCtx(ctx, blackbox.DefaultSettle)
	var findings, blackBox results.Findings
	var invariantReads []results.InvariantRead
	blackBoxOnly := a.Service.Custom() || plan.Attach != nil // storage chaosbench does not know
	if plan.Declared() {
		// The scenario's own invariants, read back through its API (package invariants); without any,
		// every check is "not checked", and a threshold on it fails as not measured.
		f, reads, cerr := declaredCheck(cctx, plan, st.Entry, uint64(seed), lr.Ledger, lcfg.TLS, cfg.Log)
		if cerr != nil {
			return res, fmt.Errorf("check the invariants through the API: %w", cerr)
		}
		findings, invariantReads = f, reads
	} else if !blackBoxOnly {
		raddr, aerr := st.RedisHostAddr(cctx) // a Redis restart may have moved its host port
		if aerr != nil {
			return res, fmt.Errorf("find redis for the checker: %w", aerr)
		}
		rdb := redis.NewClient(&redis.Options{Addr: raddr})
		defer rdb.Close()
		f, cerr := waitAndCheck(cctx, rdb, lr.Ledger)
		if cerr != nil {
			return res, fmt.Errorf("check ground truth: %w", cerr)
		}
		findings = f
	}
	if !plan.Declared() && (blackBoxOnly || cfg.CrossCheck) {
		var bopts []blackbox.Option
		if lcfg.TLS != nil { // the run's certificate, as the load trusted it
			bopts = append(bopts, blackbox.WithHTTPClient(&http.Client{Timeout: 10 * time.Second,
				Transport: &http.Transport{Proxy: nil, TLSClientConfig: lcfg.TLS}}))
		}
		f, cerr := blackBoxCheck(cctx, st.Entry, lr.Ledger, cfg.Log, bopts...)
		if cerr != nil {
			return res, fmt.Errorf("check ground truth through the API: %w", cerr)
		}
		if blackBoxOnly {
			findings = f
		} else {
			blackBox = f
		}
	}

	var exprs []results.Expr
	for _, t := range plan.ThresholdsFor(a.Name) {
		e, err := results.BindThreshold(t.Expr)
		if err != nil {
			return res, err
		}
		exprs = append(exprs, e)
	}
	var faults []results.FaultRecord
	for _, in := range injections {
		faults = append(faults, results.FaultRecord{Kind: in.Kind, Target: in.Target, Resolved: in.Resolved,
			Mechanism: in.Mechanism, Begin: in.Begin, Start: in.Start, End: in.End, Error: in.Error,
			HealthBefore: in.HealthBefore, Ready: in.Ready})
	}
	records := func(fn func(load.Record) error) error {
		f, err := os.Open(lr.Files.Records)
		if err != nil {
			return err
		}
		defer f.Close()
		return load.ReadRecords(f, fn)
	}
	res, aerr := results.Analyze(results.Input{
		Name: a.Name, Records: records, Load: lr, Findings: findings, Invariants: invariantReads, Faults: faults, Thresholds: exprs, Knobs: res.Knobs,
		Edge: edgeStats,
	})
	if aerr != nil {
		return results.Arch{Name: a.Name, Knobs: results.KnobsOf(a, plan.Replicas)}, aerr
	}
	res.BlackBox = blackBox
	hgrm := filepath.Join(dir, hgrmFileName)
	if herr := results.WriteHgrmFile(hgrm, lr.Latency("", ""), 1000); herr != nil {
		err = errors.Join(err, herr)
	}
	res.Files = map[string]string{"hgrm": a.Name + "/" + hgrmFileName, "records": a.Name + "/" + load.RecordsFileName,
		"ledger": a.Name + "/" + load.LedgerFileName, "orders": a.Name + "/" + load.OrdersFileName,
		"hlog": a.Name + "/" + load.HLogFileName, "logs": a.Name + "/" + logsDirName}
	return res, errors.Join(err, lerr)
}

// NotCheckedDeclared is why a scenario of declared ops that declares no invariant and no session has
// none of the checks.
const NotCheckedDeclared = "declared ops without invariants: this check reads the contract's orders, resources " +
	"and sessions, which they do not write; declare invariants (docs/scenarios.md, \"Invariants\") to check yours"

// NotCheckedNoSession is why the session checks of a declared client without a session are not checked.
const NotCheckedNoSession = "the declared client has no session (client.session: {token, unknown, lifetime})"

// declaredCheck reads a declared scenario's invariants through its API at entry and judges the ledger
// against them.
func declaredCheck(ctx context.Context, plan scenarios.Plan, entry string, seed uint64, l load.LedgerSnapshot,
	tlsCfg *tls.Config, log io.Writer) (results.Findings, []results.InvariantRead, error) {
	if len(plan.Invariants) == 0 && (plan.Client == nil || plan.Client.Session == nil) {
		return results.NotChecked(NotCheckedDeclared), nil, nil
	}
	var opts []invariants.Option
	if tlsCfg != nil { // the run's certificate, as the load trusted it
		opts = append(opts, invariants.WithHTTPClient(&http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{Proxy: nil, TLSClientConfig: tlsCfg}}))
	}
	icfg := invariants.Config{Base: entry, Client: plan.EngineClient(), Invariants: plan.Invariants, Seed: seed}
	if plan.Retry.On != nil {
		icfg.RetryStatuses = plan.Retry.On.Statuses
	}
	truth, err := invariants.Read(ctx, icfg, l, opts...)
	if err != nil {
		return nil, nil, err
	}
	if log != nil {
		for _, r := range truth.Reads {
			fmt.Fprintln(log, r)
		}
	}
	copts := []results.CheckOption{results.DeclaredWrites()}
	if plan.Client == nil || plan.Client.Session == nil {
		copts = append(copts, results.NoSessions(NotCheckedNoSession))
	}
	f, err := results.CheckLedger(ctx, truth, l, copts...)
	return f, truth.Reads, err
}

// errLoadEnded is why the faults' context ends when the load is over: a fault still waiting for its time
// then did not run because the load was shorter, not because the run was interrupted.
var errLoadEnded = errors.New("the load ended")

// runFault waits for fp's time on the load's clock, injects it, holds it and
// reverts it, and returns its record: a failed or never-started fault is
// recorded with why.
func runFault(ctx context.Context, inj *chaos.Injector, fp scenarios.FaultPlan, start time.Time) chaos.Injection {
	f, err := chaos.New(fp.Kind, fp.Params)
	if err != nil { // validated before; a failure here is a bug, and still accounted for
		return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("build %s: %w", fp.Kind, err))
	}
	t := time.NewTimer(time.Until(start.Add(fp.At)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		if cause := context.Cause(ctx); !errors.Is(cause, errLoadEnded) {
			return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("not injected: the run was interrupted (%v) before %s", cause, fp.At))
		}
		return inj.NotRun(fp.Kind, fp.Params, fp.Target, fmt.Errorf("not injected: the load ended before %s", fp.At))
	}
	rec, _ := inj.Run(ctx, f, fp.Params, fp.Target, fp.For)
	return rec
}

// waitAndCheck reads ground truth, waiting briefly for a Redis that a fault
// just restarted to load its data.
func waitAndCheck(ctx context.Context, rdb *redis.Client, l load.LedgerSnapshot) (results.Findings, error) {
	if err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) error { return rdb.Ping(ctx).Err() }); err != nil {
		return nil, fmt.Errorf("redis did not answer: %w", err)
	}
	return results.CheckLedger(ctx, keyspace.NewRedisTruth(rdb), l)
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

// blackBoxCheck reads ground truth through the service's own API (package blackbox) and runs the checks
// on it.
func blackBoxCheck(ctx context.Context, entry string, l load.LedgerSnapshot, log io.Writer, bopts ...blackbox.Option) (results.Findings, error) {
	truth, err := blackbox.Read(ctx, entry, load.DefaultPassword, l, append([]blackbox.Option{blackbox.WithSettle(0)}, bopts...)...)
	if err != nil {
		return nil, err
	}
	if log != nil {
		fmt.Fprintf(log, "ground truth through the API: %s\n", truth)
	}
	return results.CheckLedger(ctx, truth, l)
}

// sleepCtx waits d, or less when ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
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
