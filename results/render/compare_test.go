package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// TestCompareReports: the text and Markdown of a comparison with regressions (golden files), and of one
// with nothing changed.
func TestCompareReports(t *testing.T) {
	base := []results.Summary{fixtureSummary(), fixtureSummary()}
	worse := fixtureSummary()
	a := &worse.Architectures[0]
	a.Latency.P99 *= 2
	a.Checks["writes.duplicates"] = results.CheckResult{Value: 4}
	a.Faults[1].RecoveryS = nil
	c := results.Compare(base, []results.Summary{worse, worse}, nil)
	require.True(t, c.Regression)

	var txt, md bytes.Buffer
	require.NoError(t, compareText{}.Render(&txt, c, false))
	require.NoError(t, compareMarkdown{}.Render(&md, c, false))
	golden(t, "compare.txt", txt.Bytes())
	golden(t, "compare.md", md.Bytes())
	require.True(t, strings.HasSuffix(txt.String(), c.VerdictLine()+"\n"), "the verdict line last")
	require.True(t, strings.HasPrefix(md.String(), "## ❌ chaosbench compare"))

	// The same run on both sides: every metric unchanged, said once per architecture.
	same := results.Compare(base[:1], base[:1], nil)
	var b bytes.Buffer
	require.NoError(t, compareText{}.Render(&b, same, false))
	require.Contains(t, b.String(), "every compared metric unchanged")
	require.Contains(t, b.String(), "warning: one run on a side")
	require.True(t, strings.HasSuffix(b.String(), "\nno regression\n"))
}

// TestCompareCells: a metric's median with its range, and its change with the percentage.
func TestCompareCells(t *testing.T) {
	run := func(p99 float64) results.Summary {
		s := fixtureSummary()
		s.Architectures = s.Architectures[:1]
		s.Architectures[0].Latency.P99 = p99
		return s
	}
	c := results.Compare([]results.Summary{run(20), run(22), run(19)}, []results.Summary{run(30), run(31), run(29), run(40)}, nil)
	var m results.MetricChange
	for _, x := range c.Architectures[0].Metrics {
		if x.Metric == "latency.p99" {
			m = x
		}
	}
	require.Equal(t, "+10.5 ms (+52.5%)", fmtChange(m))
	require.Equal(t, "30.5 ms (29.0 ms..40.0 ms)", fmtStat(m, m.New))
}
