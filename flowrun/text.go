package flowrun

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints the report for a person: one line per request (step, method, URL, status, time), then
// its captures, its expectation, and for a capture that matched nothing where it looked and the start of
// the body.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "client %d, run %s, seed %d, against %s\n", r.ClientID, r.RunID, r.Seed, r.Target)
	for _, q := range r.Requests {
		step := q.Step
		if q.Attempt > 0 {
			step += fmt.Sprintf(" (restart %d)", q.Attempt)
		}
		status := "-"
		if q.Status != 0 {
			status = fmt.Sprint(q.Status)
		}
		fmt.Fprintf(&b, "%s  %s %s  %s  %s\n", step, q.Method, q.URL, status, q.Took.Round(10*time.Microsecond))
		if q.Error != "" {
			fmt.Fprintf(&b, "    error: %s\n", q.Error)
		}
		word := "capture"
		if strings.HasPrefix(q.Step, "invariant/") {
			word = "read" // what the invariant's read found, not a variable
		}
		for _, c := range q.Captures {
			if c.Failed {
				fmt.Fprintf(&b, "    %s %s FAILED: %s matched nothing in %s\n      body: %s\n", word, c.Name, c.Source, q.Step, c.Excerpt)
				continue
			}
			fmt.Fprintf(&b, "    %s %s=%s\n", word, c.Name, c.Value)
		}
		switch {
		case q.Restart && q.Expect == "":
			fmt.Fprintf(&b, "    status %d is in restart_on: the op starts again from its first step\n", q.Status)
		case q.Expect == "held":
			b.WriteString("    expect held\n")
		case q.Expect == "failed":
			fmt.Fprintf(&b, "    expect FAILED: %s\n", q.Mismatch)
		}
	}
	for _, n := range r.NotRun {
		fmt.Fprintf(&b, "not run: %s\n", n)
	}
	switch {
	case r.Unreachable():
		b.WriteString("unreachable: the target could not be reached\n")
	case r.Failed():
		b.WriteString("FAILED: an expectation failed, a capture matched nothing, or a step was not run\n")
	default:
		fmt.Fprintf(&b, "ok: %d request(s), every expectation held and every capture matched\n", len(r.Requests))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
