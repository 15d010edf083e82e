// Command bench-declared compares what one request costs the load engine through a built-in op and
// through a declared one: order.create, and the same POST declared in a scenario (internal/benchorders)
// and compiled by the scenarios parser. Each run sends one op at a constant rate to a minimal orders API
// in its own process, and is charged this process's CPU time (user+system, getrusage) over the requests
// it sent. The two alternate in one invocation (A B, B A, ...) so that a noisy machine hits both; the
// medians are printed, and the last line is
//
//	declared-op cpu per request: builtin=Xus declared=Yus ratio=Z
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
	"github.com/chaosbench/chaosbench/internal/benchorders"
	"github.com/chaosbench/chaosbench/load"
	_ "github.com/chaosbench/chaosbench/results" // the metric names a scenario's thresholds are checked against
	"github.com/chaosbench/chaosbench/scenarios"
)

func main() {
	role := flag.String("role", "bench", "internal: 'server' runs the orders API and prints its address")
	rate := flag.Int("rate", 1000, "requests per second of each run")
	dur := flag.Duration("duration", 3*time.Second, "length of each run")
	rounds := flag.Int("rounds", 7, "runs of each op, alternated")
	flag.Parse()
	if *role == "server" {
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, "bench-declared server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*rate, *dur, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench-declared:", err)
		os.Exit(1)
	}
}

func serve() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, benchorders.Handler())
}

func run(rate int, dur time.Duration, rounds int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	srv, err := benchkit.StartServer(self, "-role", "server")
	if err != nil {
		return err
	}
	defer srv.Stop()
	plan, err := scenarios.Parse("bench-declared.yaml", []byte(benchorders.Scenario))
	if err != nil {
		return err
	}
	ops := []struct {
		name string
		set  func(*load.Config)
	}{
		{"builtin", func(c *load.Config) { c.Mix = load.Mix{{Op: load.OrderCreate{}, Weight: 1}} }},
		{"declared", func(c *load.Config) { c.Client, c.Mix = plan.EngineClient(), plan.EngineMix() }},
	}
	fmt.Printf("bench-declared: order.create built-in vs the same request declared (internal/benchorders), %d/s for %s, %d rounds alternated,\n", rate, dur, rounds)
	fmt.Println("client CPU (user+sys of this process) per request sent; the server is its own process")
	per := make([][]float64, len(ops))
	var busy []float64
	for i := range rounds + 1 { // round 0 warms up both and is not counted
		for k := range ops {
			j := k
			if i%2 == 1 {
				j = len(ops) - 1 - k // B A on odd rounds
			}
			w := benchkit.StartWatch(srv.PID())
			us, sent, err := once(srv.URL, rate, dur, ops[j].set)
			others := w.Others(0) // this process is the loader: Watch counts it itself
			if err != nil {
				return fmt.Errorf("%s: %w", ops[j].name, err)
			}
			if i > 0 {
				per[j] = append(per[j], us)
				busy = append(busy, others)
				fmt.Printf("  round %d %-8s %7.1fus over %d requests (other processes: %s of the machine)\n", i, ops[j].name, us, sent, pct(others))
			}
		}
	}
	if m := median(busy); m >= 0 {
		fmt.Printf("machine: other processes took a median %s of its %d CPUs during the runs (quiet: under 5%%); compare the ratio, not the microseconds, between runs\n", pct(m), runtime.NumCPU())
	}
	b, d := median(per[0]), median(per[1])
	fmt.Printf("declared-op cpu per request: builtin=%.1fus declared=%.1fus ratio=%.2f\n", b, d, d/b)
	return nil
}

// once runs one op at rate for d and returns this process's CPU per request sent, in microseconds.
func once(url string, rate int, d time.Duration, set func(*load.Config)) (float64, int64, error) {
	dir, err := os.MkdirTemp("", "bench-declared-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	cfg := load.Config{BaseURL: url, RunDir: dir, Clients: 4, Seed: 1, LateAfter: benchkit.LateAfter,
		Phases: []load.Phase{{Name: "steady", Duration: d, Pacer: load.Constant(rate)}}}
	set(&cfg)
	before := cpu()
	res, err := load.Run(context.Background(), cfg, load.WithoutProgress(), load.WithLogger(quiet))
	used := cpu() - before
	if err != nil {
		return 0, 0, err
	}
	t := res.Totals
	if t.Sent == 0 {
		return 0, 0, fmt.Errorf("nothing sent")
	}
	if t.Errors > 0 {
		return 0, 0, fmt.Errorf("%d of %d requests failed", t.Errors, t.Sent)
	}
	return float64(used.Microseconds()) / float64(t.Sent), t.Sent, nil
}

// quiet drops the engine's log (a line per run's setup).
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func cpu() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(x float64) string {
	if x < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
