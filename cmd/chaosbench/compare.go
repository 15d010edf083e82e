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
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
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
			"A side may hold suite folders (chaosbench run with several scenarios, a suite file or --all):\n" +
			"then every scenario × architecture is compared on its own, named scenario/architecture, a\n" +
			"plain run folder counting as a suite of one; a scenario on one side only is listed (missing\n" +
			"from NEW: a regression). One exit code for the whole comparison.\n" +
			"A change is a regression when it is worse than its tolerance; --tolerance METRIC=BOUND[,BOUND]\n" +
			"overrides a default (e.g. latency.p99=15%,5ms  errors.rate=1pp  latency.max=off); see\n" +
			"docs/reports.md for the defaults.\n\n" +
			"Exit codes: 0 no regression, 3 regression, 2 bad input (missing file, wrong schema, bad\n" +
			"tolerance), 1 other error.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := render.CompareReporterFor(format)
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
			base, err := loadSide("BASE", args[0])
			if err != nil {
				return err
			}
			cand, err := loadSide("NEW", args[1])
			if err != nil {
				return err
			}
			var c results.Comparison
			if base.hasSuite() || cand.hasSuite() {
				c = results.CompareSuites(base.suites(), cand.suites(), tol)
			} else {
				c = results.Compare(base.runs, cand.runs, tol)
			}
			c.Base, c.New = base.paths, cand.paths

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

// side is one side of a comparison: per path given, a run (runs[i]) or a suite folder (suite[i] set).
type side struct {
	paths []string
	runs  []results.Summary
	suite []*results.Suite
}

func (s side) hasSuite() bool {
	for _, x := range s.suite {
		if x != nil {
			return true
		}
	}
	return false
}

// suites is every path of the side as a suite: a run folder is a suite of one.
func (s side) suites() []results.Suite {
	out := make([]results.Suite, len(s.paths))
	for i := range s.paths {
		if s.suite[i] != nil {
			out[i] = *s.suite[i]
		} else {
			out[i] = results.SuiteOfRun(s.runs[i])
		}
	}
	return out
}

// loadSide reads one side: a comma-separated list of run folders, suite folders,
// summary.json files or globs of them.
func loadSide(sideName, arg string) (side, error) {
	paths, err := sidePaths(sideName, arg)
	if err != nil {
		return side{}, err
	}
	var sd side
	for _, p := range paths {
		if results.IsSuiteDir(p) {
			su, err := results.ReadSuite(p)
			if err != nil { // a missing entry summary or another schema: the input is wrong (exit 2)
				return side{}, usageError{err}
			}
			sd.paths = append(sd.paths, filepath.Join(p, runfolder.SuiteFile))
			sd.runs = append(sd.runs, results.Summary{})
			sd.suite = append(sd.suite, &su)
			continue
		}
		file, _ := summaryPath(p)
		s, err := readSummary(file)
		if err != nil {
			return side{}, err
		}
		sd.paths = append(sd.paths, file)
		sd.runs = append(sd.runs, s)
		sd.suite = append(sd.suite, nil)
	}
	return sd, nil
}

// sidePaths expands one side's argument: a comma-separated list of paths or globs.
func sidePaths(side, arg string) ([]string, error) {
	var paths []string
	for _, part := range strings.Split(arg, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.ContainsAny(part, "*?[") {
			m, err := filepath.Glob(part)
			if err != nil {
				return nil, badInput("%s: bad pattern %q: %v", side, part, err)
			}
			if len(m) == 0 {
				return nil, badInput("%s: %q matches nothing", side, part)
			}
			sort.Strings(m)
			paths = append(paths, m...)
			continue
		}
		paths = append(paths, part)
	}
	if len(paths) == 0 {
		return nil, badInput("%s: no run given", side)
	}
	return paths, nil
}

// compareFormats lists the --format values, from the registry.
func compareFormats() string { return strings.Join(render.CompareFormats(), ", ") }
