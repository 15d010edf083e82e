package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/chaosbench/chaosbench/runfolder"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report RUN_DIR|SUITE_DIR",
		Short: "Re-render a run's (or a suite's) reports from its summary.json (suite.json)",
		Long: "Re-render a run's reports from RUN_DIR/summary.json (or a summary.json path): --format text\n" +
			"(default), json and junit (JUnit XML for CI, docs/ci.md) print to stdout; md and html are written\n" +
			"into the run folder as report.md and report.html, and their path is printed. Useful after\n" +
			"upgrading chaosbench, to get a report of a run that crashed before writing one, or a run's\n" +
			"JUnit XML for CI (chaosbench report RUN_DIR --format junit > junit.xml). Exit 0 when rendered\n" +
			"(whatever the run's verdict), 2 when the summary is missing or of another schema.\n\n" +
			"A suite folder (with suite.json, docs/suites.md) gets its combined reports: text, md and html as\n" +
			"above, json prints suite.json, and junit one testsuite per scenario.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := render.ReporterFor(format)
			if err != nil {
				return usageError{fmt.Errorf("--format: %w", err)}
			}
			if results.IsSuiteDir(args[0]) {
				return reportSuite(cmd, args[0], format)
			}
			path, dir := summaryPath(args[0])
			s, err := readSummary(path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch format {
			case "text":
				// Colour only for a person at a terminal; NO_COLOR (no-color.org) wins.
				_, noColor := os.LookupEnv("NO_COLOR")
				r = render.TextReporter{Color: isTerminal(out) && !noColor}
				return r.Render(out, s)
			case "json", "junit":
				// Machine formats, for a pipe or a redirect.
				return r.Render(out, s)
			}
			dest := filepath.Join(dir, r.File())
			if err := render.WriteReport(dest, r, s); err != nil {
				return err
			}
			fmt.Fprintln(out, dest)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(render.ReportFormats(), ", "))
	return cmd
}

// summaryPath accepts a run folder or a summary.json path and returns the
// summary's path and the folder reports go to.
func summaryPath(arg string) (path, dir string) {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return runfolder.Run(arg).Summary(), arg
	}
	return arg, filepath.Dir(arg)
}

// readSummary reads a summary.json; a missing file or another schema is the
// user's input being wrong (exit 2), and the error names the file.
func readSummary(path string) (results.Summary, error) {
	s, err := results.ReadSummary(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, badInput("%s: no such file (want a run folder or a summary.json)", path)
	case err != nil:
		return s, usageError{err}
	}
	return s, nil
}

// reportSuite re-renders a suite folder's combined reports (or its JUnit XML, one testsuite per scenario,
// the scenarios it never reached included as errors).
func reportSuite(cmd *cobra.Command, dir, format string) error {
	s, err := results.ReadSuite(dir)
	if err != nil {
		return usageError{err}
	}
	r, err := render.SuiteReporterFor(format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	out := cmd.OutOrStdout()
	switch {
	case format == "text":
		_, noColor := os.LookupEnv("NO_COLOR")
		return (render.SuiteTextReporter{Color: isTerminal(out) && !noColor}).Render(out, s)
	case format == "json", r.File() == "":
		// suite.json as it would be written, or a format that has no file in the folder (junit).
		return r.Render(out, s)
	}
	dest := filepath.Join(dir, r.File())
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	if err := errors.Join(r.Render(f, s), f.Close()); err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	fmt.Fprintln(out, dest)
	return nil
}
