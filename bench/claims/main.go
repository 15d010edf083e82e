// Command claims (make claims) runs the catalogue scenarios that test the stateless-design claims of the
// seed articles and writes docs/claims.md: each claim, the scenario that tests it, what was expected of
// each architecture, the verdict, and the numbers of this run.
//
// A claim holds when every architecture named for it ends with the status expected of it: "passed" where
// the design is claimed to hold (its thresholds state the claim), "failed" where the design is the
// counter-example. An invalid or errored run proves nothing and is reported as such, never as confirmed.
// The scenarios say what they test in their descriptions and thresholds; this table only says which to
// read for each claim.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
)

// expect is what a claim expects of one architecture of its scenario: the status its thresholds give it,
// or, where the scenario's thresholds do not state the claim for that architecture (a counter-example it
// only shows), a threshold expression that must hold on a valid run.
type expect struct {
	arch   string
	status results.Status
	holds  string
}

// claim is one testable claim of the seeds, in our words.
type claim struct {
	text     string
	scenario string
	expects  []expect
	// metrics shown beside the verdict, per architecture.
	metrics []string
}

var claims = []claim{
	{"Sessions survive the kill of a node when they live in a shared store, without sticky sessions; in a node's memory they die with it",
		"compare-architectures", []expect{{"stateless", results.StatusPassed, ""}, {"stateful", results.StatusFailed, ""}},
		[]string{"sessions.lost", "errors.rate"}},
	{"Retries with idempotency keys create no duplicate orders; without keys, a retry after a lost answer orders twice",
		"packet-loss", []expect{{"stateless", results.StatusPassed, ""}, {"stateless-no-idempotency", "", "writes.duplicates > 0"}},
		[]string{"writes.duplicates", "writes.lost"}},
	{"A retry storm (short timeouts, little backoff) multiplies load but idempotency keys keep every order single",
		"retry-storm", []expect{{"stateless", results.StatusPassed, ""}}, []string{"writes.duplicates", "latency.p99"}},
	{"Any node can die: no session or write is lost and the service recovers quickly",
		"kill-node", []expect{{"stateless", results.StatusPassed, ""}}, []string{"sessions.lost", "writes.lost", "recovery.seconds"}},
	{"A Redis outage costs errors while it lasts (503s with Retry-After from the circuit breaker), loses no acknowledged write, and the service recovers by itself",
		"redis-outage", []expect{{"stateless", results.StatusPassed, ""}}, []string{"writes.lost", "errors.rate", "latency.p99"}},
	{"Sessions in a store with eviction are only as durable as the store: eviction loses sessions (expected to fail)",
		"redis-eviction", []expect{{"stateless", results.StatusFailed, ""}}, []string{"sessions.lost", "writes.lost"}},
	{"Redis with Sentinel fails over and loses no acknowledged data",
		"redis-failover", []expect{{"stateless-ha", results.StatusPassed, ""}}, []string{"writes.lost", "sessions.lost", "errors.rate"}},
	{"Redis' bound on failover loss: with min-replicas-to-write the primary refuses writes no replica has, so a failover loses none of the acknowledged ones, at the price of refused writes",
		"redis-failover-min-replicas", []expect{{"stateless-ha", results.StatusPassed, ""}}, []string{"writes.lost", "sessions.lost", "errors.rate"}},
	{"A Redis split brain loses acknowledged writes: the old primary's side keeps writing until the Sentinels demote it (documented; expected to fail); min-replicas-to-write bounds the loss, at the price of refused writes",
		"redis-split-brain", []expect{{"stateless-ha", results.StatusFailed, ""}, {"stateless-ha-min-replicas", results.StatusPassed, ""}},
		[]string{"writes.lost", "writes.acknowledged", "errors.rate"}},
	{"Any increase in jitter or packet loss on the link to the state store spikes the p99 (tested: 5 ms each way, the same with ±5 ms of jitter, 1% loss; read each fault's p50 and p99 in the scenario's report)",
		"redis-link", []expect{{"stateless", results.StatusPassed, ""}}, []string{"latency.p99", "latency.p999", "errors.rate"}},
	{"A rolling restart of a stateless service drains without errors",
		"rolling-restart", []expect{{"stateless", results.StatusPassed, ""}}, []string{"errors.rate", "sessions.lost"}},
	{"Keep-alive must be tuned or TLS handshakes dominate",
		"tls-keepalive", nil, []string{"latency.p50", "latency.p99"}},
	{"A few seconds of clock drift cause intermittent 401s beyond the token leeway",
		"clock-skew", []expect{{"stateless", results.StatusPassed, ""}}, []string{"errors.rate"}},
	{"A wider token leeway absorbs the same drift",
		"clock-skew-leeway", []expect{{"stateless", results.StatusPassed, ""}}, []string{"errors.rate"}},
	{"Past the header limit a giant token gets 431; under it, size costs bandwidth, not errors",
		"giant-tokens", nil, []string{"errors.rate", "errors.headers_too_large", "latency.p99"}},
}

