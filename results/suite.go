package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/runfolder"
)

// A suite is several scenarios run one after another into one folder: each scenario keeps its own
// sub-folder with its own summary.json and reports (so `chaosbench report` and `compare` read it as any
// run), and the suite folder gets suite.json and the combined reports (results/render: suite_text.go, suite_md.go,
// suite_html.go). docs/suites.md.

// SuiteSchemaVersion names suite.json's layout, versioned as summary.json is (docs/suites.md).
const SuiteSchemaVersion = "chaosbench.suite/v1"

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

// IsSuiteDir reports whether dir is a suite folder (it has suite.json).
func IsSuiteDir(dir string) bool {
	st, err := os.Stat(runfolder.Run(dir).Suite())
	return err == nil && st.Mode().IsRegular()
}

// ReadSuite reads a suite folder: suite.json and the summary.json of every entry that ran. Another schema,
// or an entry whose summary is missing, is an error naming the file.
func ReadSuite(dir string) (Suite, error) {
	path := runfolder.Run(dir).Suite()
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
		sum, err := ReadSummary(runfolder.Run(filepath.Join(dir, e.Dir)).Summary())
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
