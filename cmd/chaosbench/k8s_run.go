package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosbench/chaosbench/k8s"
	"github.com/chaosbench/chaosbench/k8srun"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
)

func newK8sRunCmd() *cobra.Command {
	var (
		o             k8srun.Options
		archName, out string
		scale         float64
		seed          int64
	)
	cmd := &cobra.Command{
		Use:   "run NAME|FILE",
		Short: "Run a scenario in a Kubernetes cluster: the stack and N loader pods, faults through the API, the same run folder",
		Long: `Run one architecture of a scenario in a Kubernetes cluster (client-go, no kubectl): render it (as
k8s render does), check it against the cluster before anything is applied (the cluster answers, this
user may create namespaces, the namespace is free, every image is on a node, every fault can be done
there), create the run's namespace, the reference stack (or the scenario's image) and, once it is
ready, the loaders as an Indexed Job of --workers pods. The workers measure their clocks against this
process and start together from its start gate once all are set up (both served on --listen, an
address of this machine the pods reach: by default its address on the pods' network). The faults are
injected through the API on the load's clock: kill deletes the pod with grace 0 (its Deployment starts
a replacement at once: the record says so), stop scales the Deployment down by that pod and back,
partition is a NetworkPolicy that counts only when a probe shows the network plugin enforces it.
The workers' files are copied out through the exec stream, merged exactly, and checked against
Redis's ground truth (or the service's contract) through port-forwards. The run folder and reports are
those of chaosbench run. The namespace is deleted at the end, on error, and on Ctrl-C or SIGHUP.

Exit codes, as chaosbench run: 0 passed, 1 error (no cluster reachable, the stack not ready,
interrupted), 2 bad input (before anything is applied: a fault the cluster cannot do, an image no
node has, no right to create namespaces, a namespace that exists), 3 failed or invalid.`,
		Example: `  chaosbench k8s run kill-node --workers 3
  chaosbench k8s run examples/naiveshop/naiveshop-kill.yaml --kubeconfig /etc/k/admin.conf --namespace shop-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, scenario, err := loadK8sScenario(args[0])
			if err != nil {
				return err
			}
			ask := scenarios.Ask{Workers: o.Workers}
			if cmd.Flags().Changed("scale") {
				if err := scenarios.CheckScale(scale); err != nil {
					return badInput("--scale %w", err)
				}
				ask.Scale = scale
			}
			if cmd.Flags().Changed("seed") {
				ask.Seed = &seed
			}
			if archName != "" {
				ask.Archs = []string{archName}
			}
			if o.Workers < 1 {
				return badInput("--workers %d: want 1 to %d loader pods", o.Workers, scenarios.MaxWorkers)
			}
			spec, err := plan.Spec(ask)
			if err != nil {
				return badInput("--%v", err)
			}
			o.Log = cmd.ErrOrStderr()
			p, err := k8srun.Prepare(cmd.Context(), spec, plan, scenario, o)
			var bad k8srun.BadInput
			if errors.As(err, &bad) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			opts := []runner.Option{runner.WithLog(cmd.ErrOrStderr(), false)}
			if out != "" {
				opts = append(opts, runner.WithOutDir(out))
			}
			res, runErr := p.Run(cmd.Context(), opts...)
			if len(res.Summary.Architectures) > 0 {
				if err := (render.TextReporter{}).Render(cmd.OutOrStdout(), res.Summary); err != nil {
					runErr = errors.Join(runErr, err)
				}
			}
			if res.Dir != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "\nreport: %s\n", runfolder.Run(res.Dir).ReportHTML())
			}
			return verdictError("scenario "+plan.Name, results.RunVerdict(res.Summary), runErr)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Workers, "workers", k8s.DefaultWorkers, fmt.Sprintf("loader pods that share the load (1 to %d)", scenarios.MaxWorkers))
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "the cluster's kubeconfig (default KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&o.Namespace, "namespace", k8s.DefaultNamespace, "the run's namespace: created for the run, deleted after it; it must not exist")
	f.StringVar(&o.Listen, "listen", "", "this machine's address the pods reach, for the workers' clock and start gate (default: its address on the pods' network)")
	f.StringVar(&archName, "arch", "", "the scenario's architecture to run (required when it has several)")
	f.Float64Var(&scale, "scale", 1, "multiply every duration and fault time")
	f.Int64Var(&seed, "seed", 0, "seed for every random choice (default the scenario's)")
	f.StringVar(&out, "out", "", "run folder (default runs/<timestamp>-<name>)")
	f.StringVar(&o.Images.Loader, "image-loader", runner.LoaderImage(), "image with chaosbench as its entrypoint, for the workers (CHAOSBENCH_LOADER_IMAGE)")
	f.StringVar(&o.Images.Refapi, "image-refapi", k8s.DefaultRefapiImage, "image of the reference API (a scenario's target.image replaces it)")
	f.StringVar(&o.Images.Base, "image-base", k8s.DefaultBaseImage, "image with redis-server, sh and tar: Redis, the outbox and the probes")
	return cmd
}
