package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/jstemmer/go-junit-report/v2/junit"
	"github.com/stretchr/testify/require"
)

func TestJUnitGolden(t *testing.T) {
	out := render(t, JUnitReporter{}, fixtureSummary())
	golden(t, "report.junit.xml", out)
	validateJUnit(t, out)
}

// xmllint is the schema validator CI tools' own readers are checked with (Debian's libxml2-utils; make tools
// installs it).
func xmllint(t *testing.T, xml []byte) (string, error) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	require.NoError(t, err, "xmllint validates the JUnit XML: apt-get install libxml2-utils (make tools)")
	f := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, os.WriteFile(f, xml, 0o644))
	b, err := exec.Command(path, "--noout", "--schema", filepath.Join("testdata", "junit-10.xsd"), f).CombinedOutput()
	return string(b), err
}

func validateJUnit(t *testing.T, xml []byte) {
	t.Helper()
	out, err := xmllint(t, xml)
	require.NoError(t, err, "junit-10.xsd rejects the XML:\n%s", out)
	require.Contains(t, out, "validates")
}

// The validator can say no: each broken file is rejected, so a pass above means something.
func TestJUnitSchemaRejects(t *testing.T) {
	good := string(render(t, JUnitReporter{}, fixtureSummary()))
	for _, tt := range []struct{ name, xml string }{
		// a test case without its name
		{"no name", strings.Replace(good, `<testcase name="stateless: run"`, `<testcase`, 1)},
		// a test suite without its test count
		{"no tests count", regexp.MustCompile(`(<testsuite [^>]*) tests="\d+"`).ReplaceAllString(good, "$1")},
		// the outcome after its output: the schema fixes the order
		{"order", strings.Replace(good, "</testsuite>", `<testcase name="x"><system-out>o</system-out><failure message="m"/></testcase></testsuite>`, 1)},
		// an element the schema does not know
		{"unknown element", strings.Replace(good, "</testsuite>", "<verdict>passed</verdict></testsuite>", 1)},
		// not XML at all
		{"truncated", good[:len(good)/2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEqual(t, good, tt.xml, "the edit must change the file")
			out, err := xmllint(t, []byte(tt.xml))
			require.Error(t, err, "xmllint accepted a broken file:\n%s", out)
		})
	}
}

// outcome is one test case's result, short: "pass", or "failure|error|skipped: type: message".
func outcome(tc junit.Testcase) string {
	switch {
	case tc.Error != nil:
		return "error: " + tc.Error.Type + ": " + tc.Error.Message
	case tc.Failure != nil:
		return "failure: " + tc.Failure.Type + ": " + tc.Failure.Message
	case tc.Skipped != nil:
		return "skipped: " + tc.Skipped.Type + ": " + tc.Skipped.Message
	}
	return "pass"
}

func cases(s junit.Testsuites) map[string]string {
	out := map[string]string{}
	for _, suite := range s.Suites {
		for _, tc := range suite.Testcases {
			out[tc.Name] = outcome(tc)
		}
	}
	return out
}

