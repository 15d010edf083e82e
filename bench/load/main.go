// Command load (make bench-load) benchmarks the load engine against the
// vegeta CLI, k6 and wrk on loopback, side by side in one run (machines are
// shared and noisy: only the ratios measured together mean something).
// docs/benchmarks.md says what each line means and how long it takes.
//
// Every tool runs as its own process against a trivial Go HTTP server in a
// third process, warmed before anything is timed:
//
//  1. Sustained rate (ours, vegeta): the highest constant rate at which the
//     median of three trials has under 1% of requests late (sent > 10 ms
//     after plan, shed, or never sent) and under 1% errors. Each trial
//     sends for -warmup-trial (connections opened, pools and the runtime
//     grown) and counts only the -trial after it. Rungs grow ×1.5 from
//     2000/s and are then bisected to within 12% (see search); the two
//     tools' trials alternate in time so that a neighbour's load falls on
//     both, and a failure while other processes took over a quarter of the
//     machine is run again (benchkit.Watch).
//  2. wrk's closed-loop throughput: the server's ceiling, for scale.
//  3. Past the limit: planned against achieved for ours, ours with a fixed
//     in-flight cap, and vegeta.
//  4. CPU time per request (user+sys of the loader process from its rusage,
//     whole run) and peak RSS of ours, vegeta and k6 at the same rates for
//     -cpu-duration; at -ratio-rate three rounds, whose medians give the
//     headline ratios and the p99 comparison.
//
// The last line is always
//
//	load-engine sustained rate: ours=N/s vegeta=N/s wrk=N/s ratio_vs_vegeta=R
//
// One trial of ours alone, e.g. to profile it against a running target:
//
//	bench-load -mode=ours -url=http://127.0.0.1:PORT -rate=12000 -duration=3s \
//	    [-cpuprofile cpu.out] [-memprofile mem.out] [-maxinflight N] [-fixedinflight]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
)

type options struct {
	trial, warmup time.Duration
	cpuDur        time.Duration
	cpuRates      []int
	ratioRate     int
	rounds        int
	past          []float64
	rss60, noK6   bool
	noCPU         bool
	dashOnly      bool
	floorRates    []int
	floorDur      time.Duration
	onlyFloor     bool
	floorAB       bool
}

