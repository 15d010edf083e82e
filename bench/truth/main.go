// Command truth (make bench-truth) checks that a load tool reports a server
// stall as the users of that server lived it. For each rung (R, S) it runs
// a constant R requests/s for T against a trivial server in its own process,
// freezes that process with SIGSTOP for S in the middle of the run, thaws it
// with SIGCONT, and prints the p99 each tool measured against the analytical
// p99, and the requests it did not send (planned - sent). Our engine and the
// vegeta CLI (`vegeta attack | vegeta report`) run the same rungs, each
// against a fresh server.
//
// # The analytical p99
//
// Requests are planned at a constant rate R over [0, T], N = R·T of them.
// The server is frozen over [a, a+S], inside the run. SIGSTOP is an honest
// stall: the kernel still completes TCP handshakes into the listen backlog
// and buffers the requests, nothing answers. A request planned at t in
// [a, a+S) is sent on time (if the tool keeps up) and answered only after
// the thaw, so its latency is (a+S-t) + b, where b is the server's base
// latency (what it takes to answer once running; measured before each run as
// the median of sequential GETs, a fraction of a millisecond here). Requests
// planned outside the stall take about b. So the R·S stalled latencies are
// spread evenly over [b, S+b], and for x in that range
//
//	P(latency > x) = R·(S+b-x) / (R·T) = (S+b-x)/T.
//
// p99 is the x where that fraction is 1%:
//
//	p99 = S + b - 0.01·T,   valid when S > 0.01·T
//
// (more than 1% of the requests stalled; otherwise p99 is a base latency and
// the stall shows only in p99.9 or max). With T = 10 s: 1.9 s for S = 2 s,
// 0.9 s for S = 1 s, whatever R is.
//
// Drain. After the thaw the server answers the R·S backlog while new
// requests keep coming at R. If it drains at C requests/s in arrival order
// (the listen backlog is a queue), the request planned at t >= a completes
// at a + S + (t-a)·R/C, so its latency is S - (t-a)(1-R/C) + b: still spread
// evenly, over a window S/(1-R/C) long instead of S, and
//
//	p99 = S + b - 0.01·T·(1 - R/C),
//
// up by 0.01·T·R/C: 10 ms at R = 2000/s if the server drains 20000/s. On a
// busy machine the drain is slower and uneven (the server, the tool and
// the neighbours share two cores, and thousands of connections and
// goroutines start at once), and stalled requests can wait longer than S.
// The harness cannot know C, so the printed analytical value leaves the
// drain out, and a witness (witness.go) measures what the stall really did:
// the p99 of its own constant-rate stream through the same server, and the
// drain D, from the thaw until its last stalled request was answered. With
// D near 0.1 s the analytical value holds within a few percent; with a
// longer drain a truthful tool reads above it, close to the witness.
//
// Client timeout and retries. A tool cuts a request at its timeout τ: with
// τ < S the stalled latencies would be capped at τ (and counted as errors,
// or retried and counted again), and p99 would say τ, not S. So every tool
// runs with τ = 10 s, comfortably above S, and no retries: each stalled
// request completes once, with its true latency.
//
// Connections. Each stalled request holds its connection until the thaw, so
// during the stall a tool opens about R·S new connections (4000 at the
// largest rung), which the kernel queues in the listen backlog
// (net.core.somaxconn, 4096 here). Past the backlog, handshakes are dropped
// and retried after 1 s: latency the formula does not contain.
//
// Dropped. A stall is the server's problem, not the loader's: a tool that
// keeps its schedule sends every planned request, so the goal is 0 dropped
// (planned - sent; for our engine, Totals.Dropped). The request planned
// exactly at T is outside the run and not counted. Vegeta's latency is stamped from the
// actual send, so if it fell behind its p99 would hide the delay; the
// "late" and "p99 plan" columns show it (lateness from its results file, see
// benchkit.Schedule).
//
// Usage: bench-truth [-duration 10s] [-rungs 400:2s,1000:1s,2000:2s] [-timeout 10s]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
)

