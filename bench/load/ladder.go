package main

import (
	"fmt"
	"math"
	"sort"
)

// search finds one tool's sustained rate: the highest rate at which the
// median of three trials has under 1% late and under 1% errors.
//
// Rungs grow geometrically (×step from start) until one fails; then the
// rate is bisected (geometric mean) between the highest rung that held and
// the lowest that failed, until they are within the resolution of each
// other. A fixed step of 2000/s was half the rate on a busy machine where
// the knee sits at 2000-4000/s, so one rung more or less moved the ratio
// by 0.25 to 1.0; a relative step bounds that error at every rate.
//
// A rung is decided by the majority of up to three trials (the median
// trial): it stops as soon as two agree, since the third cannot change the
// majority. One trial spoiled by a neighbour's burst no longer decides a
// rung, in either direction.
//
// Other people's processes only ever make a tool look worse, never better.
// So a trial that failed while they took more than a quarter of the machine
// (trial.Others, see benchkit.Watch) is not counted and is run again, at
// most twice per rung and ten times per run (bounded time); a trial that
// held counts whatever the machine did. On a quiet machine this never
// happens.
type search struct {
	tool  string
	run   func(rate int) (trial, error)
	start int
	step  float64 // coarse growth factor
	res   float64 // stop when hi/lo <= res
	limit int     // never plan more than this

	noise *noise

	lo, hi  int // highest rung held, lowest failed (0: none yet)
	cur     int
	votes   []trial
	ignored int // disturbed failures not counted at this rung
	done    bool
}

// noise is the rule for disturbed trials, shared by the searches of a run.
type noise struct {
	above   float64 // others' share of the machine over which a failure is not counted
	perRung int
	left    int // for the whole run
	ignored int
}

// ignore says whether a failed trial is left out, and counts it.
func (n *noise) ignore(t trial, atRung int) bool {
	if n == nil || t.ok() || t.Others <= n.above || atRung >= n.perRung || n.left <= 0 {
		return false
	}
	n.left--
	n.ignored++
	return true
}

func newSearch(tool string, run func(int) (trial, error), start int, step, res float64, limit int, n *noise) *search {
	return &search{tool: tool, run: run, start: start, step: step, res: res, limit: limit, cur: start, noise: n}
}

// roundRate keeps rungs readable: to 100/s (50/s under 1000/s).
func roundRate(r float64) int {
	q := 100.0
	if r < 1000 {
		q = 50
	}
	return int(math.Round(r/q) * q)
}

// trial runs one more trial at the current rung, prints it, and moves the
// search on once the rung is decided.
func (s *search) trial() error {
	t, err := s.run(s.cur)
	if err != nil {
		return err
	}
	if s.noise.ignore(t, s.ignored) {
		s.ignored++
		report(t, fmt.Sprintf("not counted: others took %s of the machine", pct(t.Others)))
		return nil
	}
	report(t, "")
	s.votes = append(s.votes, t)
	pass, fail := 0, 0
	for _, v := range s.votes {
		if v.ok() {
			pass++
		} else {
			fail++
		}
	}
	if pass < 2 && fail < 2 {
		return nil // undecided: another trial at this rung
	}
	held := pass >= 2
	med := median(s.votes)
	fmt.Printf("  %-6s rung %6d/s %s (%d of %d trials; median late %.2f%%)\n", s.tool, s.cur,
		map[bool]string{true: "held", false: "failed"}[held], max(pass, fail), len(s.votes), 100*med.lateFrac())
	s.votes, s.ignored = nil, 0
	if held {
		s.lo = s.cur
	} else {
		s.hi = s.cur
	}
	s.cur = s.next()
	s.done = s.cur == 0
	return nil
}

// bracket says where the sustained rate lies: [lo, hi), hi 0 when no rung
// failed.
func (s *search) bracket() string {
	if s.hi == 0 {
		return fmt.Sprintf("%d/s held, nothing above tried (limit %d/s)", s.lo, s.limit)
	}
	return fmt.Sprintf("%d/s held, %d/s failed", s.lo, s.hi)
}

// next is the rung to try after the last decision, 0 when the search is over.
func (s *search) next() int {
	switch {
	case s.hi == 0: // still climbing
		n := roundRate(float64(s.lo) * s.step)
		if n > s.limit || n <= s.lo {
			return 0
		}
		return n
	case s.lo == 0: // the first rung failed: go down
		n := roundRate(float64(s.hi) / s.step)
		if n < 100 || n >= s.hi {
			return 0
		}
		return n
	case float64(s.hi)/float64(s.lo) <= s.res:
		return 0
	default:
		n := roundRate(math.Sqrt(float64(s.lo) * float64(s.hi)))
		if n <= s.lo || n >= s.hi {
			return 0
		}
		return n
	}
}

// median is the trial with the median late fraction.
func median(ts []trial) trial {
	c := append([]trial(nil), ts...)
	sort.Slice(c, func(i, j int) bool { return c[i].lateFrac() < c[j].lateFrac() })
	return c[(len(c)-1)/2]
}
