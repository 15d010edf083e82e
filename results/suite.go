package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A suite is several scenarios run one after another into one folder: each scenario keeps its own
// sub-folder with its own summary.json and reports (so `chaosbench report` and `compare` read it as any
// run), and the suite folder gets suite.json and the combined reports (suite_text.go, suite_md.go,
// suite_html.go). docs/suites.md.

// SuiteSchemaVersion names suite.json's layout, versioned as summary.json is (docs/suites.md).
const SuiteSchemaVersion = "chaosbench.suite/v1"

// SuiteFileName is the suite summary inside a suite folder.
const SuiteFileName = "suite.json"

// Suite is suite.json: which scenarios ran where, and the verdict of the whole. The entries' summaries
// stay in their own folders; Run holds each one once read (ReadSuite) or once run (runner.RunSuite).
type Suite struct {
	Schema      string       `json:"schema"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Source      string       `json:"source,omitempty"` // the suite file; empty for scenarios named on the command line
	StartedAt   time.Time    `json:"started_at"`
	DurationS   float64      `json:"duration_s"` // the whole suite, wall clock
	Verdict     Status       `json:"verdict"`    // SuiteVerdict, written for consumers; reports recompute it
	Passed      bool         `json:"passed"`
	Entries     []SuiteEntry `json:"entries"`
}

// SuiteEntry is one scenario of a suite.
type SuiteEntry struct {
	Scenario string  `json:"scenario"`
	Source   string  `json:"source,omitempty"` // the scenario file, or builtin:catalogue/NAME.yaml
	Dir      string  `json:"dir,omitempty"`    // its run folder, relative to the suite folder; empty when not run
	Scale    float64 `json:"scale"`
	// Architectures are the ones planned, so that an entry never reached still lists what it would have run.
	Architectures []string `json:"architectures"`
	Verdict       Status   `json:"verdict"`
	// NotRun says why the entry never started (the suite was interrupted before it); it is then errored.
	NotRun string `json:"not_run,omitempty"`
	// Run is the entry's summary (Dir/summary.json); nil when it did not run.
	Run *Summary `json:"-"`
}

// EntryVerdict is an entry's status: its run's verdict, or errored when it never ran. An entry that did
// not run never counts as passed.
func EntryVerdict(e SuiteEntry) Status {
	if e.Run == nil || e.NotRun != "" {
		return StatusErrored
	}
	return RunVerdict(*e.Run)
}

// SuiteVerdict is the worst of the entries' verdicts, computed from their summaries (never from a stored
// field); a suite with no entry errored.
func SuiteVerdict(s Suite) Status {
	if len(s.Entries) == 0 {
		return StatusErrored
	}
	st := StatusPassed
	for _, e := range s.Entries {
		st = st.Worse(EntryVerdict(e))
	}
	return st
}

// Decide fills the stored verdicts (and the schema) from the entries' summaries: what suite.json says
// for consumers that do not recompute them.
func (s *Suite) Decide() {
	s.Schema = SuiteSchemaVersion
	for i := range s.Entries {
		s.Entries[i].Verdict = EntryVerdict(s.Entries[i])
	}
	s.Verdict = SuiteVerdict(*s)
	s.Passed = s.Verdict == StatusPassed
}

// SuiteRuns is every entry's summary, in order, for consumers that take runs (JUnit, benchmark series):
// an entry that did not run is a summary whose planned architectures are errored with why ("not run: ..."),
// as the runner records an architecture a run never reached, so it cannot vanish from them.
func SuiteRuns(s Suite) []Summary {
	var out []Summary
	for _, e := range s.Entries {
		if e.Run != nil && e.NotRun == "" {
			out = append(out, *e.Run)
			continue
		}
		why := e.NotRun
		if why == "" {
			why = "the suite did not reach it"
		}
		sum := Summary{Schema: SchemaVersion, Scenario: e.Scenario, Scale: e.Scale, StartedAt: s.StartedAt}
		for _, a := range e.Architectures {
			sum.Architectures = append(sum.Architectures, Arch{Name: a, Error: "not run: " + why})
		}
		sum.Verdict = RunVerdict(sum)
		out = append(out, sum)
	}
	return out
}

// SuiteReporter renders a suite's combined report in one format, as a Reporter renders one run. Each
// format lives in its own file (suite_text.go, suite_md.go, suite_html.go).
type SuiteReporter interface {
	Format() string
	// File is its name inside the suite folder; empty for a format rendered only on demand (`chaosbench
	// report SUITE_DIR --format`), which WriteSuite does not write.
	File() string
	Render(w io.Writer, s Suite) error
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
func (SuiteJSONReporter) File() string   { return SuiteFileName }
func (SuiteJSONReporter) Render(w io.Writer, s Suite) error {
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
func (SuiteJUnitReporter) Render(w io.Writer, s Suite) error {
	return WriteJUnit(w, SuiteRuns(s))
}

// WriteSuite writes suite.json (with the verdict computed from the entries) and every combined report into
// dir, and returns the paths written.
func WriteSuite(dir string, s Suite) ([]string, error) {
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

// IsSuiteDir reports whether dir is a suite folder (it has suite.json).
func IsSuiteDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, SuiteFileName))
	return err == nil && st.Mode().IsRegular()
}