// coarseWake runs ours with load.WithCoarseWake (-coarsewake), to compare its wake-up with the precise one.
var coarseWake bool

type rung struct {
	rate  int
	stall time.Duration
}

// measured is one tool on one rung.
type measured struct {
	tool          string
	planned, sent int64
	late, errors  int64
	p50, p99      time.Duration
	p99Plan       time.Duration // from the planned send time
	stall         time.Duration // as it happened: SIGSTOP to SIGCONT
	stallAt       time.Duration // after the loader started
	base          time.Duration // server base latency before the run
	// The witness (see witness.go): its p99 and the drain after the thaw.
	witnessP99, drain time.Duration
	cpu               time.Duration // the loader's, from its rusage
	others            float64       // share of the machine other processes took (benchkit.Watch)
	note              string
	harness           *benchkit.Harness // ours: the engine's own share (load.Harness), stall included
}

// dropped is planned - sent, where the request planned exactly at the end
// of the run (t = T) is outside it: our engine never plans it, vegeta sends
// it or not depending on a race with its own deadline.
func (m measured) dropped() int64 { return max(0, m.planned-1-m.sent) }

// vsWitness compares the tool's p99 with what the harness's own client saw.
func (m measured) vsWitness() float64 {
	return 100 * float64(m.p99-m.witnessP99) / math.Max(1, float64(m.witnessP99))
}

// analytical is S + b - 0.01·T (see the package comment), with the stall
// as it really lasted.
func (m measured) analytical(T time.Duration) time.Duration {
	return m.stall + m.base - time.Duration(0.01*float64(T))
}

func (m measured) diff(T time.Duration) float64 {
	a := m.analytical(T)
	return 100 * float64(m.p99-a) / float64(a)
}

func (m measured) ok(T time.Duration) bool { return math.Abs(m.diff(T)) <= 5 && m.dropped() == 0 }

func main() {
	mode := flag.String("mode", "bench", "bench | server | ours (internal: child processes)")
	dur := flag.Duration("duration", 10*time.Second, "run length T of every rung")
	rungsFlag := flag.String("rungs", "400:2s,1000:1s,2000:2s", "rate:stall pairs")
	timeout := flag.Duration("timeout", 10*time.Second, "client timeout of every tool (keep it above the stall)")
	url := flag.String("url", "", "ours: target base URL")
	rate := flag.Int("rate", 0, "ours: requests per second")
	flag.BoolVar(&coarseWake, "coarsewake", false, "ours (and bench: passed to ours): load.WithCoarseWake, the scheduler on the runtime's timer alone, as before")
	flag.Parse()
	var err error
	switch *mode {
	case "server":
		err = benchkit.Serve()
	case "ours":
		var r benchkit.OursResult
		r, err = benchkit.RunOurs(benchkit.OursSpec{URL: *url, Rate: *rate, Duration: *dur,
			Timeout: *timeout, NoRetry: true, CoarseWake: coarseWake})
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	case "bench":
		var rungs []rung
		if rungs, err = parseRungs(*rungsFlag); err == nil {
			err = bench(rungs, *dur, *timeout)
		}
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-truth:", err)
		os.Exit(1)
	}
}

func parseRungs(s string) ([]rung, error) {
	var out []rung
	for _, p := range strings.Split(s, ",") {
		r, st, ok := strings.Cut(strings.TrimSpace(p), ":")
		rate, err1 := strconv.Atoi(r)
		stall, err2 := time.ParseDuration(st)
		if !ok || err1 != nil || err2 != nil || rate <= 0 || stall <= 0 {
			return nil, fmt.Errorf("-rungs: %q is not rate:stall (e.g. 400:2s)", p)
		}
		out = append(out, rung{rate, stall})
	}
	return out, nil
}

