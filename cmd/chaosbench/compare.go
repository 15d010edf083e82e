package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosbench/chaosbench/results"
)

func init() { register(newCompareCmd) }

func newCompareCmd() *cobra.Command {
	var (
		format, out string
		tols        []string
		all         bool
	)
	cmd := &cobra.Command{
		Use:   "compare BASE NEW",
		Short: "Compare runs: per architecture and metric, the change and whether it is a regression",
		Long: "Compare baseline runs (BASE) with new runs (NEW). Each side is a run folder, a summary.json,\n" +
			"or a comma-separated list or glob of them (several runs per side: medians and spread).\n" +
			"A change is a regression when it is worse than its tolerance; --tolerance METRIC=BOUND[,BOUND]\n" +
			"overrides a default (e.g. latency.p99=15%,5ms  errors.rate=1pp  latency.max=off); see\n" +
			"docs/reports.md for the defaults.\n\n" +
			"Exit codes: 0 no regression, 3 regression, 2 bad input (missing file, wrong schema, bad\n" +
			"tolerance), 1 other error.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := results.CompareReporterFor(format)
			if err != nil {
				return badInput("--format %q: want one of %s", format, compareFormats())
			}
			tol := results.Tolerances{}
			for _, t := range tols {
				name, v, err := results.ParseTolerance(t)
				if err != nil {
					return usageError{fmt.Errorf("--tolerance: %w", err)}
				}
				tol[name] = v
			}
			basePaths, base, err := loadSide("BASE", args[0])
			if err != nil {
				return err
			}
			newPaths, cand, err := loadSide("NEW", args[1])
			if err != nil {
				return err
			}
			c := results.Compare(base, cand, tol)
			c.Base, c.New = basePaths, newPaths

			var buf bytes.Buffer
			if err := rep.Render(&buf, c, all); err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			} else if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
				return err
			}
			if c.Regression {
				return failedError{fmt.Errorf("regression found (%s vs %s)", args[0], args[1])}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "text", "output format: "+compareFormats())
	f.StringVar(&out, "out", "", "write the comparison to FILE instead of stdout")
	// StringArray, not StringSlice: a bound list ("10%,2ms") has commas.
	f.StringArrayVar(&tols, "tolerance", nil, "METRIC=BOUND[,BOUND] overriding a default tolerance (repeatable)")
	f.BoolVar(&all, "all", false, "show unchanged metrics too (text and md)")
	return cmd
}

// loadSide reads one side: a comma-separated list of run folders,
// summary.json files or globs of either.
func loadSide(side, arg string) ([]string, []results.Summary, error) {
	var paths []string
	for _, part := range strings.Split(arg, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.ContainsAny(part, "*?[") {
			m, err := filepath.Glob(part)
			if err != nil {
				return nil, nil, badInput("%s: bad pattern %q: %v", side, part, err)
			}
			if len(m) == 0 {
				return nil, nil, badInput("%s: %q matches nothing", side, part)
			}
			sort.Strings(m)
			paths = append(paths, m...)
			continue
		}
		paths = append(paths, part)
	}
	if len(paths) == 0 {
		return nil, nil, badInput("%s: no run given", side)
	}
	var sums []results.Summary
	var files []string
	for _, p := range paths {
		file, _ := summaryPath(p)
		s, err := readSummary(file)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, file)
		sums = append(sums, s)
	}
	return files, sums, nil
}

// compareFormats lists the --format values, from the registry.
func compareFormats() string {
	var names []string
	for _, r := range results.CompareReporters() {
		names = append(names, r.Format())
	}
	return strings.Join(names, ", ")
}
