package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/stack"
)

// SuiteOutcome is a finished (or interrupted) suite.
type SuiteOutcome struct {
	Suite   results.Suite // suite.json, with every entry's summary in Run
	Dir     string        // the suite folder
	Reports []string      // the suite's files written (each scenario's are in its own folder)
}

// RunSuite runs the scenarios of s one after another, each with Run into its own sub-folder of the
// suite folder (NN-name/, a run folder like any other), then writes suite.json and the combined reports.
// Every entry gets its place in suite.json whatever happens: one the suite never reached (interrupted,
// or images missing) is "not run", which counts as errored. The error says what went wrong; the outcome
// holds what was measured even then.
//
// What each entry runs is its Spec (Suite.Resolve makes it from the command line's Ask; an entry not
// resolved runs as its suite file says); the options
// (log, out dir: the suite folder, stack options) apply to every entry.
func RunSuite(ctx context.Context, s scenarios.Suite, opts ...Option) (SuiteOutcome, error) {
	var cfg RunConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return SuiteOutcome{}, err
		}
	}
	if len(s.Entries) == 0 {
		return SuiteOutcome{}, errors.New("run suite: no scenario")
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	started := time.Now()
	dir := cfg.OutDir
	if dir == "" {
		dir = runfolder.Default(started, s.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return SuiteOutcome{}, fmt.Errorf("create suite folder: %w", err)
	}
	out := SuiteOutcome{Dir: dir, Suite: results.Suite{Name: s.Name, Description: s.Description, Source: s.Source,
		StartedAt: started.UTC()}}
	fmt.Fprintf(log, "chaosbench: suite %s, %d scenario(s); suite folder %s\n", s.Name, len(s.Entries), dir)
	names := make([]string, len(s.Entries))
	for i, e := range s.Entries {
		names[i] = e.Plan.Name
	}
	cfg.observe(SuiteStarted{Name: s.Name, Scenarios: names})

	var errs []error
	notRun := "" // set once no later entry can run, with why
	for i, e := range s.Entries {
		entry := results.SuiteEntry{Scenario: e.Plan.Name, Source: e.Plan.Source, Scale: e.Scale, Architectures: e.ArchNames()}
		if notRun == "" && ctx.Err() != nil {
			notRun = "the suite was interrupted before it"
		}
		if notRun != "" {
			entry.NotRun = notRun
			out.Suite.Entries = append(out.Suite.Entries, entry)
			continue
		}
		entry.Dir = fmt.Sprintf("%02d-%s", i+1, e.Plan.Name)
		fmt.Fprintf(log, "chaosbench: suite %s: scenario %d/%d %s\n", s.Name, i+1, len(s.Entries), e.Plan.Name)
		spec := e.Spec
		if len(spec.Archs) == 0 { // a suite as parsed, not Resolved with a command line's Ask: its own
			var err error
			if spec, err = e.Plan.Spec(scenarios.Ask{Archs: e.Archs, Scale: e.Scale}); err != nil {
				return out, fmt.Errorf("%s: %w", e.Plan.Name, err)
			}
		}
		ropts := append(append([]Option(nil), opts...), WithOutDir(filepath.Join(dir, entry.Dir)))
		res, err := Run(ctx, spec, ropts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Plan.Name, err))
		}
		if res.Dir == "" { // it did not get as far as its folder
			entry.Dir, entry.NotRun = "", fmt.Sprintf("did not start: %v", err)
		} else {
			sum := res.Summary
			entry.Run = &sum
		}
		out.Suite.Entries = append(out.Suite.Entries, entry)
		if errors.Is(err, stack.ErrImagesMissing) {
			notRun = "not run: " + err.Error() // every scenario would fail the same way
		}
	}
	out.Suite.DurationS = time.Since(started).Seconds()
	out.Suite.Decide()
	paths, werr := render.WriteSuite(dir, out.Suite)
	out.Reports = paths
	fmt.Fprintf(log, "chaosbench: suite %s %s in %.0f s\n", s.Name, out.Suite.Verdict, out.Suite.DurationS)
	cfg.observe(SuiteDone{Suite: out.Suite, Reports: paths})
	return out, errors.Join(append(errs, werr)...)
}
