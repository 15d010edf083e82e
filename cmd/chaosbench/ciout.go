package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
)

// ciOutputs are the files a CI job reads after a run (docs/ci.md): --junit FILE (the verdicts as JUnit XML),
// --bench-json FILE (the headline numbers for github-action-benchmark), and the Markdown report appended to
// GitHub's step summary when GITHUB_STEP_SUMMARY names one. The work is in package results; this is the
// flags and the files.
type ciOutputs struct {
	junit     string
	benchJSON string
}

// stepSummaryEnv is the variable GitHub Actions sets to the step's summary file.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

func (c *ciOutputs) register(f *pflag.FlagSet) {
	f.StringVar(&c.junit, "junit", "", "also write the verdicts as JUnit XML to `FILE` (docs/ci.md)")
	f.StringVar(&c.benchJSON, "bench-json", "", "also write the headline numbers to `FILE` for github-action-benchmark (docs/ci.md)")
}

// write writes every output asked for, one summary per scenario of runs; markdown renders the report for
// the step summary, compact or not. A file it could not write is an error (exit 1), after it tried the
// others; the run folder still has everything, and `chaosbench report --format junit` re-renders it.
func (c *ciOutputs) write(runs []results.Summary, markdown func(w io.Writer, compact bool) error) error {
	var errs []error
	if c.junit != "" {
		errs = append(errs, writeOutput("--junit", c.junit, func(w io.Writer) error { return render.WriteJUnit(w, runs) }))
	}
	if c.benchJSON != "" {
		errs = append(errs, writeOutput("--bench-json", c.benchJSON, func(w io.Writer) error { return results.WriteBenchJSON(w, runs) }))
	}
	if path := os.Getenv(stepSummaryEnv); path != "" {
		if err := render.AppendStepSummary(path, markdown); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", stepSummaryEnv, err))
		}
	}
	return errors.Join(errs...)
}

// writeOutput renders the whole output before it writes path, so that a failed render leaves no half file.
func writeOutput(flag, path string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}
