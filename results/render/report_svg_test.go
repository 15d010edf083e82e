package render

import (
	"testing"

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
		{"apart", []band{{10, 20, "kill api-1"}, {60, 70, "kill api-2"}}, []int{0, 0}},
		// Overlapping in time (a partition during a kill): the second goes below the first.
		{"overlap", []band{{10, 40, "kill api-1"}, {15, 30, "partition api-2"}}, []int{0, 1}},
		// Three at once, then one after the first has ended: it takes the first free row again.
		{"three then one", []band{{10, 20, "kill api-1"}, {11, 20, "pause api-2"}, {12, 20, "packet-loss api-3"}, {40, 50, "kill api-1"}},
			[]int{0, 1, 2, 0}},
		// Close but not overlapping in time: the first label is longer than its band.
		{"long label", []band{{10, 12, "redis-outage redis · 40.00% errors"}, {13, 20, "kill api-2"}}, []int{0, 1}},
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
	c.bands = []band{{98, 100, "network-partition api-3"}}
	require.Less(t, c.bandLabels()[0].x, c.px(98))
}
