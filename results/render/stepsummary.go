package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// StepSummaryLimit is GitHub's limit on one step's summary ($GITHUB_STEP_SUMMARY): past it GitHub shows
// none of it and annotates an error, so the report must fit.
const StepSummaryLimit = 1 << 20

// AppendStepSummary appends a Markdown report to path (the file $GITHUB_STEP_SUMMARY names) so that the
// file stays within StepSummaryLimit, counting what the step wrote there before: the full report if it
// fits, else the compact one (no detail tables), else the compact one cut at a line boundary with a note
// saying so. markdown renders the report, compact or not (MarkdownReporter{Compact: compact} for one run).
func AppendStepSummary(path string, markdown func(w io.Writer, compact bool) error) error {
	return appendStepSummary(path, markdown, StepSummaryLimit)
}

// appendStepSummary is AppendStepSummary within limit bytes.
func appendStepSummary(path string, markdown func(w io.Writer, compact bool) error, limit int64) error {
	var have int64
	var tail []byte
	if st, err := os.Stat(path); err == nil {
		have = st.Size()
		tail, err = readLast(path, 2)
		if err != nil {
			return fmt.Errorf("step summary %s: %w", path, err)
		}
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	// A blank line between what the step wrote before and the report, so that the report's title is a title.
	var sep []byte
	switch {
	case have == 0:
	case bytes.HasSuffix(tail, []byte("\n\n")):
	case bytes.HasSuffix(tail, []byte("\n")):
		sep = []byte("\n")
	default:
		sep = []byte("\n\n")
	}
	budget := limit - have - int64(len(sep))

	out, err := fitSummary(markdown, budget)
	if err != nil {
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	if _, err := f.Write(append(sep, out...)); err != nil {
		f.Close()
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("step summary %s: %w", path, err)
	}
	return nil
}

// fitSummary renders the report within budget bytes: full, compact, or compact and cut.
func fitSummary(markdown func(w io.Writer, compact bool) error, budget int64) ([]byte, error) {
	var full bytes.Buffer
	if err := markdown(&full, false); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if int64(full.Len()) <= budget {
		return full.Bytes(), nil
	}
	var compact bytes.Buffer
	if err := markdown(&compact, true); err != nil {
		return nil, fmt.Errorf("render compact: %w", err)
	}
	if int64(compact.Len()) <= budget {
		return compact.Bytes(), nil
	}
	note := fmt.Sprintf("\n**chaosbench: report cut here** to fit GitHub's %d KiB step summary limit (the full report is %s, "+
		"the compact one %s): the run folder's report.md and report.html hold all of it.\n",
		StepSummaryLimit>>10, fmtBytes(float64(full.Len())), fmtBytes(float64(compact.Len())))
	room := budget - int64(len(note))
	if room <= 0 {
		return nil, fmt.Errorf("no room for the report: %d bytes left of GitHub's %d KiB limit", max(budget, 0), StepSummaryLimit>>10)
	}
	b := compact.Bytes()[:room]
	cut := bytes.LastIndexByte(b, '\n') + 1 // 0 when no whole line fits: the note alone
	return append(b[:cut:cut], note...), nil
}

// readLast reads the last n bytes of path (fewer when it is shorter).
func readLast(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	_, err = f.ReadAt(b, off)
	return b, err
}
