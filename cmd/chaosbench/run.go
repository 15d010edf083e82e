package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
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
		all   bool
		ci    ciOutputs
		dash  dashboardFlags
	)
	var workers int // --workers: loader containers (scenarios.Ask.Workers)
	cmd := &cobra.Command{
		Use:   "run NAME|FILE... | SUITE | --all",
		Short: "Run scenarios against the reference stack and check what happened",
		Long: `Run a scenario: for each of its architectures, start the reference stack in Docker, set up the
virtual clients, drive the load phases with faults on the timeline, read ground truth from Redis,
check it against what the clients were told, and remove the stack.

NAME is a built-in scenario (chaosbench list) or FILE a scenario file (docs/scenarios.md).
The run folder (default runs/<timestamp>-<name>/) gets summary.json, report.txt, report.md,
report.html, report.junit.xml and, per architecture, records.jsonl, orders.jsonl, ledger.json,
latency.hlog, latency.hgrm and container logs. Ctrl-C, SIGTERM or closing the terminal (SIGHUP)
reverts the faults, writes what was measured and removes the stacks; a second signal does not cut
that short.

With --workers N the load comes from N loader containers on the run's network (the image
chaosbench/loader:dev, or CHAOSBENCH_LOADER_IMAGE), each sending a segment of it from the same scenario
file, declared client and ops included; their results are merged exactly before the checks
(docs/load.md, "Several workers"). An attached target (target.url, a compose project), edge TLS
and edge knobs are refused with it.

A suite runs several scenarios one after another into one folder (docs/suites.md): several
NAMEs or FILEs, a suite file (SUITE: a list of scenarios with optional per-entry scale and arch,
and shared thresholds), or --all (the whole catalogue). Each scenario gets its own run folder
inside (NN-name/, as above); the suite folder (default runs/<timestamp>-<suite>/) gets suite.json
and combined report.txt, report.md and report.html. Every entry is validated before the first
container starts. With a suite, --scale multiplies each entry's own scale and --arch keeps the
named architectures in every scenario. Interrupted, the scenarios not reached are "not run".

The verdict of each architecture is one of: passed; failed (a threshold not met); invalid (a fault
did not run as planned, the harness dropped more than 1% of the planned requests, or the load was
not sent at its rate: nothing proven, never a pass); errored (it did not run to the end, or a
suite never reached it). A suite's verdict is the worst of its scenarios'.

With --dashboard the run serves a live page (docs/dashboard.md): per architecture the counts, the
latency and throughput charts with the faults as bands as they are injected and reverted, errors by
kind and which container a fault holds; at the end the verdict and a link to the report. It listens on
loopback (a free port, printed at start, or --dashboard=127.0.0.1:8080); an address that is not
loopback is refused unless --dashboard-public says so, and a port in use is refused before anything
starts. Closing the page changes nothing for the run.

For CI (docs/ci.md): --junit FILE writes the verdicts as JUnit XML, --bench-json FILE the headline
numbers for github-action-benchmark, and when GITHUB_STEP_SUMMARY is set the Markdown report is
appended to it (compact, or cut with a note, to stay within GitHub's 1 MiB). A suite writes one
JUnit file (a testsuite per scenario), one bench file and its combined Markdown report.

Exit codes: 0 passed, 1 error (errored, interrupted), 2 bad input (before anything runs),
3 thresholds failed or the run was invalid.`,
		Example: `  chaosbench run compare-architectures
  chaosbench run kill-node --scale 0.5 --seed 7
  chaosbench run my-scenario.yaml --arch stateless,stateful --out /tmp/run1
  chaosbench run steady-baseline kill-node --scale 0.2       # a suite of two
  chaosbench run nightly.suite.yaml                          # a suite file
  chaosbench run --all --scale 0.5                           # the whole catalogue
  chaosbench run kill-node --junit junit.xml --bench-json bench.json
  chaosbench run kill-node --dashboard                       # a live page on loopback, its URL printed`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return badInput("--all runs the whole catalogue: name no scenario with it")
			case !all && len(args) == 0:
				return badInput("run needs a scenario, several, a suite file, or --all")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// What the flags ask of the run, checked once by scenarios.Plan.Spec (a suite: for every entry)
			// before anything is loaded or started; its errors name the field, the flag adds its dashes.
			ask := scenarios.Ask{Workers: workers}
			if cmd.Flags().Changed("scale") {
				if err := scenarios.CheckScale(scale); err != nil {
					return badInput("--scale %w", err) // before the scenarios are read, as a bad flag
				}
				ask.Scale = scale
			}
			if cmd.Flags().Changed("seed") {
				ask.Seed = &seed
			}
			if archs != "" {
				ask.Archs = strings.Split(archs, ",")
			}
			suite, plan, err := loadRunTarget(args, all)
			if err != nil {
				return usageError{err}
			}
			opts := []runner.Option{runner.WithLog(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()))}
			if out != "" {
				opts = append(opts, runner.WithOutDir(out))
			}
			var resolved scenarios.Suite
			var spec scenarios.RunSpec
			if suite != nil {
				if resolved, err = suite.Resolve(ask); err != nil {
					return usageError{err}
				}
			} else if spec, err = plan.Spec(ask); err != nil {
				return badInput("--%v", err)
			}
			dopts, stopDashboard, err := dash.start(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer stopDashboard()
			opts = append(opts, dopts...)
			if suite != nil {
				return runSuite(cmd, resolved, &ci, opts)
			}
			res, runErr := runner.Run(cmd.Context(), spec, opts...)
			if len(res.Summary.Architectures) > 0 {
				if err := (render.TextReporter{}).Render(cmd.OutOrStdout(), res.Summary); err != nil {
					runErr = errors.Join(runErr, err)
				}
			}
			md := func(w io.Writer, compact bool) error {
				return render.MarkdownReporter{Compact: compact}.Render(w, res.Summary)
			}
			runErr = errors.Join(runErr, ci.write([]results.Summary{res.Summary}, md))
			if res.Dir != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "\nreport: %s\n", runfolder.Run(res.Dir).ReportHTML())
			}
			return verdictError("scenario "+plan.Name, results.RunVerdict(res.Summary), runErr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&archs, "arch", "", "comma-separated architectures to run (default all; in a suite, of every scenario that has them)")
	f.Float64Var(&scale, "scale", 1, "multiply every duration and fault time (e.g. 0.5 for a quick run; in a suite, a factor on each entry's own scale)")
	f.StringVar(&out, "out", "", "run folder, or suite folder (default runs/<timestamp>-<name>)")
	f.Int64Var(&seed, "seed", 0, "seed for every random choice (default the scenario's)")
	f.BoolVar(&all, "all", false, "run every built-in scenario, one after another, as a suite")
	f.IntVar(&workers, "workers", 0, "send the load from N loader containers on the run's network, each a segment of it (declared ops too), merged exactly (default 0: from this process)")
	ci.register(f)
	dash.register(f)
	return cmd
}

