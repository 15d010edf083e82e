package render

import (
	"io"

	"github.com/chaosbench/chaosbench/results"
)

// JUnitReporter writes report.junit.xml: the JUnit XML of one run (junit.go says what it holds). It is
// written last (RankJUnit says why).
type JUnitReporter struct{}

var _ Reporter = JUnitReporter{}

func init() { RegisterReporter(RankJUnit, JUnitReporter{}) }

func (JUnitReporter) Format() string { return "junit" }
func (JUnitReporter) File() string   { return "report.junit.xml" }
func (JUnitReporter) Render(w io.Writer, s results.Summary) error {
	return WriteJUnit(w, []results.Summary{s})
}
