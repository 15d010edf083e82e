package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// Formatter writes a report in one format. Formats are registered by name, like run reports.
type Formatter func(w io.Writer, r Report) error

var formats = map[string]Formatter{
	"text":  writeText,
	"json":  writeJSON,
	"junit": writeJUnit,
}

// Formats lists the format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Write renders r in format.
func Write(w io.Writer, format string, r Report) error {
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
	}
	return f(w, r)
}

// Verdict is the one-line outcome the text report ends with.
func (r Report) Verdict() string {
	v := fmt.Sprintf("%d passed, %d failed, %d skipped", r.Count(Passed), r.Count(Failed), r.Count(Skipped))
	if n := r.Failed(); n > 0 {
		return fmt.Sprintf("NOT CONFORMING: %d required rule(s) failed (%s)", n, v)
	}
	return "CONFORMING (" + v + ")"
}

func writeText(w io.Writer, r Report) error {
	fmt.Fprintf(w, "conformance of %s to the chaosbench contract (docs/contract.md)\n\n", r.URL)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tRESULT\tSPEC\tWHAT WAS SEEN")
	for _, x := range r.Results {
		res := string(x.Status)
		if !x.Required && x.Status == Failed {
			res = "failed (advice)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Rule, res, x.Spec, x.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Verdict())
	return err
}

func writeJSON(w io.Writer, r Report) error {
	out := struct {
		Report
		Conforming bool `json:"conforming"`
	}{r, r.Failed() == 0}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}

// writeJUnit maps rules to test cases (classname: the rule's area), so that CI systems show them.
func writeJUnit(w io.Writer, r Report) error {
	suite := junit.Testsuite{Name: "chaosbench.conform", Package: r.URL}
	var total float64
	for _, x := range r.Results {
		area, _, _ := strings.Cut(x.Rule, ".")
		tc := junit.Testcase{Name: x.Rule, Classname: "conform." + area, Time: fmt.Sprintf("%.3f", x.Seconds)}
		msg := x.Detail + " [" + x.Spec + "]"
		switch {
		case x.Status == Skipped:
			tc.Skipped = &junit.Result{Message: msg}
		case x.Status == Failed && x.Required:
			tc.Failure = &junit.Result{Message: msg, Type: "required"}
		case x.Status == Failed:
			// Advice does not fail the suite: shown, not counted as a failure.
			tc.SystemOut = &junit.Output{Data: "advice not followed: " + msg}
		}
		total += x.Seconds
		suite.AddTestcase(tc)
	}
	suite.Time = fmt.Sprintf("%.3f", total)
	var all junit.Testsuites
	all.AddSuite(suite)
	return all.WriteXML(w)
}
