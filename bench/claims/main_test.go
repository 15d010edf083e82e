package main

import (
	"os"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
)

// TestClaimsAreMeasurable: every number a claim shows and every expression it expects is one a run can
// measure on its scenario: a known metric, and a fault window that names one fault of the scenario.
func TestClaimsAreMeasurable(t *testing.T) {
	for _, c := range claims {
		plan, err := scenarios.Load(c.scenario)
		require.NoError(t, err, c.scenario)
		var kinds []string
		for _, f := range plan.Faults {
			kinds = append(kinds, f.Kind)
		}
		for _, name := range c.metrics {
			_, err := results.LookupThresholdMetric(name)
			require.NoError(t, err, "%s: %s", c.scenario, name)
			e, err := results.ParseThreshold(name + " >= 0")
			require.NoError(t, err)
			if e.Fault != nil {
				_, err := e.Fault.Resolve(kinds)
				require.NoError(t, err, "%s: %s", c.scenario, name)
			}
		}
		for _, x := range c.expects {
			if _, ok := plan.Arch(x.arch); !ok {
				t.Errorf("%s: no architecture %s", c.scenario, x.arch)
			}
			if x.holds != "" {
				e, err := results.ParseThreshold(x.holds)
				require.NoError(t, err, x.holds)
				if e.Fault != nil {
					_, err := e.Fault.Resolve(kinds)
					require.NoError(t, err, "%s: %s", c.scenario, x.holds)
				}
			}
		}
	}
}

// TestDocMatchesGenerator: docs/claims.md is written by this program, or by hand from a single scenario's
// run; either way its rows open with the words the generator prints (the claim, its scenario, the client
// behaviour, what is expected), and their numbers name the metrics the generator shows.
func TestDocMatchesGenerator(t *testing.T) {
	raw, err := os.ReadFile("../../docs/claims.md")
	require.NoError(t, err)
	var rows []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| claim |") {
			rows = append(rows, l)
		}
	}
	require.Len(t, rows, len(claims), "one row per claim")
	// The header's words too, up to what a run changes (machine, scale, date).
	var h strings.Builder
	header(&h, 1)
	words := h.String()
	words = words[strings.Index(words, "A claim's numbers"):strings.Index(words, "Regenerate with")]
	require.Contains(t, string(raw), words, "the header's paragraphs")
	for i, c := range claims {
		plan, err := scenarios.Load(c.scenario)
		require.NoError(t, err)
		head := lead(c, &plan) + " "
		require.True(t, strings.HasPrefix(rows[i], head), "row %d of docs/claims.md:\n got: %s\nwant: %s...", i+1, rows[i], head)
		cells := strings.Split(strings.TrimSuffix(rows[i], " |"), " | ")
		numbers := cells[len(cells)-1]
		for _, m := range c.metrics {
			require.Contains(t, numbers, m+" ", "row %d (%s) shows %s", i+1, c.scenario, m)
		}
	}
}

// TestReplaceRows: -only puts a regenerated row in place of its old one, adds a new claim's row after the
// table, and leaves every other line (the header, other rows) as it was.
func TestReplaceRows(t *testing.T) {
	doc := "# title\n\nhand-written words\n\n| claim | scenario | x |\n|---|---|---|\n| A | `a` | old |\n| B | `b` | kept |\n\nafter\n"
	got := replaceRows(doc, []string{"| A | `a` | new |\n", "| C | `c` | added |\n"})
	require.Equal(t, "# title\n\nhand-written words\n\n| claim | scenario | x |\n|---|---|---|\n| A | `a` | new |\n| B | `b` | kept |\n| C | `c` | added |\n\nafter\n", got)
}