// ReadSuite reads a suite folder: suite.json and the summary.json of every entry that ran. Another schema,
// or an entry whose summary is missing, is an error naming the file.
func ReadSuite(dir string) (Suite, error) {
	path := filepath.Join(dir, SuiteFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return Suite{}, err
	}
	var s Suite
	if err := json.Unmarshal(b, &s); err != nil {
		return Suite{}, fmt.Errorf("%s: not a chaosbench suite summary: %w", path, err)
	}
	if s.Schema != SuiteSchemaVersion {
		return Suite{}, fmt.Errorf("%s: schema %q, want %q", path, s.Schema, SuiteSchemaVersion)
	}
	for i, e := range s.Entries {
		if e.Dir == "" {
			continue
		}
		if filepath.IsAbs(e.Dir) || strings.HasPrefix(filepath.Clean(e.Dir), "..") {
			return Suite{}, fmt.Errorf("%s: entries[%d].dir %q: want a folder inside the suite's", path, i, e.Dir)
		}
		sum, err := ReadSummary(filepath.Join(dir, e.Dir, "summary.json"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("%s: entries[%d] (%s): %w", path, i, e.Scenario, err)
			}
			return Suite{}, err
		}
		s.Entries[i].Run = &sum
	}
	return s, nil
}

// suiteRow is one scenario × architecture of the combined table, as every format shows it.
type suiteRow struct {
	Entry    int // 0-based index of the entry
	Scenario string
	Dir      string
	Arch     string
	Status   Status
	NotRun   bool     // never started: shown as "not run", counted as errored
	Why      []string // why it did not pass
	P99      string   // whole-run p99, "–" when nothing was measured
	Errors   string   // error rate
}

// suiteRows is the combined table: every planned architecture of every entry, run or not, so that a
// scenario the suite never reached is listed ("not run"), never left out.
func suiteRows(s Suite) []suiteRow {
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
				rows = append(rows, suiteRow{Entry: i, Scenario: e.Scenario, Arch: a, Status: StatusErrored, NotRun: true,
					Why: []string{why}, P99: "–", Errors: "–"})
			}
			continue
		}
		if len(e.Run.Architectures) == 0 {
			rows = append(rows, suiteRow{Entry: i, Scenario: e.Scenario, Dir: e.Dir, Arch: "–", Status: StatusErrored,
				Why: []string{"no architecture ran"}, P99: "–", Errors: "–"})
		}
		for _, a := range e.Run.Architectures {
			st, why := ArchStatus(a)
			r := suiteRow{Entry: i, Scenario: e.Scenario, Dir: e.Dir, Arch: a.Name, Status: st, Why: why,
				P99: fmtMS(a.Latency.P99), Errors: fmtPct(a.ErrorRate)}
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
	case r.Status == StatusPassed:
		return ok + " pass"
	case r.Status == StatusFailed:
		return fail + " FAIL"
	}
	return fail + " " + strings.ToUpper(string(r.Status))
}

// suiteHeader says which suite this is.
func suiteHeader(s Suite) string {
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
func suiteVerdictLines(s Suite) (head string, failures []string) {
	rows := suiteRows(s)
	st := SuiteVerdict(s)
	notRun := 0
	for _, r := range rows {
		if r.NotRun {
			notRun++
		}
		if r.Status != StatusPassed {
			what := r.Scenario + " × " + r.Arch
			if r.Status != StatusFailed && !r.NotRun {
				what += " (" + string(r.Status) + ")"
			}
			failures = append(failures, what+": "+strings.Join(r.Why, "; "))
		}
	}
	n := len(rows)
	switch {
	case len(s.Entries) == 0:
		return "ERRORED: the suite has no scenario", nil
	case st == StatusPassed:
		return fmt.Sprintf("PASSED: all %d scenario × architecture runs valid and within every threshold", n), nil
	}
	head = map[Status]string{
		StatusFailed:  "FAILED: %d of %d scenario × architecture runs",
		StatusInvalid: "INVALID: %d of %d scenario × architecture runs did not pass, and a run that measured too little proves nothing",
		StatusErrored: "ERRORED: %d of %d scenario × architecture runs did not pass, and a run that did not finish proves nothing",
	}[st]
	head = fmt.Sprintf(head, len(failures), n)
	if notRun > 0 {
		head += fmt.Sprintf(" (%d not run)", notRun)
	}
	return head, failures
}

// writeAtomic renders into path completely or not at all, as WriteReport does for a run's reports.
func writeAtomic(path string, render func(io.Writer) error) error {
	var b strings.Builder
	if err := render(&b); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
