package render

import (
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// TestBandLabelsDoNotCollide: fault labels get rows of their own where they would run into each other,
// and stay inside the plot. The chart is 1100 px wide for 100 s: 10.2 px per second, and a label of 16
// characters is 16×7.2+8 = 123 px, about 12 s of the axis.
func TestBandLabelsDoNotCollide(t *testing.T) {
	c := chart{w: 1100, h: 280, xMax: 100}
	cases := []struct {
		name  string
		bands []band
		rows  []int
	}{
		// Far apart: one row.
		{"apart", []band{{x0: 10, x1: 20, label: "kill api-1"}, {x0: 60, x1: 70, label: "kill api-2"}}, []int{0, 0}},
		// Overlapping in time (a partition during a kill): the second goes below the first.
		{"overlap", []band{{x0: 10, x1: 40, label: "kill api-1"}, {x0: 15, x1: 30, label: "partition api-2"}}, []int{0, 1}},
		// Three at once, then one after the first has ended: it takes the first free row again.
		{"three then one", []band{{x0: 10, x1: 20, label: "kill api-1"}, {x0: 11, x1: 20, label: "pause api-2"}, {x0: 12, x1: 20, label: "packet-loss api-3"}, {x0: 40, x1: 50, label: "kill api-1"}},
			[]int{0, 1, 2, 0}},
		// Close but not overlapping in time: the first label is longer than its band.
		{"long label", []band{{x0: 10, x1: 12, label: "redis-outage redis · 40.00% errors"}, {x0: 13, x1: 20, label: "kill api-2"}}, []int{0, 1}},
	}
	for _, tc := range cases {
		c.bands = tc.bands
		got := c.bandLabels()
		var rows []int
		for i, l := range got {
			rows = append(rows, l.row)
			w := float64(len([]rune(tc.bands[i].label)))*labelChar + 8
			require.LessOrEqual(t, l.x+w, c.w-padR+0.01, "%s: label %d runs off the plot", tc.name, i)
		}
		require.Equal(t, tc.rows, rows, tc.name)
	}
	// A band at the very end pulls its label left, inside the plot.
	c.bands = []band{{x0: 98, x1: 100, label: "network-partition api-3"}}
	require.Less(t, c.bandLabels()[0].x, c.px(98))
}

// TestOverlappingFaultsGolden draws the throughput chart of a run whose faults overlap in time (a
// partition during a kill, a Redis outage starting inside both, and a fault at the very end): each
// label must be readable in testdata/faults-overlap.svg (open it in a browser after -update), and the kill's
// lead-in (its injection began before it took effect) drawn lighter, without a label.
func TestOverlappingFaultsGolden(t *testing.T) {
	a := results.Arch{Name: "stateless"}
	for s := range 60 {
		a.Timeline = append(a.Timeline, results.Second{T: s, Planned: 200, Sent: 200, OK: 196, Errors: 4, Retries: 6,
			P50MS: 3, P95MS: 9, P99MS: 20})
	}
	during := results.Window{Requests: 2000, ErrorRate: 0.031}
	a.Faults = []results.Fault{
		// A failover-like fault whose injection began 1.3 s before it took effect: a lighter lead-in band.
		{Kind: "kill", Resolved: "api-2", BeginS: 18.7, StartS: 20, EndS: 30, During: during},
		{Kind: "partition", Resolved: "api-1", StartS: 22, EndS: 28, During: during},
		{Kind: "redis-outage", Resolved: "redis", StartS: 24, EndS: 26, During: during},
		{Kind: "packet-loss", Resolved: "api-3", StartS: 56, EndS: 60, During: during},
	}
	_, rate := TimeCharts(a)
	page := "<!doctype html><meta charset=utf-8><style>" + chartsCSS + "</style>" + string(rate) + "\n"
	golden(t, "faults-overlap.html", []byte(page))
}
