package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosbench/chaosbench/k8s"
	"github.com/chaosbench/chaosbench/scenarios"
)

func init() { register(newK8sCmd) }

func newK8sCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Kubernetes mode: run a scenario in a cluster, or render its manifests (docs/kubernetes.md)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return badInput("k8s: want a subcommand: run or render")
		},
	}
	cmd.AddCommand(newK8sRunCmd(), newK8sRenderCmd())
	return cmd
}

func newK8sRenderCmd() *cobra.Command {
	var (
		archName, target, namespace, start, out string
		images                                  k8s.Images
		workers                                 int
		lead                                    time.Duration
		seed                                    int64
		scale                                   float64
	)
	cmd := &cobra.Command{
		Use:   "render NAME|FILE",
		Short: "Write the Kubernetes manifests of a run: loaders as an Indexed Job, and the reference stack",
		Long: `Write the manifests of one architecture of a scenario for a cluster: a namespace, the loaders
as an Indexed Job of --workers pods (each runs ` + "`chaosbench worker`" + ` on segment $(JOB_COMPLETION_INDEX)
of the load, all from the same --start instant) with an outbox container that keeps each worker's
files for the coordinator (k8s run) to copy, and, unless --target names a service already running, the reference
stack: Redis, the API as a Deployment of the scenario's replicas, and a Service.

Nothing is applied: pipe it to kubectl apply -f - (chaosbench k8s run renders and applies its own).
Faults and thresholds are not in the manifests; the coordinator (k8s run) does them (docs/kubernetes.md
says how each fault maps, how outputs are collected,
and what is not done yet). The output passes chaosbench's offline check of the manifests before it
is written. The header of the output records the start, the seed and the run label.

Exit codes: 0 written, 1 error, 2 bad input (unknown scenario, bad flag, an architecture the
manifests cannot run, such as NGINX's sticky balancer or Redis with Sentinels).`,
		Example: `  chaosbench k8s render kill-node --workers 3 | kubectl apply -f -
  chaosbench k8s render compare-architectures --arch stateless --start 2026-11-23T18:00:00Z --out run.yaml
  chaosbench k8s render my-scenario.yaml --target http://shop.shop.svc:8080 --namespace shop-load`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, scenario, err := loadK8sScenario(args[0])
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			at := now.Add(lead).Truncate(time.Second)
			if start != "" {
				if at, err = time.Parse(time.RFC3339Nano, start); err != nil {
					return badInput("--start %q: want an RFC 3339 instant like 2026-11-23T18:00:00Z", start)
				}
			}
			switch {
			case cmd.Flags().Changed("seed"):
			case plan.SeedSet:
				seed = plan.Seed
			default:
				seed = mrand.Int64N(1 << 31) // recorded in the manifests' header and every worker's args
			}
			secret := make([]byte, 24)
			if _, err := rand.Read(secret); err != nil {
				return fmt.Errorf("jwt secret: %w", err)
			}
			opts := []k8s.Option{k8s.WithScenario(scenario), k8s.WithStart(at, now), k8s.WithSeed(seed),
				k8s.WithWorkers(workers), k8s.WithNamespace(namespace), k8s.WithImages(images),
				k8s.WithJWTSecret(hex.EncodeToString(secret)), k8s.WithArch(archName)}
			if target != "" {
				opts = append(opts, k8s.WithTarget(target))
			}
			if cmd.Flags().Changed("scale") {
				opts = append(opts, k8s.WithScale(scale))
			}
			m, err := k8s.Render(plan, opts...)
			if err != nil {
				return usageError{err}
			}
			doc, err := m.YAML()
			if err != nil {
				return err
			}
			if errs := k8s.Check(doc); len(errs) > 0 {
				return fmt.Errorf("the rendered manifests fail the offline check (a bug in chaosbench): %w", errors.Join(errs...))
			}
			for _, n := range m.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			if out == "-" {
				_, err = cmd.OutOrStdout().Write(doc)
				return err
			}
			if err := os.WriteFile(out, doc, 0o600); err != nil { // it holds the JWT secret
				return fmt.Errorf("write manifests: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d objects in namespace %s, %d worker(s) from %s, load to %s\n",
				out, len(m.Objects), m.Namespace, workers, at.UTC().Format(time.RFC3339), m.Target)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&archName, "arch", "", "the scenario's architecture to run (required when it has several)")
	f.IntVar(&workers, "workers", k8s.DefaultWorkers, fmt.Sprintf("loader pods that share the load (1 to %d)", k8s.MaxWorkers))
	f.StringVar(&target, "target", "", "URL of a service the cluster reaches (e.g. http://shop.shop.svc:8080); none: render the reference stack")
	f.StringVar(&namespace, "namespace", k8s.DefaultNamespace, "namespace of every object (the manifests create it; deleting it ends the run)")
	f.StringVar(&start, "start", "", "the instant every worker starts, RFC 3339 (default: now + --lead)")
	f.DurationVar(&lead, "lead", 2*time.Minute, "without --start: how far ahead to start (time to apply, pull images, schedule)")
	f.StringVar(&images.Loader, "image-loader", k8s.DefaultLoaderImage, "image with chaosbench on its PATH, for the workers")
	f.StringVar(&images.Refapi, "image-refapi", k8s.DefaultRefapiImage, "image of the reference API (a scenario's target.image replaces it)")
	f.StringVar(&images.Base, "image-base", k8s.DefaultBaseImage, "image with redis-server, sh and tar: Redis and the outbox")
	f.Int64Var(&seed, "seed", 0, "seed of every worker (default: the scenario's, else a random one, recorded)")
	f.Float64Var(&scale, "scale", 1, "multiply the scenario's durations (passed to the workers)")
	f.StringVarP(&out, "out", "o", "-", "file to write, or - for standard output")
	return cmd
}

// loadK8sScenario loads a built-in name or a file, and what the workers are given of it: the file itself
// (they run exactly what was rendered), or the built-in's name.
func loadK8sScenario(arg string) (scenarios.Plan, k8s.Scenario, error) {
	plan, err := scenarios.Load(arg)
	if err != nil {
		return plan, k8s.Scenario{}, usageError{err}
	}
	if raw, err := os.ReadFile(arg); err == nil {
		return plan, k8s.Scenario{File: raw}, nil
	}
	return plan, k8s.Scenario{Name: arg}, nil
}
