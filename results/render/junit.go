package render

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/results"
	"github.com/jstemmer/go-junit-report/v2/junit"
)

// WriteJUnit writes JUnit(runs) as XML.
func WriteJUnit(w io.Writer, runs []results.Summary) error {
	if _, err := io.WriteString(w, xmlHeader); err != nil {
		return err
	}
	suites := JUnit(runs)
	if err := suites.WriteXML(w); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	return nil
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// JUnit is runs as JUnit XML test suites, one per run (a scenario), in order. Per architecture: one test
// case for the run itself, one per threshold, and one per violation check that no threshold reads
// ("writes.lost"). The cases follow the run's one verdict (RunVerdict, as the exit code does), and a case
// is green only where something was measured and held:
//   - the run case is an error when the architecture errored or was invalid, with why;
//   - an errored or invalid architecture's other cases are errors too ("not judged"): its numbers prove
//     nothing, and a green "latency.p99 < 300ms" beside them would say otherwise;
//   - a threshold fails with what was measured and the bound, or with "not measured" (never a pass);
//   - a violation check no threshold reads passes at 0 and is skipped, with its count or with why it was
//     not measured, otherwise: the scenario did not make it part of the verdict, and a red case beside a
//     passing exit code would be a second rule.
//
// The XML validates against the Jenkins xunit plugin's junit-10.xsd (testdata/junit-10.xsd), the schema
// CI tools' JUnit readers follow (docs/ci.md).
func JUnit(runs []results.Summary) junit.Testsuites {
	all := junit.Testsuites{Name: "chaosbench"}
	if len(runs) == 0 { // nothing began (a suite that broke before its first scenario): one error, not an empty file
		runs = []results.Summary{{}}
	}
	var total float64
	for i, s := range runs {
		suite := junitSuite(s)
		suite.ID = i
		total += s.DurationS
		all.AddSuite(suite)
	}
	all.Time = junitSeconds(total)
	// junit-10.xsd has no skipped count on <testsuites> (each <testsuite> carries its own).
	all.Skipped = 0
	return all
}

// Types of the failure and error elements, for a CI system that groups by them.
const (
	junitThreshold  = "threshold"
	junitViolation  = "violation"
	junitUnmeasured = "not measured"
	junitInvalid    = "invalid"
	junitErrored    = "errored"
	junitNotJudged  = "not judged"
	junitNothingRan = "no architecture"
)

func junitSuite(s results.Summary) junit.Testsuite {
	// A run that failed before it began has no scenario name yet: the suite still needs one.
	suite := junit.Testsuite{Name: cmp.Or(s.Scenario, "chaosbench run"), Time: junitSeconds(s.DurationS)}
	suite.AddProperty("verdict", string(results.RunVerdict(s)))
	if !s.StartedAt.IsZero() { // a run that began, with its seed and scale
		suite.Timestamp = s.StartedAt.UTC().Format(time.RFC3339)
		suite.AddProperty("seed", fmt.Sprint(s.Seed))
		suite.AddProperty("scale", fmt.Sprint(s.Scale))
	}
	if len(s.Architectures) == 0 {
		// Nothing ran: one error, so that the suite is not an empty green.
		suite.AddTestcase(junit.Testcase{Name: "run", Classname: suite.Name,
			Error: &junit.Result{Type: junitNothingRan, Message: "no architecture ran"}})
		return suite
	}
	checks := results.ViolationChecks(s)
	for _, a := range s.Architectures {
		for _, tc := range junitArch(s.Scenario, a, checks) {
			suite.AddTestcase(tc)
		}
	}
	return suite
}

// junitArch is one architecture's test cases: its run, its thresholds, the violation checks no threshold
// reads.
func junitArch(scenario string, a results.Arch, checks []results.Check) []junit.Testcase {
	tc := func(name string) junit.Testcase {
		return junit.Testcase{Name: a.Name + ": " + name, Classname: scenario}
	}
	// notJudged is why a's cases cannot carry a verdict ("" when they can).
	notJudged := ""
	run := tc("run")
	switch {
	case a.Error != "":
		notJudged = "did not run to the end: " + a.Error
		run.Error = &junit.Result{Type: junitErrored, Message: notJudged}
	case !a.Valid:
		notJudged = "invalid run"
		if len(a.InvalidReasons) > 0 {
			notJudged += ": " + strings.Join(a.InvalidReasons, "; ")
		}
		run.Error = &junit.Result{Type: junitInvalid, Message: notJudged, Data: results.ValidityRule}
	default:
		// The run's numbers ride along, per op as every report has them, for whoever opens the case.
		var b strings.Builder
		fmt.Fprintf(&b, "valid; %d requests sent at %.1f of %.0f/s before the faults",
			a.Requests.Sent, a.Requests.AchievedRate, a.Requests.PlannedRate)
		for _, o := range a.Ops {
			fmt.Fprintf(&b, "\nop %s: %d requests, p50 %s, p99 %s, errors %s", o.Name, o.Requests,
				results.FormatMS(o.P50MS), results.FormatMS(o.P99MS), results.FormatPct(o.ErrorRate))
		}
		run.SystemOut = &junit.Output{Data: b.String()}
	}
	out := []junit.Testcase{run}
	judge := func(c junit.Testcase, outcome func(*junit.Testcase)) {
		if notJudged != "" {
			c.Error = &junit.Result{Type: junitNotJudged, Message: "not judged: " + notJudged}
		} else {
			outcome(&c)
		}
		out = append(out, c)
	}

	read := map[string]bool{} // metrics a threshold of a reads
	for _, t := range a.Thresholds {
		if m, ok := results.ThresholdMetric(t); ok {
			read[m.Name] = true
		}
		judge(tc(t.Expr), func(c *junit.Testcase) {
			measured := "measured " + results.ThresholdValue(t)
			switch {
			case t.Unmeasured:
				measured = "not measured"
				if t.Detail != "" {
					measured += " (" + strings.TrimPrefix(t.Detail, "not measured: ") + ")"
				}
			case t.Detail != "" && t.Value < 0:
				measured = "measured ∞ (" + t.Detail + ")" // never recovered
			}
			msg := measured + "; bound " + t.Expr
			switch {
			case t.Unmeasured:
				c.Failure = &junit.Result{Type: junitUnmeasured, Message: msg}
			case !t.OK:
				c.Failure = &junit.Result{Type: junitThreshold, Message: msg}
			default:
				c.SystemOut = &junit.Output{Data: msg}
			}
		})
	}
	for _, ch := range checks {
		if read[ch.Name] {
			continue // the threshold is its test case
		}
		// No threshold reads this check, so it does not decide the verdict (RunVerdict, the one rule every
		// report and the exit code follow): a count is shown, skipped, never failed or passed on a rule
		// of JUnit's own.
		judge(tc(ch.Name), func(c *junit.Testcase) {
			const why = "; no threshold of the scenario reads it, so it does not decide the verdict"
			r, ok := ch.Result(a)
			switch {
			case !ok:
				c.Skipped = &junit.Result{Message: "not measured: this summary does not record " + ch.Name + why}
			case r.NotChecked != "":
				c.Skipped = &junit.Result{Message: "not measured: " + r.NotChecked + why}
			case r.Value > 0:
				data := ch.Explain
				if len(r.Examples) > 0 {
					data += "\nexamples: " + strings.Join(r.Examples, ", ")
				}
				// <skipped> carries a message and text, no type (junit-10.xsd).
				c.Skipped = &junit.Result{Message: fmt.Sprintf("measured %d (%s)%s", r.Value, ch.Title, why), Data: data}
			default:
				c.SystemOut = &junit.Output{Data: "measured 0"}
			}
		})
	}
	return out
}

func junitSeconds(s float64) string { return fmt.Sprintf("%.3f", s) }
