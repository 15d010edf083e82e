package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// markdownOf is the renderer the CLI passes for one run.
func markdownOf(s results.Summary) func(w io.Writer, compact bool) error {
	return func(w io.Writer, compact bool) error { return MarkdownReporter{Compact: compact}.Render(w, s) }
}

func mdBytes(t *testing.T, s results.Summary, compact bool) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, markdownOf(s)(&b, compact))
	return b.Bytes()
}

// wide is the fixture with its architectures copied until there are n: a report of any size.
func wide(n int) results.Summary {
	s := fixtureSummary()
	base := s.Architectures
	s.Architectures = nil
	for i := range n {
		a := base[i%len(base)]
		a.Name = fmt.Sprintf("%s-%d", a.Name, i)
		s.Architectures = append(s.Architectures, a)
	}
	return s
}

func TestStepSummary(t *testing.T) {
	s := fixtureSummary()
	full, compact := mdBytes(t, s, false), mdBytes(t, s, true)
	require.Less(t, len(compact), len(full)*3/5, "compact leaves out the detail tables")
	require.NotContains(t, string(compact), "### Faults")
	require.Contains(t, string(compact), "| **verdict** |", "compact keeps the side-by-side table")

	tests := []struct {
		name   string
		before string // what the step wrote before
		limit  int64
		want   func(t *testing.T, got []byte) // the part chaosbench appended
	}{
		// room enough: the full report, as report.md has it
		{"full", "", StepSummaryLimit, func(t *testing.T, got []byte) { require.Equal(t, string(full), string(got)) }},
		// another tool wrote first, without a final newline: a blank line keeps the title a title
		{"after other output", "# build\nok", StepSummaryLimit, func(t *testing.T, got []byte) {
			require.Equal(t, "\n\n"+string(full), string(got))
		}},
		// the full report does not fit, the compact one does
		{"compact", "", int64(len(full) - 1), func(t *testing.T, got []byte) { require.Equal(t, string(compact), string(got)) }},
		// what was there before counts against the limit
		{"compact after other output", strings.Repeat("x\n", 100), int64(len(full) + 100), func(t *testing.T, got []byte) {
			require.Equal(t, "\n"+string(compact), string(got))
		}},
		// neither fits: the compact report cut at a line boundary, and a note that says so
		{"cut", "", int64(len(compact) / 2), func(t *testing.T, got []byte) {
			head, note, ok := strings.Cut(string(got), "\n**chaosbench: report cut here**")
			require.True(t, ok, "the note is there:\n%s", got)
			require.True(t, strings.HasPrefix(string(compact), head), "the head is the compact report's beginning")
			require.True(t, strings.HasSuffix(head, "\n"), "cut at a line boundary")
			require.Contains(t, note, "1024 KiB step summary limit")
			require.Contains(t, note, "report.md and report.html hold all of it")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "step_summary.md")
			if tt.before != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.before), 0o644))
			}
			require.NoError(t, appendStepSummary(path, markdownOf(s), tt.limit))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.LessOrEqual(t, int64(len(b)), tt.limit, "within the limit")
			require.True(t, strings.HasPrefix(string(b), tt.before), "what was there stays")
			tt.want(t, b[len(tt.before):])
		})
	}
}

// The real limit, with reports too large for it: 1200 architectures fit only compact, 2500 not even so.
func TestStepSummaryLimit(t *testing.T) {
	for _, tt := range []struct {
		archs int
		cut   bool
	}{{1200, false}, {2500, true}} {
		t.Run(fmt.Sprint(tt.archs), func(t *testing.T) {
			s := wide(tt.archs)
			full := mdBytes(t, s, false)
			require.Greater(t, len(full), StepSummaryLimit, "the test needs a report over the limit")
			path := filepath.Join(t.TempDir(), "step_summary.md")
			require.NoError(t, AppendStepSummary(path, markdownOf(s)))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.LessOrEqual(t, len(b), StepSummaryLimit)
			require.Greater(t, len(b), StepSummaryLimit/4, "not cut to nothing")
			require.NotContains(t, string(b), "### Faults", "compact")
			require.Equal(t, tt.cut, strings.Contains(string(b), "**chaosbench: report cut here**"))
			if !tt.cut {
				require.Equal(t, string(mdBytes(t, s, true)), string(b))
			}
		})
	}
}

// A step summary already at the limit has no room: an error, not a file GitHub would refuse whole.
func TestStepSummaryNoRoom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step_summary.md")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("x\n"), StepSummaryLimit/2), 0o644))
	err := AppendStepSummary(path, markdownOf(fixtureSummary()))
	require.ErrorContains(t, err, "no room for the report")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.EqualValues(t, StepSummaryLimit, st.Size(), "left as it was")
}
