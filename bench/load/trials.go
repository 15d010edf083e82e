package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
)

// trial is one tool at one rate: counts over the measured window (after the
// warm-up), latency, and what the loader process cost.
type trial struct {
	Tool     string
	Rate     int
	Window   time.Duration // measured
	Planned  int64
	Sent     int64
	Late     int64 // sent > 10 ms after plan, shed, or not sent (k6: dropped)
	Errors   int64
	P50, P99 time.Duration // over the measured window
	// Harness is ours' own share of the latencies, whole run (nil for the other tools).
	Harness  *benchkit.Harness
	Usage    benchkit.Usage
	Requests int64 // whole run, warm-up included: the denominator of CPU per request
	// Over the whole run, warm-up included: late, shed or not sent as a
	// share of planned, and p99 (k6: its only p99).
	WholeLate float64
	P99Whole  time.Duration
	// Others is the share of the machine that other processes (not the
	// loader, the target or the harness) used during the trial; -1 unknown.
	Others float64
	Note   string
}

// machine collects trial.Others over the run, for its summary line.
var machine struct {
	sum     float64
	n, over int
}

func seen(others float64) {
	if others < 0 {
		return
	}
	machine.sum += others
	machine.n++
	if others > 0.25 {
		machine.over++
	}
}

func (t trial) lateFrac() float64 { return float64(t.Late) / math.Max(1, float64(t.Planned)) }
func (t trial) achieved() float64 { return float64(t.Sent) / t.Window.Seconds() }
func (t trial) ok() bool {
	return t.Planned > 0 && t.lateFrac() < 0.01 && float64(t.Errors) < 0.01*float64(t.Planned)
}
func (t trial) cpuPerReq() float64 { return t.Usage.PerRequest(t.Requests) }

func (t trial) wakesPerReq() float64 { return t.Usage.WakeupsPerRequest(t.Requests) }

// peers runs each tool as its own process against one target.
type peers struct {
	self   string // this binary, for -mode=ours
	url    string
	server int // the target's pid, for benchkit.Watch
	vegeta benchkit.Vegeta
	k6     benchkit.K6
}

// ours runs one trial of our engine in a child process. The first warmup
// seconds are sent but left out of the counts. extra are more flags of -mode=ours.
func (p peers) ours(rate int, warmup, d time.Duration, fixed bool, extra ...string) (trial, error) {
	w := benchkit.StartWatch(p.server)
	args := append([]string{"-mode=ours", "-url=" + p.url, "-rate=" + strconv.Itoa(rate),
		"-duration=" + (warmup + d).String(), "-warmup=" + warmup.String(), "-fixedinflight=" + strconv.FormatBool(fixed)}, extra...)
	out, u, err := benchkit.Run(exec.Command(p.self, args...))
	if err != nil {
		return trial{}, fmt.Errorf("ours at %d/s: %w", rate, err)
	}
	var r benchkit.OursResult
	if err := json.Unmarshal(out, &r); err != nil {
		return trial{}, fmt.Errorf("ours at %d/s: decode %q: %w", rate, out, err)
	}
	s := r.Steady
	others := w.Others(u.CPU)
	seen(others)
	return trial{Tool: "ours", Rate: rate, Window: d, Planned: s.Planned, Sent: s.Sent, Late: s.Late + s.Shed,
		Errors: s.Errors, P50: r.P50Steady, P99: r.P99Steady, Harness: &r.Harness, Usage: u, Requests: r.Whole.Sent, Others: others, Note: r.ShedNote(),
		WholeLate: float64(r.Whole.Late+r.Whole.Shed) / math.Max(1, float64(r.Whole.Planned)), P99Whole: r.P99}, nil
}

// vegetaTrial runs `vegeta attack` for warmup+d and counts the hits planned
// after the warm-up. Vegeta's latency is its own (stamped from the actual
// send); lateness comes from its plan (benchkit.Schedule).
func (p peers) vegetaTrial(rate int, warmup, d time.Duration) (trial, error) {
	dir, err := os.MkdirTemp("", "bench-vegeta-")
	if err != nil {
		return trial{}, err
	}
	defer os.RemoveAll(dir)
	w := benchkit.StartWatch(p.server)
	res, u, err := p.vegeta.Attack(dir, p.url, rate, warmup+d, 0)
	if err != nil {
		return trial{}, err
	}
	others := w.Others(u.CPU)
	seen(others)
	hits, err := p.vegeta.Hits(res)
	if err != nil {
		return trial{}, err
	}
	t := trial{Tool: "vegeta", Rate: rate, Window: d, Planned: int64(float64(rate) * d.Seconds()), Usage: u,
		Requests: int64(len(hits)), Others: others}
	began, interval := benchkit.Schedule(hits, rate)
	first := int64(float64(rate) * warmup.Seconds()) // hit k is planned at (k+1)/rate
	h, whole := benchkit.NewHistogram(), benchkit.NewHistogram()
	var wholeLate int64
	for _, x := range hits {
		late := benchkit.Lateness(x, began, interval) > benchkit.LateAfter
		_ = whole.RecordValue(max(1, x.Latency.Microseconds()))
		if late {
			wholeLate++
		}
		if x.Seq < first {
			continue
		}
		t.Sent++
		if late {
			t.Late++
		}
		if x.Code != 200 {
			t.Errors++
		}
		_ = h.RecordValue(max(1, x.Latency.Microseconds()))
	}
	t.Late += max(0, t.Planned-t.Sent) // never sent within the run
	t.P50 = time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
	t.P99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	t.P99Whole = time.Duration(whole.ValueAtQuantile(99)) * time.Microsecond
	planned := int64(float64(rate) * (warmup + d).Seconds())
	t.WholeLate = float64(wholeLate+max(0, planned-int64(len(hits)))) / math.Max(1, float64(planned))
	return t, nil
}

// k6Trial runs k6's constant-arrival-rate executor for d (no warm-up: it
// is only measured for CPU, memory and p99 over the whole run). k6 counts
// as not sent only the iterations it could not start (dropped_iterations);
// its latency is stamped at the actual send.
func (p peers) k6Trial(rate int, d time.Duration) (trial, error) {
	dir, err := os.MkdirTemp("", "bench-k6-")
	if err != nil {
		return trial{}, err
	}
	defer os.RemoveAll(dir)
	w := benchkit.StartWatch(p.server)
	r, u, err := p.k6.Run(dir, p.url, rate, d, 0)
	if err != nil {
		return trial{}, err
	}
	others := w.Others(u.CPU)
	seen(others)
	planned := int64(float64(rate) * d.Seconds())
	t := trial{Tool: "k6", Rate: rate, Window: d, Planned: planned, Sent: r.Requests,
		Late: r.Dropped + max(0, planned-r.Iterations-r.Dropped), Errors: r.Failed, P99: r.P99, Usage: u,
		Requests: r.Requests, Others: others, P99Whole: r.P99}
	t.WholeLate = t.lateFrac()
	return t, nil
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// wrkMax is wrk's closed-loop throughput (Debian's wrk has no rate
// control): the ceiling of this server on this machine, for scale.
func (p peers) wrkMax(d time.Duration) (float64, error) {
	secs := max(1, int(d.Seconds()))
	out, err := exec.Command("wrk", "-t2", "-c64", "-d"+strconv.Itoa(secs)+"s", p.url+"/").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk (apt-get install -y wrk): %w: %s", err, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk output without Requests/sec: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
