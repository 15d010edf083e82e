package results

import (
	"fmt"
	"strings"
)

// Status is the verdict of an architecture, or of a run (the worst of its
// architectures'). One function decides each (ArchStatus, RunVerdict); the
// runner's exit code and every report read them, so they cannot disagree.
type Status string

const (
	// StatusPassed: valid, and every threshold met.
	StatusPassed Status = "passed"
	// StatusFailed: valid, and some threshold not met. The system is worse
	// than the scenario demands.
	StatusFailed Status = "failed"
	// StatusInvalid: it ran, but what was measured cannot carry a verdict
	// (a fault did not happen, the harness dropped requests, the load was
	// not sent at its rate). It never passes.
	StatusInvalid Status = "invalid"
	// StatusErrored: it did not run to the end (the stack did not start,
	// the run was interrupted). The tool, not the system, is at fault.
	StatusErrored Status = "errored"
)

// rank orders statuses from best to worst.
func (s Status) rank() int {
	switch s {
	case StatusPassed:
		return 0
	case StatusFailed:
		return 1
	case StatusInvalid:
		return 2
	}
	return 3 // errored, or anything unknown: never better than an error
}

// Worse returns the worse of s and o.
func (s Status) Worse(o Status) Status {
	if o.rank() > s.rank() {
		return o
	}
	return s
}

// ArchStatus decides one architecture and says why it did not pass: an
// error first, then why the run is invalid, then every failed threshold.
func ArchStatus(a Arch) (Status, []string) {
	st := StatusPassed
	var why []string
	if a.Error != "" {
		st = StatusErrored
		_, reason := Validity(a)
		why = append(why, reason)
	}
	if !a.Valid && a.Error == "" {
		st = st.Worse(StatusInvalid)
		r := "invalid run"
		if len(a.InvalidReasons) > 0 {
			r += ": " + strings.Join(a.InvalidReasons, "; ")
		}
		why = append(why, r)
	}
	for _, t := range a.Thresholds {
		if !t.OK {
			st = st.Worse(StatusFailed)
			v := ThresholdValue(t)
			if t.Detail != "" {
				v = t.Detail
			}
			why = append(why, fmt.Sprintf("%s (was %s)", t.Expr, v))
		}
	}
	return st, why
}

// Validity says whether a's numbers can be judged, and why not. A run that did not run to the end cannot,
// whatever its faults and load said: its checks saw part of a run, and a zero among them proves nothing.
func Validity(a Arch) (bool, string) {
	switch {
	case a.Error != "":
		return false, "did not run to the end: " + a.Error
	case !a.Valid:
		return false, strings.Join(a.InvalidReasons, "; ")
	}
	return true, ""
}

// PartRan qualifies a check's good value from a run that did not run to the end (Arch.Error): the
// reports show it without a tick, since it is true of what ran and proves nothing of the run.
const PartRan = "in the part that ran"

// RunVerdict is the run's status computed from its architectures (never
// from a stored field, so that a summary.json edited by hand or written by
// an older chaosbench cannot show failures under a "passed" line). A run
// with no architecture errored.
func RunVerdict(s Summary) Status {
	if len(s.Architectures) == 0 {
		return StatusErrored
	}
	st := StatusPassed
	for _, a := range s.Architectures {
		as, _ := ArchStatus(a)
		st = st.Worse(as)
	}
	return st
}

// VerdictLines end the text report and open the Markdown and HTML ones: the
// verdict, then one line per architecture that did not pass, saying why.
func VerdictLines(s Summary) (head string, failures []string) {
	st := RunVerdict(s)
	n := len(s.Architectures)
	if n == 0 {
		return "ERRORED: no architecture ran", nil
	}
	if st == StatusPassed {
		head := fmt.Sprintf("PASSED: all %d architectures valid and within every threshold", n)
		if nc := notCheckedViolations(s); len(nc) > 0 {
			// A pass says what it did not look at: a check not checked is not a 0.
			head += fmt.Sprintf("; not checked: %s", strings.Join(nc, ", "))
		}
		return head, nil
	}
	for _, a := range s.Architectures {
		if as, why := ArchStatus(a); as != StatusPassed {
			name := a.Name
			if as != StatusFailed {
				name += " (" + string(as) + ")"
			}
			failures = append(failures, name+": "+strings.Join(why, "; "))
		}
	}
	what := map[Status]string{
		StatusFailed:  "FAILED: %d of %d architectures",
		StatusInvalid: "INVALID: %d of %d architectures did not pass, and a run that measured too little proves nothing",
		StatusErrored: "ERRORED: %d of %d architectures did not pass, and a run that did not finish proves nothing",
	}[st]
	return fmt.Sprintf(what, len(failures), n), failures
}

// notCheckedViolations are the violation checks some architecture of s did not check, in table order.
func notCheckedViolations(s Summary) []string {
	var out []string
	for _, c := range RecordedChecks(s) {
		if !c.Violation {
			continue
		}
		for _, a := range s.Architectures {
			if r, ok := c.Result(a); ok && r.NotChecked != "" {
				out = append(out, c.Name)
				break
			}
		}
	}
	return out
}
