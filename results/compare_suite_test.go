package results

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// suiteOf builds a suite from summaries, one entry each, in order.
func suiteOf(name string, runs ...Summary) Suite {
	s := Suite{Name: name}
	for i := range runs {
		r := runs[i]
		s.Entries = append(s.Entries, SuiteEntry{Scenario: r.Scenario, Dir: r.Scenario, Architectures: r.ArchNames(), Run: &r})
	}
	return s
}

func steady() Summary {
	s := fixtureSummary()
	s.Scenario = "steady-baseline"
	s.Architectures = s.Architectures[:1]
	return s
}

// TestCompareSuites compares per scenario × architecture: a change in one scenario is a regression of
// that scenario only, a scenario gone from the new suite is a regression, one new in it is shown, and
// identical suites have none.
func TestCompareSuites(t *testing.T) {
	base := suiteOf("nightly", steady(), fixtureSummary())
	same := CompareSuites([]Suite{base}, []Suite{suiteOf("nightly", steady(), fixtureSummary())}, nil)
	require.False(t, same.Regression, "identical suites")
	var names []string
	for _, a := range same.Architectures {
		names = append(names, a.Name)
		require.Equal(t, VerdictOK, a.Verdict, a.Name)
	}
	require.Equal(t, []string{"steady-baseline/stateless", "compare-architectures/stateless", "compare-architectures/stateful",
		"compare-architectures/stateless-no-idempotency"}, names, "every scenario × architecture, in the suite's order")

	// The same architecture name in two scenarios: only the scenario that changed regresses.
	slower := steady()
	slower.Architectures[0].Latency.P99 *= 2
	extra := steady()
	extra.Scenario = "kill-node"
	cand := suiteOf("nightly", slower, extra) // compare-architectures gone, kill-node new
	cand.Entries = append(cand.Entries, SuiteEntry{Scenario: "compare-architectures", NotRun: "the suite was interrupted before it",
		Architectures: []string{"stateless", "stateful", "stateless-no-idempotency"}})
	c := CompareSuites([]Suite{base}, []Suite{cand}, nil)
	require.True(t, c.Regression)
	verdicts := map[string]ArchComparison{}
	for _, a := range c.Architectures {
		verdicts[a.Name] = a
	}
	require.Equal(t, VerdictRegression, verdicts["steady-baseline/stateless"].Verdict)
	require.Equal(t, VerdictRegression, metricOf(t, c, "steady-baseline/stateless", "latency.p99").Verdict)
	gone := verdicts["compare-architectures/stateful"]
	require.Equal(t, VerdictRegression, gone.Verdict, "a scenario the new suite did not run checks nothing any more")
	require.Equal(t, []string{notInNew, "not run in the new suite: the suite was interrupted before it"}, gone.Notes)
	added := verdicts["kill-node/stateless"]
	require.Equal(t, VerdictMissing, added.Verdict, "new in the candidate: shown, not judged")
	require.Len(t, c.Architectures, 5, "nothing dropped")
	require.Equal(t, []string{"suite nightly"}, c.Base)

	require.True(t, strings.HasPrefix(c.VerdictLine(), "REGRESSION: steady-baseline/stateless (latency.p99); "), c.VerdictLine())
	require.Contains(t, c.VerdictLine(), "compare-architectures/stateful (not in the new runs)")
}

// TestCompareSuiteWithRun: a single run folder on one side is a suite of one; the suite's other
// scenarios are then missing from it, and a scenario run twice in a suite is told apart (#2).
func TestCompareSuiteWithRun(t *testing.T) {
	c := CompareSuites([]Suite{SuiteOfRun(steady())}, []Suite{suiteOf("nightly", steady(), steady())}, nil)
	require.False(t, c.Regression)
	require.Equal(t, "steady-baseline/stateless", c.Architectures[0].Name)
	require.Equal(t, VerdictOK, c.Architectures[0].Verdict)
	require.Equal(t, "steady-baseline#2/stateless", c.Architectures[1].Name)
	require.Equal(t, VerdictMissing, c.Architectures[1].Verdict)

	// Another scale of the same scenario is named in a warning.
	half := steady()
	half.Scale = 0.5
	c = CompareSuites([]Suite{SuiteOfRun(steady())}, []Suite{SuiteOfRun(half)}, nil)
	require.Contains(t, c.Warnings, "steady-baseline: runs differ in scale: 1, 0.5")
}