// loadRunTarget reads what `run` was given: one scenario (plan), or a suite (several scenarios, a suite
// file, or --all). Every scenario is parsed and validated here, before anything runs.
func loadRunTarget(args []string, all bool) (*scenarios.Suite, scenarios.Plan, error) {
	var s scenarios.Suite
	var err error
	switch {
	case all:
		s, err = scenarios.CatalogueSuite()
	case len(args) == 1:
		if raw, rerr := os.ReadFile(args[0]); rerr == nil && scenarios.IsSuite(raw) {
			s, err = scenarios.ParseSuite(args[0], raw)
			break
		}
		plan, err := scenarios.Load(args[0])
		return nil, plan, err
	default:
		s, err = scenarios.SuiteOf("suite", args...)
	}
	if err != nil {
		return nil, scenarios.Plan{}, err
	}
	return &s, scenarios.Plan{}, nil
}

// runSuite runs a validated suite and prints the combined text report; the exit code is the suite's
// worst verdict.
func runSuite(cmd *cobra.Command, s scenarios.Suite, ci *ciOutputs, opts []runner.Option) error {
	res, runErr := runner.RunSuite(cmd.Context(), s, opts...)
	if res.Dir != "" {
		if err := (render.SuiteTextReporter{}).Render(cmd.OutOrStdout(), res.Suite); err != nil {
			runErr = errors.Join(runErr, err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "\nreport: %s\n", runfolder.Run(res.Dir).ReportHTML())
	}
	// Every entry, one not reached included (errored, "not run"), so CI outputs list it; written even
	// when the suite broke before it began, as a single run's are.
	runs := results.SuiteRuns(res.Suite)
	md := func(w io.Writer, compact bool) error {
		return (render.SuiteMarkdownReporter{Compact: compact}).Render(w, res.Suite)
	}
	runErr = errors.Join(runErr, ci.write(runs, md))
	return verdictError("suite "+s.Name, res.Suite.Verdict, runErr)
}

// verdictError turns the run's one verdict (results.RunVerdict, the function
// every report uses) into the command's error, and so its exit code: the
// tool breaking (1) apart from the system failing the scenario (3).
func verdictError(what string, st results.Status, runErr error) error {
	switch {
	case runErr != nil:
		return runErr
	case st == results.StatusPassed:
		return nil
	case st == results.StatusFailed || st == results.StatusInvalid:
		return failedError{fmt.Errorf("%s %s (see the verdicts above)", what, st)}
	}
	return fmt.Errorf("%s %s: it did not run to the end", what, st)
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