func main() {
	out := flag.String("out", "docs/claims.md", "the Markdown file to write")
	runs := flag.String("runs", "runs/claims", "where the run folders go")
	scale := flag.Float64("scale", 1, "scale every scenario's durations (0 < f <= 10)")
	only := flag.String("only", "", "comma-separated scenario names to run (default: all)")
	flag.Parse()
	log.SetFlags(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	var b strings.Builder
	header(&b, *scale)
	for _, c := range claims {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.scenario) {
			continue
		}
		row(ctx, &b, c, *runs, *scale)
		if ctx.Err() != nil {
			log.Fatal("claims: interrupted; nothing written")
		}
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatalf("claims: %v", err)
	}
	log.Printf("claims: wrote %s", *out)
}

func header(w io.Writer, scale float64) {
	fmt.Fprintf(w, `# The seeds' claims, tested

Each claim of the stateless-design articles that chaosbench can test, the catalogue scenario that tests it,
what its architectures were expected to do, and what one run on our machine (%d cores, %s) found. A claim
is **confirmed** when every architecture named for it ended with the status expected of it, **refuted** when one
did not, and **not tested** when the run was invalid or errored, or the scenario does not exist yet. The
scenarios' descriptions and thresholds state the claims; read their reports for the whole story.

Regenerate with `+"`make claims`"+` (this run: every scenario at scale %g, a minute or two each;
`+"`make claims CLAIMS_SCALE=0.5`"+` halves that). Generated %s.

| claim | scenario | expected | verdict | numbers |
|---|---|---|---|---|
`, runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, scale, time.Now().UTC().Format("2006-01-02"))
}

func row(ctx context.Context, w io.Writer, c claim, runs string, scale float64) {
	var want []string
	for _, e := range c.expects {
		if e.holds != "" {
			want = append(want, e.arch+": "+e.holds)
		} else {
			want = append(want, e.arch+" "+string(e.status))
		}
	}
	expected := strings.Join(want, ", ")
	if expected == "" {
		expected = "its thresholds hold (passed)"
	}
	plan, err := scenarios.Load(c.scenario)
	if err != nil {
		fmt.Fprintf(w, "| %s | `%s` | %s | **not tested**: no such scenario yet | |\n", c.text, c.scenario, expected)
		return
	}
	log.Printf("claims: %s", c.scenario)
	dir := filepath.Join(runs, c.scenario)
	o, err := runner.Run(ctx, plan, runner.WithOutDir(dir), runner.WithScale(scale), runner.WithLog(io.Discard, false))
	if err != nil && len(o.Summary.Architectures) == 0 {
		fmt.Fprintf(w, "| %s | `%s` | %s | **not tested**: %v | |\n", c.text, c.scenario, expected, err)
		return
	}
	s := o.Summary
	if _, werr := results.WriteReports(dir, s); werr != nil {
		log.Printf("claims: %s: write reports: %v", c.scenario, werr)
	}
	expects := c.expects
	if len(expects) == 0 {
		for _, a := range s.Architectures {
			expects = append(expects, expect{a.Name, results.StatusPassed, ""})
		}
	}
	verdict := "**confirmed**"
	var numbers []string
	for _, e := range expects {
		a, ok := s.Arch(e.arch)
		if !ok {
			verdict = "**not tested**: no architecture " + e.arch
			continue
		}
		st, why := results.ArchStatus(a)
		switch {
		case st == results.StatusInvalid || st == results.StatusErrored:
			verdict = fmt.Sprintf("**not tested**: %s was %s (%s)", a.Name, st, strings.Join(why, "; "))
		case strings.HasPrefix(verdict, "**not tested"):
		case e.holds != "":
			x, err := results.ParseThreshold(e.holds)
			if err != nil {
				log.Fatalf("claims: %s: %v", e.holds, err)
			}
			if th := x.Eval(a); !th.OK {
				verdict = fmt.Sprintf("**refuted**: %s: not %s", a.Name, e.holds)
			}
		case st != e.status:
			verdict = fmt.Sprintf("**refuted**: %s %s", a.Name, st)
		}
		var ms []string
		for _, m := range c.metrics {
			if v, ok := metric(a, m); ok {
				ms = append(ms, m+" "+v)
			}
		}
		numbers = append(numbers, fmt.Sprintf("%s (%s): %s", a.Name, st, strings.Join(ms, ", ")))
	}
	fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s |\n", c.text, c.scenario, expected, verdict, strings.Join(numbers, "; "))
}

// metric reads a threshold metric of a, formatted with its unit.
func metric(a results.Arch, name string) (string, bool) {
	m, ok := results.LookupMetric(name)
	if !ok {
		return "", false
	}
	v := m.Value(a)
	if math.IsNaN(v) {
		return "not measured", true
	}
	return m.Format(v), true
}
