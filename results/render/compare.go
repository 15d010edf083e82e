package render

import (
	"io"

	"github.com/chaosbench/chaosbench/results"
)

// Rendering a Comparison: text for terminals and CI logs, Markdown for pull requests, JSON for tools.

// CompareReporter renders a Comparison in one format, as a Reporter renders
// a run: one per --format value of `chaosbench compare`.
type CompareReporter interface {
	Format() string
	// Render writes c; unchanged metrics are left out unless all is set
	// (JSON always has every metric).
	Render(w io.Writer, c results.Comparison, all bool) error
}

type (
	compareText     struct{}
	compareMarkdown struct{}
	compareJSON     struct{}
)

var (
	_ CompareReporter = compareText{}
	_ CompareReporter = compareMarkdown{}
	_ CompareReporter = compareJSON{}
)

func (compareText) Format() string     { return "text" }
func (compareMarkdown) Format() string { return "md" }
func (compareJSON) Format() string     { return "json" }

func (compareText) Render(w io.Writer, c results.Comparison, all bool) error {
	return c.WriteText(w, all)
}
func (compareMarkdown) Render(w io.Writer, c results.Comparison, all bool) error {
	return c.WriteMarkdown(w, all)
}
func (compareJSON) Render(w io.Writer, c results.Comparison, _ bool) error { return c.WriteJSON(w) }

var compareReporters = NewRegistry[CompareReporter]("compare")

// The compare formats, in the order --format lists them.
func init() {
	compareReporters.Register(100, compareText{})
	compareReporters.Register(200, compareMarkdown{})
	compareReporters.Register(300, compareJSON{})
}

// CompareReporters lists every compare format.
func CompareReporters() []CompareReporter { return compareReporters.All() }

// CompareFormats lists the --format values of `chaosbench compare`.
func CompareFormats() []string { return compareReporters.Names() }

// CompareReporterFor returns the compare reporter for a --format value.
func CompareReporterFor(format string) (CompareReporter, error) {
	return compareReporters.Lookup(format)
}
