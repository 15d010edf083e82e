package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/chaosbench/chaosbench/results"
)

// TextReporter is the terminal table: architectures side by side as
// columns, then a verdict line. Color adds ANSI colors; the CLI sets it only
// when stdout is a terminal and NO_COLOR is unset, so pipes and CI logs stay
// plain.
type TextReporter struct {
	Color bool
}

var _ Reporter = TextReporter{}

func init() { RegisterReporter(RankText, TextReporter{}) }

func (TextReporter) Format() string { return "text" }
func (TextReporter) File() string   { return "report.txt" }

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiBold  = "\x1b[1m"
	ansiReset = "\x1b[0m"
)

func (r TextReporter) Render(w io.Writer, s results.Summary) error {
	rows := buildTable(s, "✓", "✗")
	names := s.ArchNames()

	// Widths count runes, not bytes: ✓ and ✗ are one column wide.
	labelW := 0
	for _, rw := range rows {
		labelW = max(labelW, utf8.RuneCountInString(rw.label))
	}
	colW := make([]int, len(names))
	for i, n := range names {
		colW[i] = utf8.RuneCountInString(n)
		for _, rw := range rows {
			colW[i] = max(colW[i], utf8.RuneCountInString(rw.cells[i].text))
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "chaosbench: %s\n", headerLine(s))
	line := func(label string, cells []cell) {
		b.WriteString(padRunes(label, labelW))
		for i, c := range cells {
			b.WriteString("  ")
			text := padRunes(c.text, colW[i])
			if i == len(cells)-1 {
				text = strings.TrimRight(text, " ")
			}
			b.WriteString(r.paint(c, text))
		}
		b.WriteString("\n")
	}
	head := make([]cell, len(names))
	for i, n := range names {
		head[i] = cell{text: n}
	}
	b.WriteString("\n")
	line("", head)
	for i, rw := range rows {
		if rw.section && i > 0 {
			b.WriteString("\n")
		}
		line(rw.label, rw.cells)
	}
	b.WriteString("\n")
	v, failures := results.VerdictLines(s)
	writeVerdict(&b, r.Color, results.RunVerdict(s), v, failures)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeVerdict writes a verdict line (bold, green when passed and red otherwise, with color) and the
// failures under it: a run's and a suite's text reports end the same way.
func writeVerdict(b *strings.Builder, color bool, st results.Status, line string, failures []string) {
	if color {
		c := ansiRed
		if st == results.StatusPassed {
			c = ansiGreen
		}
		line = ansiBold + c + line + ansiReset
	}
	b.WriteString(line + "\n")
	for _, f := range failures {
		b.WriteString("  " + f + "\n")
	}
}

func (r TextReporter) paint(c cell, text string) string {
	switch {
	case !r.Color:
		return text
	case c.bad:
		return ansiRed + text + ansiReset
	case c.good:
		return ansiGreen + text + ansiReset
	}
	return text
}

// padRunes pads by runes, not bytes (✓ and ✗ are one column). The table
// is laid out here rather than by text/tabwriter because its cells may be
// colored: tabwriter would count the ANSI escapes as text and misalign them.
func padRunes(s string, w int) string {
	if n := utf8.RuneCountInString(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
