package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
)

// SuiteReporter renders a suite's combined report in one format, as a Reporter renders one run. Each
// format lives in its own file (suite_text.go, suite_md.go, suite_html.go).
type SuiteReporter interface {
	Format() string
	// File is its name inside the suite folder; empty for a format rendered only on demand (`chaosbench
	// report SUITE_DIR --format`), which WriteSuite does not write.
	File() string
	Render(w io.Writer, s results.Suite) error
}

var suiteReporters = NewRegistry[SuiteReporter]("suite report")

// RegisterSuiteReporter adds a suite report format at rank, as RegisterReporter does for a run's (the same
// ranks: RankJSON first, RankJUnit last).
func RegisterSuiteReporter(rank int, r SuiteReporter) { suiteReporters.Register(rank, r) }

// SuiteReporters lists the suite formats, in the order a suite writes them.
func SuiteReporters() []SuiteReporter { return suiteReporters.All() }

// SuiteReportFormats lists the --format values of a suite folder's reports.
func SuiteReportFormats() []string { return suiteReporters.Names() }

// SuiteReporterFor returns the suite reporter for a --format value.
func SuiteReporterFor(format string) (SuiteReporter, error) { return suiteReporters.Lookup(format) }

// SuiteJSONReporter writes suite.json, with the verdicts computed from the entries (Decide).
type SuiteJSONReporter struct{}

// SuiteJUnitReporter is a suite's JUnit XML: one testsuite per scenario, the scenarios it never reached
// included as errors. It is not written into the suite folder (each scenario's folder has its own
// report.junit.xml, and `chaosbench run --junit FILE` writes the suite's); `chaosbench report` prints it.
type SuiteJUnitReporter struct{}

var (
	_ SuiteReporter = SuiteJSONReporter{}
	_ SuiteReporter = SuiteJUnitReporter{}
)

func init() {
	RegisterSuiteReporter(RankJSON, SuiteJSONReporter{})
	RegisterSuiteReporter(RankJUnit, SuiteJUnitReporter{})
}

func (SuiteJSONReporter) Format() string { return "json" }
func (SuiteJSONReporter) File() string   { return runfolder.SuiteFile }
func (SuiteJSONReporter) Render(w io.Writer, s results.Suite) error {
	s.Decide()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode suite: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func (SuiteJUnitReporter) Format() string { return "junit" }
func (SuiteJUnitReporter) File() string   { return "" }
func (SuiteJUnitReporter) Render(w io.Writer, s results.Suite) error {
	return WriteJUnit(w, results.SuiteRuns(s))
}

// WriteSuite writes suite.json (with the verdict computed from the entries) and every combined report into
// dir, and returns the paths written.
func WriteSuite(dir string, s results.Suite) ([]string, error) {
	s.Decide()
	var paths []string
	for _, r := range SuiteReporters() {
		if r.File() == "" {
			continue
		}
		p := filepath.Join(dir, r.File())
		if err := writeAtomic(p, func(w io.Writer) error { return r.Render(w, s) }); err != nil {
			return paths, fmt.Errorf("%s: render %s suite report: %w", p, r.Format(), err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// suiteRow is one scenario × architecture of the combined table, as every format shows it.
type suiteRow struct {
	Entry    int // 0-based index of the entry
	Scenario string
	Dir      string
	Arch     string
	Status   results.Status
	NotRun   bool     // never started: shown as "not run", counted as errored
	Why      []string // why it did not pass
	P99      string   // whole-run p99, "–" when nothing was measured
	Errors   string   // error rate
}

// suiteRows is the combined table: every planned architecture of every entry, run or not, so that a
// scenario the suite never reached is listed ("not run"), never left out.
func suiteRows(s results.Suite) []suiteRow {
	var rows []suiteRow
	for i, e := range s.Entries {
		if e.Run == nil || e.NotRun != "" {
			why := e.NotRun
			if why == "" {
				why = "not run"
			}
			archs := e.Architectures
			if len(archs) == 0 {
				archs = []string{"–"}
			}
			for _, a := range archs {
				rows = append(rows, suiteRow{Entry: i, Scenario: e.Scenario, Arch: a, Status: results.StatusErrored, NotRun: true,
					Why: []string{why}, P99: "–", Errors: "–"})
			}
			continue
		}
		if len(e.Run.Architectures) == 0 {
			rows = append(rows, suiteRow{Entry: i, Scenario: e.Scenario, Dir: e.Dir, Arch: "–", Status: results.StatusErrored,
				Why: []string{"no architecture ran"}, P99: "–", Errors: "–"})
		}
		for _, a := range e.Run.Architectures {
			st, why := results.ArchStatus(a)
			r := suiteRow{Entry: i, Scenario: e.Scenario, Dir: e.Dir, Arch: a.Name, Status: st, Why: why,
				P99: results.FormatMS(a.Latency.P99), Errors: results.FormatPct(a.ErrorRate)}
			if a.Requests.Sent == 0 {
				r.P99, r.Errors = "–", "–"
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// statusText is a row's verdict in words, with the marks of the format.
func (r suiteRow) statusText(ok, fail string) string {
	switch {
	case r.NotRun:
		return "– not run"
	case r.Status == results.StatusPassed:
		return ok + " pass"
	case r.Status == results.StatusFailed:
		return fail + " FAIL"
	}
	return fail + " " + strings.ToUpper(string(r.Status))
}

// suiteHeader says which suite this is.
func suiteHeader(s results.Suite) string {
	parts := []string{s.Name, fmt.Sprintf("%d scenarios", len(s.Entries))}
	if s.DurationS > 0 {
		parts = append(parts, fmt.Sprintf("%.0f s", s.DurationS))
	}
	if !s.StartedAt.IsZero() {
		parts = append(parts, "started "+s.StartedAt.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return strings.Join(parts, " · ")
}

// suiteVerdictLines are the suite's verdict and one line per scenario × architecture that did not pass.
func suiteVerdictLines(s results.Suite) (head string, failures []string) {
	rows := suiteRows(s)
	st := results.SuiteVerdict(s)
	notRun := 0
	for _, r := range rows {
		if r.NotRun {
			notRun++
		}
		if r.Status != results.StatusPassed {
			what := r.Scenario + " × " + r.Arch
			if r.Status != results.StatusFailed && !r.NotRun {
				what += " (" + string(r.Status) + ")"
			}
			failures = append(failures, what+": "+strings.Join(r.Why, "; "))
		}
	}
	n := len(rows)
	switch {
	case len(s.Entries) == 0:
		return "ERRORED: the suite has no scenario", nil
	case st == results.StatusPassed:
		return fmt.Sprintf("PASSED: all %d scenario × architecture runs valid and within every threshold", n), nil
	}
	head = map[results.Status]string{
		results.StatusFailed:  "FAILED: %d of %d scenario × architecture runs",
		results.StatusInvalid: "INVALID: %d of %d scenario × architecture runs did not pass, and a run that measured too little proves nothing",
		results.StatusErrored: "ERRORED: %d of %d scenario × architecture runs did not pass, and a run that did not finish proves nothing",
	}[st]
	head = fmt.Sprintf(head, len(failures), n)
	if notRun > 0 {
		head += fmt.Sprintf(" (%d not run)", notRun)
	}
	return head, failures
}

// writeAtomic renders into path completely or not at all, as WriteReport does for a run's reports.
func writeAtomic(path string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}