// TestJUnitOutcomes: a case is green only where something was measured and held.
func TestJUnitOutcomes(t *testing.T) {
	one := func(edit func(a *results.Arch)) results.Summary {
		s := fixtureSummary()
		s.Architectures = s.Architectures[:1] // stateless: passes everything
		edit(&s.Architectures[0])
		return s
	}
	tests := []struct {
		name string
		s    results.Summary
		want map[string]string // by test case name; "" prefix match for long messages
	}{
		// the fixture's stateless architecture: every case passes, violation checks no threshold reads included
		{"passed", one(func(*results.Arch) {}), map[string]string{
			"stateless: run":                    "pass",
			"stateless: latency.p99 < 300ms":    "pass",
			"stateless: writes.duplicates == 0": "pass",
			"stateless: writes.lost":            "pass",
			"stateless: updates.lost":           "pass",
		}},
		// a threshold not met fails with the value and the bound
		{"threshold failed", one(func(a *results.Arch) {
			a.Thresholds[0] = mustEval(t, "latency.p99 < 3ms", *a)
		}), map[string]string{
			"stateless: latency.p99 < 3ms": "failure: threshold: measured 28.8 ms; bound latency.p99 < 3ms",
		}},
		// recovery of a fault that did not run: not measured is a failure, never a pass
		{"threshold not measured", one(func(a *results.Arch) {
			a.Faults = nil
			a.Thresholds[4] = mustEval(t, "recovery.seconds < 10", *a)
		}), map[string]string{
			"stateless: recovery.seconds < 10": "failure: not measured: not measured (no fault ran); bound recovery.seconds < 10",
		}},
		// a check the ground truth could not answer, with no threshold on it: not measured, skipped (not a pass)
		{"check not measured", one(func(a *results.Arch) {
			a.Checks["writes.lost"] = results.CheckResult{NotChecked: "the service cannot list orders"}
		}), map[string]string{
			"stateless: writes.lost": "skipped: : not measured: the service cannot list orders; no threshold",
		}},
		// lost writes with no threshold on them: shown with the count and skipped, as the verdict (and the
		// exit code) does not read them; never a pass
		{"violation without threshold", one(func(a *results.Arch) {
			a.Checks["writes.lost"] = results.CheckResult{Value: 3}
		}), map[string]string{
			"stateless: writes.lost": "skipped: : measured 3 (",
			"stateless: run":         "pass",
		}},
		// an invalid run: the run case errors with the reasons; its thresholds are not judged, even those met
		{"invalid", one(func(a *results.Arch) {
			a.Valid, a.InvalidReasons = false, []string{"achieved 120/s of 200/s before the first fault"}
		}), map[string]string{
			"stateless: run":                 "error: invalid: invalid run: achieved 120/s of 200/s before the first fault",
			"stateless: latency.p99 < 300ms": "error: not judged: not judged: invalid run: achieved 120/s",
			"stateless: writes.lost":         "error: not judged: not judged: invalid run: achieved 120/s",
		}},
		// an architecture that did not run to the end
		{"errored", one(func(a *results.Arch) {
			a.Error = "start stack: docker: no such image"
		}), map[string]string{
			"stateless: run":              "error: errored: did not run to the end: start stack: docker: no such image",
			"stateless: errors.rate < 1%": "error: not judged: not judged: did not run to the end: start stack",
		}},
		// a run with no architecture at all is one error, not an empty green suite
		{"nothing ran", results.Summary{Schema: results.SchemaVersion, Scenario: "kill-node"}, map[string]string{
			"run": "error: no architecture: no architecture ran",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := JUnit([]results.Summary{tt.s})
			got := cases(j)
			for name, want := range tt.want {
				require.Contains(t, got, name)
				require.True(t, strings.HasPrefix(got[name], want), "%s:\n got %s\nwant %s…", name, got[name], want)
			}
			// The counts add up, and a run that did not pass never has a green suite.
			require.Equal(t, len(got), j.Tests)
			if results.RunVerdict(tt.s) != results.StatusPassed {
				require.Positive(t, j.Failures+j.Errors, "a %s run with no red test case", results.RunVerdict(tt.s))
			}
			var b bytes.Buffer
			require.NoError(t, WriteJUnit(&b, []results.Summary{tt.s}))
			validateJUnit(t, b.Bytes())
		})
	}
}

// One suite per scenario, in order, with totals over all.
func TestJUnitSuites(t *testing.T) {
	a, b := fixtureSummary(), fixtureSummary()
	b.Scenario = "kill-node"
	b.Architectures = b.Architectures[:1]
	j := JUnit([]results.Summary{a, b})
	require.Len(t, j.Suites, 2)
	require.Equal(t, "compare-architectures", j.Suites[0].Name)
	require.Equal(t, "kill-node", j.Suites[1].Name)
	require.Equal(t, 1, j.Suites[1].ID)
	require.Equal(t, j.Suites[0].Tests+j.Suites[1].Tests, j.Tests)
	require.Zero(t, j.Suites[1].Failures+j.Suites[1].Errors, "stateless passes")
	require.Equal(t, "120.000", j.Time)
	for _, tc := range j.Suites[1].Testcases {
		require.Equal(t, "kill-node", tc.Classname)
	}
	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, []results.Summary{a, b}))
	validateJUnit(t, buf.Bytes())
}

func mustEval(t *testing.T, expr string, a results.Arch) results.Threshold {
	t.Helper()
	e, err := results.ParseThreshold(expr)
	require.NoError(t, err)
	return e.Eval(a)
}
