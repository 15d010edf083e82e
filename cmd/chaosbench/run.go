package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/spf13/cobra"
)

func init() { register(newRunCmd) }

func newRunCmd() *cobra.Command {
	var (
		archs string
		scale float64
		out   string
		seed  int64
	)
	var workers int // --workers: loader containers (runner.WithWorkers)
	cmd := &cobra.Command{
		Use:   "run NAME|FILE",
		Short: "Run a scenario against the reference stack and check what happened",
		Long: `Run a scenario: for each of its architectures, start the reference stack in Docker, set up the
virtual clients, drive the load phases with faults on the timeline, read ground truth from Redis,
check it against what the clients were told, and remove the stack.

NAME is a built-in scenario (chaosbench list) or FILE a scenario file (docs/scenarios.md).
The run folder (default runs/<timestamp>-<name>/) gets summary.json, report.txt, report.md,
report.html and, per architecture, records.jsonl, orders.jsonl, ledger.json, latency.hlog,
latency.hgrm and container logs. Ctrl-C, SIGTERM or closing the terminal (SIGHUP) reverts the
faults, writes what was measured and removes the stacks; a second signal does not cut that short.

The verdict of each architecture is one of: passed; failed (a threshold not met); invalid (a fault
did not run as planned, the harness dropped more than 1% of the planned requests, or the load was
not sent at its rate: nothing proven, never a pass); errored (it did not run to the end).

Exit codes: 0 passed, 1 error (errored, interrupted), 2 bad input, 3 thresholds failed or the run
was invalid.`,
		Example: `  chaosbench run compare-architectures
  chaosbench run kill-node --scale 0.5 --seed 7
  chaosbench run my-scenario.yaml --arch stateless,stateful --out /tmp/run1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := scenarios.Load(args[0])
			if err != nil {
				return usageError{err}
			}
			opts := []runner.Option{runner.WithLog(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()))}
			if archs != "" {
				opts = append(opts, runner.WithArchs(strings.Split(archs, ",")...))
			}
			if cmd.Flags().Changed("scale") {
				opts = append(opts, runner.WithScale(scale))
			}
			if out != "" {
				opts = append(opts, runner.WithOutDir(out))
			}
			if cmd.Flags().Changed("seed") {
				opts = append(opts, runner.WithSeed(seed))
			}
			if workers != 0 {
				if workers < 0 || workers > runner.MaxWorkers {
					return badInput("--workers %d: want 1 to %d loader containers (0: the load from this process)", workers, runner.MaxWorkers)
				}
				opts = append(opts, runner.WithWorkers(workers))
			}
			if err := validateRunFlags(plan, archs, scale, cmd.Flags().Changed("scale")); err != nil {
				return err
			}
			res, runErr := runner.Run(cmd.Context(), plan, opts...)
			if len(res.Summary.Architectures) > 0 {
				if err := (results.TextReporter{}).Render(cmd.OutOrStdout(), res.Summary); err != nil {
					runErr = errors.Join(runErr, err)
				}
			}
			if res.Dir != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "\nreport: %s\n", filepath.Join(res.Dir, "report.html"))
			}
			return verdictError(plan.Name, results.RunVerdict(res.Summary), runErr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&archs, "arch", "", "comma-separated architectures of the scenario to run (default all)")
	f.Float64Var(&scale, "scale", 1, "multiply every duration and fault time (e.g. 0.5 for a quick run)")
	f.StringVar(&out, "out", "", "run folder (default runs/<timestamp>-<name>)")
	f.Int64Var(&seed, "seed", 0, "seed for every random choice (default the scenario's)")
	f.IntVar(&workers, "workers", 0, "send the load from N loader containers on the run's network, each a segment of it, merged exactly (default 0: from this process)")
	return cmd
}

// verdictError turns the run's one verdict (results.RunVerdict, the function
// every report uses) into the command's error, and so its exit code: the
// tool breaking (1) apart from the system failing the scenario (3).
func verdictError(name string, st results.Status, runErr error) error {
	switch {
	case runErr != nil:
		return runErr
	case st == results.StatusPassed:
		return nil
	case st == results.StatusFailed || st == results.StatusInvalid:
		return failedError{fmt.Errorf("scenario %s %s (see the verdicts above)", name, st)}
	}
	return fmt.Errorf("scenario %s %s: it did not run to the end", name, st)
}

// validateRunFlags refuses bad flags before any container starts.
func validateRunFlags(plan scenarios.Plan, archs string, scale float64, scaleSet bool) error {
	if scaleSet && (scale <= 0 || scale > 10) {
		return badInput("--scale %g: want a factor in (0, 10]", scale)
	}
	if archs == "" {
		return nil
	}
	for _, a := range strings.Split(archs, ",") {
		if _, ok := plan.Arch(a); !ok {
			var names []string
			for _, x := range plan.Architectures {
				names = append(names, x.Name)
			}
			return badInput("--arch %s: scenario %s has %s", a, plan.Name, strings.Join(names, ", "))
		}
	}
	return nil
}

// isTerminal reports whether w is a character device (a person watching),
// which decides between a live progress line and plain log lines.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
