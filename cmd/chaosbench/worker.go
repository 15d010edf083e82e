package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/spf13/cobra"
)

func init() { register(newWorkerCmd) }

// workerFlags is the worker's command line: the contract that `chaosbench run --workers` and the
// Kubernetes manifests (chaosbench k8s render) call it with.
type workerFlags struct {
	segment, target, start, out, arch, ca, clock, runID string
	seed                                                int64
	scale                                               float64
	allowNets                                           []string
	inCluster                                           bool
}

func newWorkerCmd() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker SCENARIO --segment I/N --target URL --start RFC3339NANO|GATE_URL --seed S --out DIR",
		Short: "Send one segment of a scenario's load (one of several workers), write its run folder and exit",
		Long: fmt.Sprintf(`Run the load of one segment of a scenario's phases, as one of N workers that share the load: segment
I of N sends hits I+1, I+1+N, … of the whole schedule (each phase's rate split exactly, as k6's
execution segments), signs up its share of the clients (the segment in their names), and derives its
seed from the run's. No stack, no faults, no checking: the coordinator (chaosbench run --workers, or
a Kubernetes Job) starts the stack, places the faults on the same clock, merges the workers' folders
exactly (histograms by window with HdrHistogram's Merge, ledgers by key) and checks the merged run.

Every worker of a run gets the same --start and --seed. --start is the shared instant (RFC 3339 with
nanoseconds, UTC; a Kubernetes Job's), and setup must be over by then, or the worker exits 1 instead of
starting late; or it is the coordinator's start gate (a URL: chaosbench run --workers), which the worker
tells when its setup is over and which answers every worker the same instant once all are set up. With --run-id they share the run's
id too, so that a declared scenario's {{run.id}} is one value across them (without it, each worker
draws its own, and a counter named after the run is one per worker). With --clock, the worker measures
its clock's offset against the coordinator's (a URL serving Unix nanoseconds) and records it: past
%s the merged run is invalid. Without --clock the offset is recorded as not measured.

A scenario that declares its own API (a client section, ops, invariants) is read from the SCENARIO
file like any other: the worker sets up its share of the clients with the declared setup and sends the
declared ops; its ledger.json keeps each client's variables, which the coordinator's invariant reads use
after the merge.

DIR receives records.jsonl, orders.jsonl, ledger.json, latency.hlog (windows with absolute
timestamps) and worker.json (segment, seed, clock offset, totals, histograms).

The target must be on this machine: loopback, a Docker bridge of this host, or a network given with
--allow-net (the run's network, which the worker in a container sees as its own: accepted only inside a
container, and only a network it is attached to), or, with --in-cluster and only inside a Kubernetes
pod (KUBERNETES_SERVICE_HOST set and a service-account token mounted), an address of the cluster as
the pod sees it: on one of its own interfaces' subnets (the pod network), or the cluster IP of a Service
of its namespace (NAME_SERVICE_HOST, which the kubelet sets).

Exit codes: 0 done, 1 error (setup failed, started late, files not written, or interrupted: what
was measured until then is written), 2 bad input.`, results.MaxWorkerClockOffset),
		Example: `  chaosbench worker steady-baseline --segment 0/3 --target http://127.0.0.1:8080 \
      --start 2026-11-23T18:00:00Z --seed 7 --out /tmp/w0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var missing []string
			for _, name := range workerRequired {
				if !cmd.Flags().Changed(name) {
					missing = append(missing, "--"+name)
				}
			}
			if len(missing) > 0 {
				return badInput("worker: missing %s", strings.Join(missing, ", "))
			}
			return runWorker(cmd.Context(), cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.segment, "segment", "", "this worker's segment I/N, 0 ≤ I < N (required)")
	fl.StringVar(&f.target, "target", "", "the service's base URL (required)")
	fl.StringVar(&f.start, "start", "", "the run's shared start instant, RFC 3339 with nanoseconds, or the coordinator's start gate URL (required)")
	fl.Int64Var(&f.seed, "seed", 0, "the run's seed: every worker gets the same and derives its own (required)")
	fl.StringVar(&f.out, "out", "", "the folder to write the worker's run files into (required)")
	fl.StringVar(&f.arch, "arch", "", "the scenario's architecture whose load to send (default its first)")
	fl.Float64Var(&f.scale, "scale", 1, "multiply every duration, as chaosbench run --scale")
	fl.StringVar(&f.ca, "ca", "", "PEM file of the certificate(s) to trust for an https target (default the system's)")
	fl.StringVar(&f.clock, "clock", "", "the coordinator's clock URL, to measure this worker's clock offset against")
	fl.StringVar(&f.runID, "run-id", "", "the run's id, the same for every worker of a run: a declared scenario's {{run.id}} (default one of this worker's own)")
	fl.StringSliceVar(&f.allowNets, "allow-net", nil, "also allow targets in this CIDR: a network the harness created (repeatable)")
	fl.BoolVar(&f.inCluster, "in-cluster", false, "inside a Kubernetes pod only: also allow the pod's own networks and its namespace's Services (chaosbench k8s run)")
	return cmd
}

// workerRequired are the flags every worker must be given: without one, it cannot know its share, its
// target, its clock or where to write (checked here, not by cobra, so that a missing one exits 2).
var workerRequired = []string{"segment", "target", "start", "seed", "out"}

// workerPlan turns the flags into the load configuration of the worker's segment; every error is bad
// input (exit 2), naming the flag.
func workerPlan(ctx context.Context, scenario string, f workerFlags) (load.Config, []load.Option, error) {
	var cfg load.Config
	plan, err := scenarios.Load(scenario)
	if err != nil {
		return cfg, nil, usageError{err}
	}
	seg, err := load.ParseSegment(f.segment)
	if err != nil {
		return cfg, nil, badInput("--segment: %v", err)
	}
	// --start is the shared instant, or the coordinator's start gate, which answers it once every worker
	// is set up (load.Gate: chaosbench run --workers); the gate's URL is checked with the others below.
	var start time.Time
	gate := strings.HasPrefix(f.start, "http://") || strings.HasPrefix(f.start, "https://")
	if !gate {
		if start, err = time.Parse(time.RFC3339Nano, f.start); err != nil {
			return cfg, nil, badInput("--start %q: want RFC 3339, e.g. 2026-11-23T18:00:00.5Z, or the coordinator's start gate URL", f.start)
		}
	}
	if f.runID != "" && !load.ValidRunID(f.runID) {
		return cfg, nil, badInput("--run-id %q: want 1 to 32 letters, digits, '-' or '_'", f.runID)
	}
	// The run's spec as the coordinator made it (scenarios.Plan.Spec, the one check of scale and
	// architecture); the workers it is split over are checked below, by segment.
	if err := scenarios.CheckScale(f.scale); err != nil { // a 0 given is refused, not the Ask's default
		return cfg, nil, badInput("--scale %w", err)
	}
	ask := scenarios.Ask{Scale: f.scale, Seed: &f.seed}
	if f.arch != "" {
		ask.Archs = []string{f.arch}
	}
	spec, err := plan.Spec(ask)
	if err != nil {
		return cfg, nil, badInput("--%v", err)
	}
	var allowed []netip.Prefix
	for _, s := range f.allowNets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cfg, nil, badInput("--allow-net %q: want a CIDR, e.g. 10.213.7.0/24", s)
		}
		if err := local.ContainerNetwork(p.Masked()); err != nil {
			return cfg, nil, badInput("--allow-net %v", err)
		}
		allowed = append(allowed, p.Masked())
	}
	if f.inCluster {
		// Inside a pod only, the cluster as the pod sees it: its own subnets and its namespace's Services.
		nets, err := local.PodNetworks()
		if err != nil {
			return cfg, nil, badInput("%v", err)
		}
		allowed = append(allowed, nets...)
	}
	// The same locality rule as every chaosbench command (internal/local), or a network given here;
	// the engine then allows exactly the addresses that passed.
	addrs, err := checkWorkerURL(ctx, "--target", f.target, allowed)
	if err != nil {
		return cfg, nil, err
	}
	if f.clock != "" {
		if _, err := checkWorkerURL(ctx, "--clock", f.clock, allowed); err != nil {
			return cfg, nil, err
		}
	}
	if gate {
		if _, err := checkWorkerURL(ctx, "--start", f.start, allowed); err != nil {
			return cfg, nil, err
		}
		cfg.StartGate = load.AskGate(f.start, seg)
	}
	if err := plan.CheckWorkers(seg.Count); err != nil {
		return cfg, nil, badInput("--segment %s: scenario %s: %v", f.segment, plan.Name, err)
	}
	gateFn := cfg.StartGate
	cfg = spec.LoadConfig(spec.Archs[0], f.target)
	cfg.Segment, cfg.StartAt, cfg.StartGate, cfg.RunDir, cfg.RunID = seg, start, gateFn, f.out, f.runID
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return cfg, nil, badInput("--ca: %v", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return cfg, nil, badInput("--ca %s: no PEM certificate in it", f.ca)
		}
		cfg.TLS = stack.ClientTLS(roots)
	}
	var opts []load.Option
	for _, a := range addrs {
		opts = append(opts, load.WithAllowedNetworks(netip.PrefixFrom(a, a.BitLen())))
	}
	return cfg, opts, nil
}

// checkWorkerURL applies the locality rule to a URL flag and returns the addresses its host resolves to.
func checkWorkerURL(ctx context.Context, flag, raw string, allowed []netip.Prefix) ([]netip.Addr, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, badInput("%s %q: want an http:// or https:// URL with a host", flag, raw)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", u.Hostname())
	if err != nil {
		return nil, badInput("%s %q: resolve %s: %v", flag, raw, u.Hostname(), err)
	}
	inAllowed := len(addrs) > 0
	for i, a := range addrs {
		addrs[i] = a.Unmap()
		if !local.Allowed(addrs[i], allowed) {
			inAllowed = false
		}
	}
	if !inAllowed {
		if err := local.CheckURL(ctx, raw); err != nil {
			return nil, badInput("%s: %v (or give its network with --allow-net)", flag, err)
		}
	}
	return addrs, nil
}

func runWorker(ctx context.Context, cmd *cobra.Command, scenario string, f workerFlags) error {
	cfg, opts, err := workerPlan(ctx, scenario, f)
	if err != nil {
		return err
	}
	log := cmd.ErrOrStderr()
	clock := load.ClockOffset{}
	if f.clock != "" {
		if clock, err = load.MeasureClock(ctx, f.clock); err != nil {
			return fmt.Errorf("worker %s: %w", cfg.Segment, err)
		}
		fmt.Fprintf(log, "worker %s: clock offset %s ± %s against %s\n", cfg.Segment, clock.Offset, clock.Uncertainty, f.clock)
	}
	opts = append(opts, load.WithLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		load.WithProgress(log, false))
	res, err := load.Run(ctx, cfg, opts...)
	if err != nil {
		return fmt.Errorf("worker %s: %w", cfg.Segment, err)
	}
	if err := load.WriteWorker(f.out, res, clock); err != nil {
		return fmt.Errorf("worker %s: %w", cfg.Segment, err)
	}
	t := res.Totals
	fmt.Fprintf(cmd.OutOrStdout(), "worker %s: planned %d, sent %d, dropped %d, errors %d; %s\n",
		cfg.Segment, t.Planned, t.Sent, t.Dropped, t.Errors, f.out)
	if ctx.Err() != nil {
		// What it measured is written, but the worker did not send its whole share: never a clean exit.
		return fmt.Errorf("worker %s: interrupted (%w) before the load's end; wrote what was measured", cfg.Segment, context.Cause(ctx))
	}
	return nil
}
