package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// verdictCases are one summary per status, each a single architecture.
func verdictCases() []struct {
	name string
	s    results.Summary
	want results.Status
} {
	ok := results.Threshold{Expr: "errors.rate < 1%", Value: 0.001, OK: true}
	bad := results.Threshold{Expr: "errors.rate < 1%", Value: 0.05}
	arch := func(mod func(*results.Arch)) results.Summary {
		a := results.Arch{Name: "stateless", Valid: true, Thresholds: []results.Threshold{ok}}
		mod(&a)
		return results.Summary{Schema: results.SchemaVersion, Scenario: "s", Architectures: []results.Arch{a}}
	}
	return []struct {
		name string
		s    results.Summary
		want results.Status
	}{
		// Valid and within every threshold.
		{"passed", arch(func(*results.Arch) {}), results.StatusPassed},
		// Valid, a threshold not met.
		{"failed", arch(func(a *results.Arch) { a.Thresholds = []results.Threshold{bad} }), results.StatusFailed},
		// Every threshold met, but a fault did not run: never a pass.
		{"invalid", arch(func(a *results.Arch) {
			a.Valid, a.InvalidReasons = false, []string{"fault kill on api-1 did not run as planned: refused"}
		}), results.StatusInvalid},
		// The stack never came up: the thresholds of an empty run pass vacuously, the verdict must not.
		{"errored", arch(func(a *results.Arch) { a.Error = "stack up: images missing" }), results.StatusErrored},
		// An architecture that did not run beside one that passed: the run errored.
		{"errored beside passed", results.Summary{Architectures: []results.Arch{
			{Name: "stateless", Valid: true}, {Name: "stateful", Error: "not run: interrupted"}}}, results.StatusErrored},
		// No architecture at all.
		{"empty", results.Summary{}, results.StatusErrored},
	}
}

// TestOneVerdict: the status function, and what every report says, agree
// on passed, failed, invalid and errored.
func TestOneVerdict(t *testing.T) {
	for _, tc := range verdictCases() {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, results.RunVerdict(tc.s))
			head := strings.ToUpper(string(tc.want)) + ":"

			var txt bytes.Buffer
			require.NoError(t, TextReporter{}.Render(&txt, tc.s))
			require.Contains(t, txt.String(), "\n"+head, "the text report's verdict line")

			var md bytes.Buffer
			require.NoError(t, MarkdownReporter{}.Render(&md, tc.s))
			mark := "❌"
			if tc.want == results.StatusPassed {
				mark = "✅"
			}
			require.True(t, strings.HasPrefix(md.String(), "## "+mark), "the Markdown title")
			require.Contains(t, md.String(), "**"+head)

			var html bytes.Buffer
			require.NoError(t, HTMLReporter{}.Render(&html, tc.s))
			require.Contains(t, html.String(), head)
			for _, a := range tc.s.Architectures {
				st, why := results.ArchStatus(a)
				require.Contains(t, html.String(), ">"+string(st)+"</span>", "the architecture's badge")
				if st != results.StatusPassed {
					require.NotEmpty(t, why)
				}
			}
		})
	}
}