func main() {
	mode := flag.String("mode", "bench", "bench | server | ours | loop (internal: child processes; loop: the event-loop prototype, docs/load.md)")
	rate := flag.Int("rate", 1000, "ours: requests per second")
	dur := flag.Duration("duration", 3*time.Second, "ours: run length (warm-up included)")
	warm := flag.Duration("warmup", 0, "ours: seconds sent but left out of the steady counts")
	url := flag.String("url", "", "ours: target base URL")
	cpuProfile := flag.String("cpuprofile", "", "ours: write a CPU profile here")
	memProfile := flag.String("memprofile", "", "ours: write an allocation profile here")
	maxInFlight := flag.Int("maxinflight", 0, "ours: Config.MaxInFlight (0: the engine's default)")
	fixed := flag.Bool("fixedinflight", false, "ours: Config.FixedInFlight (no adaptive in-flight limit)")
	dash := flag.String("dashboard", "", "ours: serve the live dashboard at this address while the load runs")
	coarse := flag.Bool("coarsewake", false, "ours: load.WithCoarseWake (the scheduler on the runtime's timer alone, as before)")

	var o options
	flag.DurationVar(&o.trial, "trial", 3*time.Second, "bench: measured length of each sustained-rate trial")
	flag.DurationVar(&o.warmup, "warmup-trial", time.Second, "bench: warm-up sent before each trial's measured window")
	flag.DurationVar(&o.cpuDur, "cpu-duration", 10*time.Second, "bench: length of each CPU-per-request run")
	cpuRates := flag.String("cpu-rates", "2000,4000,6000", "bench: rates of the CPU-per-request table")
	flag.IntVar(&o.ratioRate, "ratio-rate", 3000, "bench: rate of the headline CPU ratios and the p99 comparison")
	flag.IntVar(&o.rounds, "ratio-rounds", 3, "bench: rounds at -ratio-rate (medians)")
	past := flag.String("past", "2,4", "bench: past-the-limit rates, as multiples of the higher sustained rate")
	flag.BoolVar(&o.rss60, "rss60", false, "bench: also run ours for 60 s at its sustained rate and at twice it, and report peak RSS")
	flag.BoolVar(&o.noK6, "nok6", false, "bench: leave k6 out")
	flag.BoolVar(&o.noCPU, "nocpu", false, "bench: leave out the CPU-per-request runs (their lines too)")
	flag.BoolVar(&o.dashOnly, "dashboard-only", false, "bench: run only the dashboard's CPU-per-request comparison")
	floorRates := flag.String("floor-rates", "400,1000,2000", "bench: rates of the latency-floor runs (p50 of ours and vegeta, ours' breakdown)")
	flag.DurationVar(&o.floorDur, "floor-duration", 6*time.Second, "bench: length of each latency-floor run (its first second left out)")
	flag.BoolVar(&o.floorAB, "floor-ab", false, "bench: also run ours with the runtime's timer alone (load.WithCoarseWake) at each floor rate, side by side")
	flag.BoolVar(&o.onlyFloor, "only-floor", false, "bench: run the latency-floor runs alone (their lines, not the sustained-rate line)")
	flag.Parse()

	var err error
	switch *mode {
	case "server":
		err = benchkit.Serve()
	case "ours":
		if *cpuProfile != "" {
			f, perr := os.Create(*cpuProfile)
			if perr == nil && pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
		spec := benchkit.OursSpec{URL: *url, Rate: *rate, Duration: *dur, Warmup: *warm,
			MaxInFlight: *maxInFlight, FixedInFlight: *fixed}
		var stop func()
		if *dash != "" {
			if spec.Live, stop, err = serveDashboard(*dash); err != nil {
				break
			}
		}
		var r benchkit.OursResult
		spec.CoarseWake = *coarse
		r, err = benchkit.RunOurs(spec)
		if stop != nil {
			stop()
		}
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
		if err == nil && *memProfile != "" {
			if f, perr := os.Create(*memProfile); perr == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				_ = f.Close()
			}
		}
	case "loop":
		// The event-loop prototype (loop_linux.go): one constant-rate GET, its counts and percentiles.
		var r loopResult
		if r, err = runLoop(*url, *rate, *dur, 4096); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	case "bench":
		if o.cpuRates, err = ints(*cpuRates); err == nil {
			if o.floorRates, err = ints(*floorRates); err == nil {
				if o.past, err = floats(*past); err == nil {
					err = bench(o)
				}
			}
		}
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-load:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func bench(o options) error {
	began := time.Now()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	var vbin, kbin string
	if !o.dashOnly { // the dashboard's comparison runs ours alone
		if vbin, err = benchkit.FindTool("vegeta", benchkit.VegetaInstall); err != nil {
			return err
		}
	}
	if !o.noK6 && !o.dashOnly && !o.onlyFloor {
		if kbin, err = benchkit.FindTool("k6", benchkit.K6Install); err != nil {
			return err
		}
	}
	srv, err := benchkit.StartServer(self, "-mode=server")
	if err != nil {
		return err
	}
	defer srv.Stop()
	base, err := srv.Warm(1000)
	if err != nil {
		return err
	}
	p := peers{self: self, url: srv.URL, server: srv.PID(), vegeta: benchkit.Vegeta{Bin: vbin}, k6: benchkit.K6{Bin: kbin}}
	fmt.Printf("target %s (base latency %.2fms); late = sent >%s after planned, shed or not sent\n",
		srv.URL, float64(base)/1e6, benchkit.LateAfter)

	// Warm-up, not reported: the first run of each binary on a fresh
	// target pays for page faults, the server's first goroutines and heap.
	if _, err := p.ours(2000, 0, time.Second, false); err != nil {
		return err
	}
	if o.dashOnly {
		return dashboardCPU(p, o)
	}
	if _, err := p.vegetaTrial(2000, 0, time.Second); err != nil {
		return err
	}
	if o.onlyFloor {
		return floor(p, o)
	}

	// 1. Sustained rate.
	fmt.Printf("sustained rate: trials of %s warm-up + %s measured, median of 3 per rung (a failure while others took >25%% is re-run), rungs x1.5 from 2000/s then bisected to 12%%\n",
		o.warmup, o.trial)
	const limit = 64000
	nz := &noise{above: 0.25, perRung: 2, left: 10}
	searches := []*search{
		newSearch("ours", func(r int) (trial, error) { return p.ours(r, o.warmup, o.trial, false) }, 2000, 1.5, 1.12, limit, nz),
		newSearch("vegeta", func(r int) (trial, error) { return p.vegetaTrial(r, o.warmup, o.trial) }, 2000, 1.5, 1.12, limit, nz),
	}
	for round := 0; ; round++ {
		active := 0
		for i := range searches {
			// Alternate who goes first so that a neighbour's load does
			// not always land on the same tool.
			s := searches[(i+round)%len(searches)]
			if s.done {
				continue
			}
			active++
			if err := s.trial(); err != nil {
				return err
			}
		}
		if active == 0 {
			break
		}
	}
	ours, veg := searches[0].lo, searches[1].lo
	fmt.Printf("sustained: ours %s; vegeta %s", searches[0].bracket(), searches[1].bracket())
	if so, sv := searches[0], searches[1]; so.hi > 0 && sv.hi > 0 && so.lo > 0 && sv.lo > 0 {
		fmt.Printf("; the ratio lies between %.2f and %.2f", float64(so.lo)/float64(sv.hi), float64(so.hi)/float64(sv.lo))
	}
	fmt.Println()
	if nz.ignored > 0 {
		fmt.Printf("  (%d failed trials not counted: other processes took over %s of the machine during them)\n", nz.ignored, pct(nz.above))
	}

	// 2. wrk.
	wrk, err := p.wrkMax(o.trial)
	if err != nil {
		return err
	}
	fmt.Printf("wrk (closed loop, -t2 -c64): %.0f req/s\n", wrk)

	// 3. Past the limit.
	if len(o.past) > 0 {
		fmt.Println("past the limit: planned -> achieved (late/shed %, p99, peak RSS)")
		top := max(ours, veg, 2000)
		for _, f := range o.past {
			r := int(float64(top) * f)
			t, err := p.ours(r, o.warmup, o.trial, false)
			if err != nil {
				return err
			}
			fx, err := p.ours(r, o.warmup, o.trial, true)
			if err != nil {
				return err
			}
			v, err := p.vegetaTrial(r, o.warmup, o.trial)
			if err != nil {
				return err
			}
			fmt.Printf("  planned %6d/s  ours %6.0f/s (%5.1f%%, p99 %6.0fms, %3.0f MiB)  ours-fixed-cap %6.0f/s (%5.1f%%, p99 %6.0fms, %3.0f MiB)  vegeta %6.0f/s (%5.1f%%, p99 %6.0fms, %3.0f MiB)\n",
				r, t.achieved(), 100*t.lateFrac(), msf(t.P99), t.Usage.PeakRSS,
				fx.achieved(), 100*fx.lateFrac(), msf(fx.P99), fx.Usage.PeakRSS,
				v.achieved(), 100*v.lateFrac(), msf(v.P99), v.Usage.PeakRSS)
		}
	}
	if o.rss60 && ours > 0 {
		// At the sustained rate, and at twice it: past the limit, memory
		// must stay bounded too (the in-flight limit, not the run's length).
		for _, r := range []int{ours, 2 * ours} {
			t, err := p.ours(r, 0, 60*time.Second, false)
			if err != nil {
				return err
			}
			fmt.Printf("ours 60 s at %d/s: achieved %.0f/s, late %.2f%%, peak RSS %.0f MiB\n",
				r, t.achieved(), 100*t.lateFrac(), t.Usage.PeakRSS)
		}
	}

	// 4. CPU per request, peak RSS, p99; and the dashboard's cost.
	if !o.noCPU {
		if err := cpu(p, o); err != nil {
			return err
		}
		if err := dashboardCPU(p, o); err != nil {
			return err
		}
	}

	// 5. The latency floor, and where ours' goes.
	if err := floor(p, o); err != nil {
		return err
	}

	ratio := 0.0
	if veg > 0 {
		ratio = float64(ours) / float64(veg)
	}
	if machine.n > 0 {
		fmt.Printf("machine: other processes took on average %.0f%% of its %d CPUs during the %d loader runs (over 25%% in %d);",
			100*machine.sum/float64(machine.n), runtime.NumCPU(), machine.n, machine.over)
		if machine.sum/float64(machine.n) > 0.05 {
			fmt.Print(" a busy machine: compare ratios within this run, and expect them to move between runs")
		} else {
			fmt.Print(" a quiet machine")
		}
		fmt.Println()
	}
	fmt.Printf("bench-load took %s\n", time.Since(began).Round(time.Second))
	fmt.Printf("load-engine sustained rate: ours=%d/s vegeta=%d/s wrk=%.0f/s ratio_vs_vegeta=%.2f\n", ours, veg, wrk, ratio)
	return nil
}

// cpu runs every tool at the same rates for the same length, one process
// each, and reads what the process cost from its rusage. At the ratio rate
// it runs o.rounds rounds (the tool that goes first rotates) and takes
// medians.
func cpu(p peers, o options) error {
	tools := []struct {
		name string
		run  func(rate int) (trial, error)
	}{
		// The first second is part of the run (CPU, late, whole-run p99)
		// and is left out of the steady p99 only.
		{"ours", func(r int) (trial, error) { return p.ours(r, time.Second, o.cpuDur-time.Second, false) }},
		{"vegeta", func(r int) (trial, error) { return p.vegetaTrial(r, time.Second, o.cpuDur-time.Second) }},
	}
	if !o.noK6 {
		tools = append(tools, struct {
			name string
			run  func(rate int) (trial, error)
		}{"k6", func(r int) (trial, error) { return p.k6Trial(r, o.cpuDur) }})
	}
	// The rounds at the ratio rate are spread between the other rates, so
	// that one neighbour's burst does not fall on all three.
	var rates []int
	for i := range max(1, o.rounds, len(o.cpuRates)) {
		if i < max(1, o.rounds) {
			rates = append(rates, o.ratioRate)
		}
		if i < len(o.cpuRates) {
			rates = append(rates, o.cpuRates[i])
		}
	}
	fmt.Printf("cpu per request: user+sys of the loader process (rusage, whole %s run incl. start-up) / requests sent; wakes: its voluntary context switches / requests sent; peak RSS from rusage\n", o.cpuDur)
	fmt.Println("  (late: ours/vegeta sent >10ms after plan or not sent; k6: dropped_iterations only; p99 whole run / after the first second;")
	fmt.Println("   ours from the planned time, vegeta and k6 stamped at the actual send, k6 whole run only)")
	at := map[string][]trial{} // ratio-rate trials per tool
	for i, r := range rates {
		for j := range tools {
			tl := tools[(i+j)%len(tools)]
			t, err := tl.run(r)
			if err != nil {
				return err
			}
			steady := fmt.Sprintf("%7.2fms", msf(t.P99))
			if tl.name == "k6" {
				steady = fmt.Sprintf("%9s", "-")
			}
			fmt.Printf("  %-6s %5d/s  sent %6d  late %6.2f%%  errors %d  cpu %6.2fs  %6.1fus/req  %4.2f wakes/req  peak RSS %5.1f MiB  p99 %7.2fms / %s  others %s %s\n",
				tl.name, r, t.Requests, 100*t.WholeLate, t.Errors, t.Usage.CPU.Seconds(), t.cpuPerReq(), t.wakesPerReq(),
				t.Usage.PeakRSS, msf(t.P99Whole), steady, pct(t.Others), t.Note)
			if r == o.ratioRate {
				at[tl.name] = append(at[tl.name], t)
			}
		}
	}
	med := func(tool string, f func(trial) float64) float64 {
		var v []float64
		for _, t := range at[tool] {
			v = append(v, f(t))
		}
		return medianOf(v)
	}
	perReq := func(t trial) float64 { return t.cpuPerReq() }
	p99 := func(t trial) float64 { return msf(t.P99Whole) }
	p99s := func(t trial) float64 { return msf(t.P99) }
	rss := func(t trial) float64 { return t.Usage.PeakRSS }
	n := len(at["ours"])
	fmt.Printf("at %d/s, medians of %d rounds of %s (busy-machine caveat: compare ratios, not absolutes):\n", o.ratioRate, n, o.cpuDur)
	// A tool that did not keep the rate did less work, later: its CPU per
	// request and p99 are not comparable. Say so on the lines themselves.
	lateOf := func(t trial) float64 { return t.WholeLate }
	var behind []string
	for _, tl := range tools {
		if l := med(tl.name, lateOf); l > 0.01 {
			behind = append(behind, fmt.Sprintf("%s %.1f%%", tl.name, 100*l))
		}
	}
	warn := ""
	if len(behind) > 0 {
		warn = " [NOT COMPARABLE: late or not sent at " + strconv.Itoa(o.ratioRate) + "/s: " + strings.Join(behind, ", ") + "]"
	}
	fmt.Printf("load-engine p99 at %d/s: ours=%.2fms vegeta=%.2fms diff=%+.2fms (whole run, cold start included; ours from the planned time, vegeta from its actual send)%s\n",
		o.ratioRate, med("ours", p99), med("vegeta", p99), med("ours", p99)-med("vegeta", p99), warn)
	fmt.Printf("load-engine steady p99 at %d/s: ours=%.2fms vegeta=%.2fms diff=%+.2fms (after the first second)%s\n",
		o.ratioRate, med("ours", p99s), med("vegeta", p99s), med("ours", p99s)-med("vegeta", p99s), warn)
	line := fmt.Sprintf("load-engine peak RSS at %d/s: ours=%.0fMiB vegeta=%.0fMiB", o.ratioRate, med("ours", rss), med("vegeta", rss))
	if !o.noK6 {
		line += fmt.Sprintf(" k6=%.0fMiB (k6 p99=%.2fms, stamped at the actual send)", med("k6", rss), med("k6", p99))
	}
	fmt.Println(line)
	wakes := func(t trial) float64 { return t.wakesPerReq() }
	line = fmt.Sprintf("load-engine wake-ups per request at %d/s: ours=%.2f vegeta=%.2f", o.ratioRate, med("ours", wakes), med("vegeta", wakes))
	if !o.noK6 {
		line += fmt.Sprintf(" k6=%.2f", med("k6", wakes))
	}
	fmt.Println(line + " (voluntary context switches of the loader's threads)")
	o1, v1 := med("ours", perReq), med("vegeta", perReq)
	fmt.Printf("load-engine cpu per request: ours=%.1fus vegeta=%.1fus ratio=%.2f%s\n", o1, v1, safeDiv(o1, v1), warn)
	if !o.noK6 {
		k1 := med("k6", perReq)
		fmt.Printf("load-engine cpu per request vs k6: ours=%.1fus k6=%.1fus ratio=%.2f%s\n", o1, k1, safeDiv(o1, k1), warn)
	}
	return nil
}

func report(t trial, why string) {
	verdict := "ok"
	if !t.ok() {
		verdict = "FAIL"
	}
	if why != "" {
		verdict += " (" + why + ")"
	}
	fmt.Printf("    %-6s rate %6d/s  achieved %7.0f/s  late %6.2f%%  errors %d  p99 %7.1fms  others %s  %s %s\n",
		t.Tool, t.Rate, t.achieved(), 100*t.lateFrac(), t.Errors, msf(t.P99), pct(t.Others), verdict, t.Note)
}

// pct prints a share of the machine ("?" when unknown).
func pct(f float64) string {
	if f < 0 {
		return "  ?"
	}
	return fmt.Sprintf("%2.0f%%", 100*f)
}

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseFloat(f, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// floor runs ours and vegeta at each of o.floorRates, far below their limits, and compares their median
// latency after the first second: on a trivial server that is the tools' own floor. Ours is measured from
// the planned instant and vegeta from its actual send, so the difference is at least ours' send lag; the
// breakdown under each rung says where ours' goes (load.Harness). With -floor-ab, ours also runs with the
// scheduler on the runtime's timer alone (load.WithCoarseWake), the wake-up before load/wake.go, side by
// side. At 1000/s it prints the line `load-engine p50 floor at 1000/s: ours=Xms vegeta=Yms diff=Zms`.
func floor(p peers, o options) error {
	if len(o.floorRates) == 0 {
		return nil
	}
	warm, d := time.Second, o.floorDur-time.Second
	fmt.Printf("latency floor: p50 over %s after a %s warm-up (ours from the planned time, vegeta from its actual send), and ours' own share\n", d, warm)
	type tool struct {
		name string
		run  func(r int) (trial, error)
	}
	tools := []tool{
		{"ours", func(r int) (trial, error) { return p.ours(r, warm, d, false) }},
		{"vegeta", func(r int) (trial, error) { return p.vegetaTrial(r, warm, d) }},
	}
	if o.floorAB {
		tools = append(tools, tool{"ours-coarse-wake", func(r int) (trial, error) { return p.ours(r, warm, d, false, "-coarsewake") }})
	}
	for i, r := range o.floorRates {
		got := map[string]trial{}
		for j := range tools {
			tl := tools[(i+j)%len(tools)] // who goes first rotates by rate
			t, err := tl.run(r)
			if err != nil {
				return err
			}
			got[tl.name] = t
		}
		veg := got["vegeta"]
		for _, tl := range tools {
			t := got[tl.name]
			fmt.Printf("  %5d/s  %-16s p50 %.3fms  p99 %.3fms  late %.2f%%  cpu %.1fus/req  others %s",
				r, tl.name, msf(t.P50), msf(t.P99), 100*t.lateFrac(), t.cpuPerReq(), pct(t.Others))
			if tl.name != "vegeta" {
				fmt.Printf("  p50 diff vs vegeta %+.3fms", msf(t.P50-veg.P50))
			}
			fmt.Println()
			if t.Harness != nil {
				fmt.Print(t.Harness.Lines("      ", t.P50))
			}
		}
		if r == 1000 {
			ours := got["ours"]
			fmt.Printf("load-engine p50 floor at 1000/s: ours=%.3fms vegeta=%.3fms diff=%.3fms\n",
				msf(ours.P50), msf(veg.P50), msf(ours.P50-veg.P50))
		}
	}
	return nil
}
