package results

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// verdictCases are one summary per status, each a single architecture.
func verdictCases() []struct {
	name string
	s    Summary
	want Status
} {
	ok := Threshold{Expr: "errors.rate < 1%", Value: 0.001, OK: true}
	bad := Threshold{Expr: "errors.rate < 1%", Value: 0.05}
	arch := func(mod func(*Arch)) Summary {
		a := Arch{Name: "stateless", Valid: true, Thresholds: []Threshold{ok}}
		mod(&a)
		return Summary{Schema: SchemaVersion, Scenario: "s", Architectures: []Arch{a}}
	}
	return []struct {
		name string
		s    Summary
		want Status
	}{
		// Valid and within every threshold.
		{"passed", arch(func(*Arch) {}), StatusPassed},
		// Valid, a threshold not met.
		{"failed", arch(func(a *Arch) { a.Thresholds = []Threshold{bad} }), StatusFailed},
		// Every threshold met, but a fault did not run: never a pass.
		{"invalid", arch(func(a *Arch) {
			a.Valid, a.InvalidReasons = false, []string{"fault kill on api-1 did not run as planned: refused"}
		}), StatusInvalid},
		// The stack never came up: the thresholds of an empty run pass vacuously, the verdict must not.
		{"errored", arch(func(a *Arch) { a.Error = "stack up: images missing" }), StatusErrored},
		// An architecture that did not run beside one that passed: the run errored.
		{"errored beside passed", Summary{Architectures: []Arch{
			{Name: "stateless", Valid: true}, {Name: "stateful", Error: "not run: interrupted"}}}, StatusErrored},
		// No architecture at all.
		{"empty", Summary{}, StatusErrored},
	}
}

// TestOneVerdict: the status function, and what every report says, agree
// on passed, failed, invalid and errored.
func TestOneVerdict(t *testing.T) {
	for _, tc := range verdictCases() {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, RunVerdict(tc.s))
			head := strings.ToUpper(string(tc.want)) + ":"

			var txt bytes.Buffer
			require.NoError(t, TextReporter{}.Render(&txt, tc.s))
			require.Contains(t, txt.String(), "\n"+head, "the text report's verdict line")

			var md bytes.Buffer
			require.NoError(t, MarkdownReporter{}.Render(&md, tc.s))
			mark := "❌"
			if tc.want == StatusPassed {
				mark = "✅"
			}
			require.True(t, strings.HasPrefix(md.String(), "## "+mark), "the Markdown title")
			require.Contains(t, md.String(), "**"+head)

			var html bytes.Buffer
			require.NoError(t, HTMLReporter{}.Render(&html, tc.s))
			require.Contains(t, html.String(), head)
			for _, a := range tc.s.Architectures {
				st, why := ArchStatus(a)
				require.Contains(t, html.String(), ">"+string(st)+"</span>", "the architecture's badge")
				if st != StatusPassed {
					require.NotEmpty(t, why)
				}
			}
		})
	}
}