func bench(rungs []rung, T, timeout time.Duration) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	vbin, err := benchkit.FindTool("vegeta", benchkit.VegetaInstall)
	if err != nil {
		return err
	}
	veg := benchkit.Vegeta{Bin: vbin}
	for _, r := range rungs {
		if r.stall >= T/2 {
			return fmt.Errorf("stall %s must be under half the run (%s)", r.stall, T)
		}
		if r.stall >= timeout {
			return fmt.Errorf("stall %s must be under the client timeout (%s)", r.stall, timeout)
		}
	}
	fmt.Printf("bench-truth: constant rate for %s, server frozen (SIGSTOP) for S mid-run; client timeout %s, no retries\n", T, timeout)
	fmt.Printf("analytical p99 = S + b - 0.01*T (S as measured, b = server base latency); goal: within 5%% and 0 dropped\n")
	fmt.Printf("%-15s %-7s %7s %7s %7s %6s %6s %9s %9s %9s %10s %7s %9s %7s %7s %6s  %s\n",
		"rung", "tool", "planned", "sent", "dropped", "late", "errors", "p50", "p99", "p99 plan", "analytical", "diff",
		"witness", "vs wit", "drain", "others", "stall (at)")
	type pair struct{ ours, veg measured }
	results := make([]pair, len(rungs))
	for i, r := range rungs {
		o, err := withStall(self, r, T, timeout, func(url string) (measured, error) { return oursRun(self, url, r.rate, T, timeout) })
		if err != nil {
			return err
		}
		row(r, o, T)
		v, err := withStall(self, r, T, timeout, func(url string) (measured, error) { return vegetaRun(veg, url, r.rate, T, timeout) })
		if err != nil {
			return err
		}
		row(r, v, T)
		results[i] = pair{o, v}
	}
	for i, r := range rungs {
		o, v := results[i].ours, results[i].veg
		fmt.Printf("bench-truth R=%d/s S=%s: ours p99=%.2fs (analytical %.2fs, %+.1f%%) dropped=%d %s | vegeta p99=%.2fs (%+.1f%%) dropped=%d %s | witness p99=%.2fs/%.2fs drain=%.2fs/%.2fs (ours/vegeta runs)\n",
			r.rate, r.stall, o.p99.Seconds(), o.analytical(T).Seconds(), o.diff(T), o.dropped(), verdict(o, T),
			v.p99.Seconds(), v.diff(T), v.dropped(), verdict(v, T),
			o.witnessP99.Seconds(), v.witnessP99.Seconds(), o.drain.Seconds(), v.drain.Seconds())
	}
	// Where ours' latency goes at each rung (the medians are outside the stall: it holds S/T of the
	// requests; the p99s and maxima are the stall's, in the server stage).
	for i, r := range rungs {
		o := results[i].ours
		if o.harness != nil {
			fmt.Printf("bench-truth R=%d/s ours' own share (p50 %.2fms, vegeta's %.2fms):\n", r.rate, float64(o.p50)/1e6,
				float64(results[i].veg.p50)/1e6)
			fmt.Print(o.harness.Lines("  ", o.p50))
		}
	}
	return nil
}

func verdict(m measured, T time.Duration) string {
	if m.ok(T) {
		return "ok"
	}
	return "MISS"
}

func row(r rung, m measured, T time.Duration) {
	fmt.Printf("%-15s %-7s %7d %7d %7d %6d %6d %9s %9s %9s %10s %+6.1f%% %9s %+6.1f%% %7s %5.0f%%  %s (%s)%s\n",
		fmt.Sprintf("R=%d/s S=%s", r.rate, r.stall), m.tool, m.planned, m.sent, m.dropped(), m.late, m.errors,
		ms(m.p50), secs(m.p99), secs(m.p99Plan), secs(m.analytical(T)), m.diff(T),
		secs(m.witnessP99), m.vsWitness(), secs(m.drain), 100*m.others, secs(m.stall), secs(m.stallAt), m.note)
}

