package results

import "io"

// HTMLReporter writes report.html (placeholder until the charts land).
type HTMLReporter struct{}

var _ Reporter = HTMLReporter{}

func (HTMLReporter) Format() string { return "html" }
func (HTMLReporter) File() string   { return "report.html" }
func (HTMLReporter) Render(w io.Writer, s Summary) error {
	_, err := io.WriteString(w, "<!doctype html>")
	return err
}
