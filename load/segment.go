package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Segment is this engine's share of a run that several workers carry: segment Index of Count, as k6's
// execution segments. The zero value is the whole run (one worker).
//
// The split is by planned hit, striped: every worker walks the whole schedule (the same pacers, the same
// virtual clock) and sends only hits Index+1, Index+1+Count, Index+1+2·Count… (1-based) of it. The union
// over the segments is therefore exactly the one-worker schedule, hit for hit and planned time for planned
// time, whatever the pacer (constant, ramp, sine): planned totals and per-second planned counts add up to
// the one-worker plan with no rounding. Scaling each pacer's rate by 1/Count instead would make each
// worker's own rounding (and a ramp's first hit) differ from the plan by a hit or so per phase.
// A hit's Seq is its number in the whole schedule, so records and idempotency keys of different workers
// never collide, and a one-worker run numbers its requests as before.
type Segment struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseSegment reads "I/N" (0 ≤ I < N).
func ParseSegment(s string) (Segment, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Segment{}, fmt.Errorf("segment %q: want I/N, e.g. 0/3", s)
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("segment %q: want I/N with whole numbers, e.g. 0/3", s)
	}
	seg := Segment{Index: idx, Count: cnt}
	if cnt < 1 { // validate takes the zero value for the whole run; "0/0" is a typo
		return Segment{}, fmt.Errorf("segment %q: want 0 ≤ I < N", s)
	}
	if err := seg.validate(); err != nil {
		return Segment{}, err
	}
	return seg, nil
}

func (s Segment) validate() error {
	if s == (Segment{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("segment %d/%d: want 0 ≤ I < N", s.Index, s.Count)
	}
	return nil
}

// count is the number of segments, 1 for the zero value.
func (s Segment) count() int { return max(s.Count, 1) }

// String is "I/N" ("0/1" for the whole run).
func (s Segment) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.count()) }

// Owns reports whether hit (1-based, counted over the whole schedule) is this segment's.
func (s Segment) Owns(hit uint64) bool {
	return (hit-1)%uint64(s.count()) == uint64(s.Index)
}

// Clients is this segment's share of total virtual clients: [first, first+n), contiguous, the shares of
// all segments covering [0, total) once. Clients keep their number in the whole run (Client.ID), so
// records and ledgers of different workers name different clients.
func (s Segment) Clients(total int) (first, n int) {
	c := s.count()
	first = total * s.Index / c
	return first, total*(s.Index+1)/c - first
}

// Seed derives this segment's engine seed from the run's: the run's own for the whole run (so that a one
// worker run replays an in-process one), else a splitmix64 step of the run seed and the segment, so that
// workers do not make the same op and client choices in lockstep.
func (s Segment) Seed(run uint64) uint64 {
	if s.count() == 1 {
		return run
	}
	z := run ^ (uint64(s.Index+1) * 0x9e3779b97f4a7c15) ^ uint64(s.Count)<<48
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) | 1
}

// waitStart waits for the shared start instant and returns it as the run's clock origin, with a
// monotonic reading (taken before the wait, so that the origin is the instant itself, not when this
// goroutine woke up). Setup that ends after the instant is an error: this worker would begin behind its
// schedule and shed or send late what the others sent on time.
func waitStart(ctx context.Context, at time.Time) (time.Time, error) {
	now := time.Now()
	d := at.Sub(now)
	if d < 0 {
		return time.Time{}, fmt.Errorf("load start: setup ended %s after the start instant %s: start later",
			(-d).Round(time.Millisecond), at.UTC().Format(time.RFC3339Nano))
	}
	start := now.Add(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return start, nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("load start: %w", context.Cause(ctx))
	}
}