func ms(d time.Duration) string   { return fmt.Sprintf("%.2fms", float64(d)/1e6) }
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// withStall starts a fresh, warmed server, runs one tool against it (run
// returns when the tool has finished) and meanwhile freezes the server for
// r.stall, starting (T-S)/2 after the tool was started.
func withStall(self string, r rung, T, timeout time.Duration, run func(url string) (measured, error)) (measured, error) {
	srv, err := benchkit.StartServer(self, "-mode=server")
	if err != nil {
		return measured{}, err
	}
	defer srv.Stop()
	base, err := srv.Warm(200)
	if err != nil {
		return measured{}, err
	}
	type stall struct {
		at, took time.Duration
		err      error
	}
	done := make(chan stall, 1)
	wit := &witness{rate: max(50, r.rate/20)}
	witnessed := make(chan struct{})
	watch := benchkit.StartWatch(srv.PID())
	began := time.Now()
	go func() {
		defer close(witnessed)
		wit.run(srv.URL, began, T, timeout)
	}()
	go func() {
		at := (T - r.stall) / 2
		time.Sleep(at - time.Since(began))
		var s stall
		s.at = time.Since(began)
		t0 := time.Now()
		if s.err = srv.Freeze(); s.err == nil {
			time.Sleep(r.stall)
			s.err = srv.Thaw()
		}
		s.took = time.Since(t0)
		done <- s
	}()
	m, err := run(srv.URL)
	s := <-done // the run outlasts the stall: T > (T+S)/2
	<-witnessed
	if err != nil {
		return m, err
	}
	if s.err != nil {
		return m, fmt.Errorf("freeze the server: %w", s.err)
	}
	m.others = watch.Others(m.cpu)
	var werrs int
	m.witnessP99, m.drain, werrs = wit.result(s.at, s.took)
	if werrs > 0 || wit.late > 0 {
		m.note += fmt.Sprintf(" witness: %d errors, %d late", werrs, wit.late)
	}
	m.stall, m.stallAt, m.base = s.took, s.at, base
	return m, nil
}

func oursRun(self, url string, rate int, T, timeout time.Duration) (measured, error) {
	out, u, err := benchkit.Run(exec.Command(self, "-mode=ours", "-url="+url, "-rate="+strconv.Itoa(rate),
		"-duration="+T.String(), "-timeout="+timeout.String(), "-coarsewake="+strconv.FormatBool(coarseWake)))
	if err != nil {
		return measured{}, fmt.Errorf("ours at %d/s: %w", rate, err)
	}
	var r benchkit.OursResult
	if err := json.Unmarshal(out, &r); err != nil {
		return measured{}, fmt.Errorf("ours at %d/s: decode %q: %w", rate, out, err)
	}
	m := measured{tool: "ours", planned: int64(float64(rate) * T.Seconds()), sent: r.Whole.Sent, late: r.Whole.Late,
		errors: r.Whole.Errors, p50: r.P50, p99: r.P99, p99Plan: r.P99, cpu: u.CPU, harness: &r.Harness}
	if n := r.ShedNote(); n != "" {
		m.note = " " + n
	}
	return m, nil
}

func vegetaRun(v benchkit.Vegeta, url string, rate int, T, timeout time.Duration) (measured, error) {
	dir, err := os.MkdirTemp("", "bench-truth-vegeta-")
	if err != nil {
		return measured{}, err
	}
	defer os.RemoveAll(dir)
	res, u, err := v.Attack(dir, url, rate, T, timeout)
	if err != nil {
		return measured{}, err
	}
	rep, err := v.Report(res)
	if err != nil {
		return measured{}, err
	}
	hits, err := v.Hits(res)
	if err != nil {
		return measured{}, err
	}
	if len(hits) == 0 {
		return measured{}, errors.New("vegeta sent nothing")
	}
	m := measured{tool: "vegeta", planned: int64(float64(rate) * T.Seconds()), sent: rep.Requests,
		p50: rep.Latencies.P50, p99: rep.Latencies.P99, cpu: u.CPU}
	for code, n := range rep.StatusCodes {
		if code != "200" {
			m.errors += n
		}
	}
	began, interval := benchkit.Schedule(hits, rate)
	plan := benchkit.NewHistogram()
	for _, h := range hits {
		late := benchkit.Lateness(h, began, interval)
		if late > benchkit.LateAfter {
			m.late++
		}
		_ = plan.RecordValue(max(1, (h.Latency + late).Microseconds()))
	}
	m.p99Plan = time.Duration(plan.ValueAtQuantile(99)) * time.Microsecond
	return m, nil
}
