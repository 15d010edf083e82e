// Command claims (make claims) runs the catalogue scenarios that test the stateless-design claims of the
// seed articles and writes docs/claims.md: each claim, the scenario that tests it, the client behaviour its
// numbers hold for (retries, timeout, re-login: a client that retries less sees other numbers), what was
// expected of each architecture, the verdict, and the numbers of this run.
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
	"github.com/chaosbench/chaosbench/results/render"
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
	{"Optimistic concurrency (ETag and If-Match) loses no increment; last-write-wins loses the increments a retried stale write overwrites",
		"compare-architectures", []expect{{"stateless", results.StatusPassed, ""}, {"stateful", "", "updates.lost >= 30"}},
		[]string{"updates.lost", "updates.acknowledged"}},
	{"Retries with idempotency keys create no duplicate orders; without keys, a retry after a lost answer orders twice",
		"response-loss", []expect{{"stateless", results.StatusPassed, ""}, {"stateless-no-idempotency", "", "writes.duplicates >= 30"}},
		[]string{"writes.duplicates", "writes.lost"}},
	{"Packet loss on one node costs latency (a dropped packet is a 200 ms retransmit), and idempotency keys keep the orders its late answers make clients retry single",
		"packet-loss", []expect{{"stateless", results.StatusPassed, ""}}, []string{"writes.duplicates", "latency.p99", "errors.rate"}},
	{"A retry storm (short timeouts, little backoff) multiplies load but idempotency keys keep every order single",
		"retry-storm", []expect{{"stateless", results.StatusPassed, ""}}, []string{"writes.duplicates", "latency.p99"}},
	{"Any node can die: no session or write is lost and the service recovers quickly",
		"kill-node", []expect{{"stateless", results.StatusPassed, ""}}, []string{"sessions.lost", "writes.lost", "recovery.seconds"}},
	{"A Redis outage costs errors while it lasts: the circuit breaker answers 503 with Retry-After at once, the client's retries carry only the requests planned in its last seconds past it, and the earlier ones fail; no acknowledged write is lost and the service recovers by itself",
		"redis-outage", []expect{{"stateless", results.StatusPassed, ""}},
		[]string{"faults[redis-outage].errors.rate", "faults[redis-outage].requests.retries", "faults[redis-outage].latency.p99", "errors.rate", "writes.lost", "recovery.seconds"}},
	{"Sessions in a store with eviction are only as durable as the store: eviction loses sessions (expected to fail)",
		"redis-eviction", []expect{{"stateless", results.StatusFailed, ""}}, []string{"sessions.lost", "writes.lost"}},
	{"Redis with Sentinel fails over and loses no acknowledged data",
		"redis-failover", []expect{{"stateless-ha", results.StatusPassed, ""}}, []string{"writes.lost", "sessions.lost", "errors.rate"}},
	{"Redis' bound on failover loss: with min-replicas-to-write the primary refuses writes no replica has, so a failover loses none of the acknowledged ones, at the price of refused writes",
		"redis-failover-min-replicas", []expect{{"stateless-ha", results.StatusPassed, ""}}, []string{"writes.lost", "sessions.lost", "errors.rate"}},
	{"Redis Cluster fails over by itself when a primary dies: with min-replicas-to-write no acknowledged write is lost, at the price of an error burst on the dead primary's slots until it returns as a replica; the burst's size and the recovery time are measured",
		"redis-cluster", []expect{{"stateless-cluster-min-replicas", results.StatusPassed, ""}},
		[]string{"writes.lost", "faults[redis-failover].errors.rate", "errors.rate", "recovery.seconds"}},
	{"Short-lived access tokens with rotating refresh tokens log nobody out through a node kill and a Redis failover (a refresh whose answer was lost is retried within a grace); refreshing shows in p99 beside the same stack without them",
		"refresh-tokens", []expect{{"stateless-ha", results.StatusPassed, ""}, {"stateless-ha-refresh", results.StatusPassed, ""}},
		[]string{"sessions.lost", "latency.p50", "latency.p99", "errors.rate"}},
	{"A Redis split brain loses acknowledged writes: the old primary's side keeps writing until the Sentinels demote it (documented; expected to fail); min-replicas-to-write bounds the loss, at the price of refused writes",
		"redis-split-brain", []expect{{"stateless-ha", results.StatusFailed, ""}, {"stateless-ha-min-replicas", results.StatusPassed, ""}},
		[]string{"writes.lost", "writes.acknowledged", "errors.rate"}},
	{"Latency or packet loss on the link to the state store spikes the p99 (5 ms each way, then the same with ±5 ms of jitter, then 1% loss; jitter at the same mean added nothing measurable, the proxy delaying without reordering)",
		"redis-link", []expect{{"stateless", results.StatusPassed, ""}}, []string{"faults[0].latency.p99", "faults[1].latency.p99", "faults[2].latency.p99", "errors.rate"}},
	{"NGINX or HAProxy in front, a node's kill or freeze loses no session and no write; HAProxy's active checks pay a connect timeout per request sent to a dead node until they take it out, NGINX's passive check one failed request",
		"balancer-compare", []expect{{"stateless", results.StatusPassed, ""}, {"stateless-haproxy", results.StatusPassed, ""}},
		[]string{"faults[kill].errors.rate", "faults[kill].latency.p99", "faults[pause].errors.rate", "faults[pause].latency.p99", "sessions.lost", "writes.lost"}},
	{"A durable store behind the cache (orders and resources in PostgreSQL, sessions in Redis) keeps the stateless claims through a node kill: no acknowledged write or session lost, no duplicate order, as with Redis alone",
		"postgres-store", []expect{{"stateless", results.StatusPassed, ""}, {"stateless-postgres", results.StatusPassed, ""}},
		[]string{"writes.lost", "writes.duplicates", "sessions.lost", "latency.p99"}},
	{"An outage of PostgreSQL behind the Redis cache costs the orders and updates planned in it errors, never an acknowledged order or a duplicate (the idempotency record commits in the order's transaction), and the service recovers by itself",
		"postgres-outage", []expect{{"stateless-postgres", results.StatusPassed, ""}},
		[]string{"faults[postgres-outage].errors.rate", "errors.rate", "writes.lost", "writes.duplicates", "recovery.seconds"}},
	{"A PostgreSQL failover (the primary killed, its streaming standby promoted) loses what the standby had not received: with an asynchronous standby cut off from the primary before it died, every order and update acknowledged meanwhile; with a synchronous one none (a replayed order too waits for the standby), at the price of the writes refused while the standby was cut off",
		"postgres-failover", []expect{{"pg-async", results.StatusFailed, ""}, {"pg-sync", results.StatusPassed, ""}},
		[]string{"writes.lost", "updates.lost", "writes.acknowledged", "errors.rate", "faults[postgres-link].errors.rate"}},
	{"Cache invalidation failure serves stale state: with the invalidations of a cache-aside read path lost (a naive cache-aside does not retry them), every copy a committed write should have deleted answers reads until its TTL ends, so the TTL bounds how long stale state survives; the store loses no update (If-Match is checked in PostgreSQL)",
		"cache-invalidation", []expect{{"cache-1s", results.StatusPassed, ""}, {"cache-10s", results.StatusPassed, ""}},
		[]string{"reads.stale", "reads.stale_max_ms", "updates.lost", "errors.rate"}},
	{"A rolling restart of a stateless service drains without errors",
		"rolling-restart", []expect{{"stateless", results.StatusPassed, ""}}, []string{"errors.rate", "sessions.lost"}},
	{"Keep-alive must be tuned or TLS handshakes dominate",
		"tls-keepalive", nil, []string{"latency.p50", "latency.p99"}},
	{"HTTP/2 at the edge carries every request on one connection where HTTP/1.1 keep-alive holds one per request in flight, at the same median latency (the client's CPU per request is its implementation's: x/net's HTTP/2 transport against our HTTP/1.1 wire client)",
		"http2-edge", nil, []string{"latency.p50", "latency.p99", "nginx.conns_per_request", "nginx.active_max", "load.cpu_per_request"}},
	{"Clock drift on one node causes 401s past the token leeway and none inside it: the others refuse its tokens as not yet valid, which neither a retry nor a new login cures (a new login does cure the tokens it sees expire early); just past the leeway (10 s) the cost depends on whether clients log in on that node during the drift",
		"clock-skew", []expect{{"stateless", results.StatusPassed, ""}},
		[]string{"faults[0].errors.rate", "faults[1].errors.rate", "faults[2].errors.rate", "faults[2].requests.retries", "errors.rate"}},
	{"A wider token leeway absorbs the same drift",
		"clock-skew-leeway", []expect{{"stateless", results.StatusPassed, ""}}, []string{"faults[1].errors.rate", "errors.rate"}},
	{"Past the header limit a giant token gets 431; under it, size costs bandwidth, not errors",
		"giant-tokens", nil, []string{"errors.rate", "errors.headers_too_large", "latency.p99"}},
}

func main() {
	out := flag.String("out", "docs/claims.md", "the Markdown file to write")
	runs := flag.String("runs", "runs/claims", "where the run folders go")
	scale := flag.Float64("scale", 1, "scale every scenario's durations (0 < f <= 10)")
	only := flag.String("only", "", "comma-separated scenario names to run (default: all); their rows are replaced in -out, the others kept")
	flag.Parse()
	log.SetFlags(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	var b strings.Builder
	header(&b, *scale)
	var rows []string // with -only: the rows run, each put in place of its old one
	for _, c := range claims {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.scenario) {
			continue
		}
		var r strings.Builder
		row(ctx, &r, c, *runs, *scale)
		if ctx.Err() != nil {
			log.Fatal("claims: interrupted; nothing written")
		}
		b.WriteString(r.String())
		rows = append(rows, r.String())
	}
	text := b.String()
	if *only != "" {
		old, err := os.ReadFile(*out)
		if err != nil {
			log.Fatalf("claims: -only keeps the other rows of %s: %v", *out, err)
		}
		text = replaceRows(string(old), rows)
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		log.Fatalf("claims: %v", err)
	}
	log.Printf("claims: wrote %s", *out)
}

// replaceRows puts each row of rows in doc in place of the row of the same claim and scenario (its first
// two cells), or after the table's last row when doc has none yet; every other line stays as it was, so
// that regenerating one scenario's rows keeps the rest of the table and its header.
func replaceRows(doc string, rows []string) string {
	lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	for _, r := range rows {
		r = strings.TrimSuffix(r, "\n")
		key := rowKey(r)
		last, done := -1, false
		for i, l := range lines {
			if !strings.HasPrefix(l, "| ") {
				continue
			}
			last = i
			if rowKey(l) == key {
				lines[i], done = r, true
				break
			}
		}
		if !done && last >= 0 {
			lines = slices.Insert(lines, last+1, r)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// rowKey is a table row's first two cells: the claim and its scenario.
func rowKey(l string) string {
	cells := strings.SplitN(l, " | ", 3)
	if len(cells) < 3 {
		return l
	}
	return cells[0] + " | " + cells[1]
}

func header(w io.Writer, scale float64) {
	fmt.Fprintf(w, `# The seeds' claims, tested

Each claim of the stateless-design articles that chaosbench can test, the catalogue scenario that tests it,
what its architectures were expected to do, and what one run on our machine (%d cores, %s) found. A claim
is **confirmed** when every architecture named for it ended with the status expected of it, **refuted** when one
did not, and **not tested** when the run was invalid or errored, or the scenario does not exist yet. The
scenarios' descriptions and thresholds state the claims; read their reports for the whole story.

A claim's numbers hold for the client its scenario runs, which the **client** column names: how often and how
long it retries (502/503/504, 409 idempotency_in_flight, timeouts and resets, with the same idempotency key; a
wait is at least the answer's Retry-After), each attempt's timeout, and when it logs in again (once per call on a
401 token_expired or session_not_found, and when its session's TTL runs out; a client whose login gave it a
refresh token refreshes on token_expired instead). A 401 token_invalid is neither
retried nor cured by a new login. A client that retries less, or never logs in again, sees more errors from the
same fault. Numbers named
`+"`faults[i].…`"+` are the fault's window alone (docs/reports.md); the others are the whole run's.

Regenerate with `+"`make claims`"+` (this run: every scenario at scale %g, a minute or two each;
`+"`make claims CLAIMS_SCALE=0.5`"+` halves that). Generated %s.

| claim | scenario | client | expected | verdict | numbers |
|---|---|---|---|---|---|
`, runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, scale, time.Now().UTC().Format("2006-01-02"))
}

// lead is the first four cells of a claim's row, which the run does not change: the claim, its scenario,
// the client behaviour its numbers hold for, and what is expected. plan is nil when the scenario does not
// exist (yet).
func lead(c claim, plan *scenarios.Plan) string {
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
	cl := "–"
	if plan != nil {
		cl = client(*plan)
	}
	return fmt.Sprintf("| %s | `%s` | %s | %s |", c.text, c.scenario, cl, expected)
}

// client names the client behaviour a scenario's numbers hold for: its retry policy, its timeout, and when
// its clients log in again (the load engine's rules, docs/load.md).
func client(p scenarios.Plan) string {
	r := p.Retry
	retry := "no retry"
	if r.Attempts > 1 {
		retry = fmt.Sprintf("%d attempts, backoff %s to %s (at least Retry-After), budget %s", r.Attempts, r.Base, r.Max, r.Budget)
	}
	relogin := "re-login on 401 token_expired or session_not_found"
	if p.SessionTTL > 0 {
		relogin += fmt.Sprintf(" and every %s (session TTL)", p.SessionTTL)
	}
	for _, a := range p.Architectures {
		if a.Refresh > 0 {
			relogin += "; with refresh tokens (" + a.Name + "), a refresh on 401 token_expired instead, and a re-login when it is refused"
			break
		}
	}
	return fmt.Sprintf("%s; timeout %s; %s", retry, p.Timeout, relogin)
}

// ran holds each scenario's summary once it has run: two claims that read one scenario (compare-architectures
// shows both lost sessions and lost updates) read the same run, as the table says.
var ran = map[string]results.Summary{}

func row(ctx context.Context, w io.Writer, c claim, runs string, scale float64) {
	plan, err := scenarios.Load(c.scenario)
	if err != nil {
		fmt.Fprintf(w, "%s **not tested**: no such scenario yet | |\n", lead(c, nil))
		return
	}
	s, done := ran[c.scenario]
	if !done {
		log.Printf("claims: %s", c.scenario)
		dir := filepath.Join(runs, c.scenario)
		spec, err := plan.Spec(scenarios.Ask{Scale: scale})
		if err != nil {
			fmt.Fprintf(w, "%s **not tested**: %v | |\n", lead(c, &plan), err)
			return
		}
		o, err := runner.Run(ctx, spec, runner.WithOutDir(dir), runner.WithLog(io.Discard, false))
		if err != nil && len(o.Summary.Architectures) == 0 {
			fmt.Fprintf(w, "%s **not tested**: %v | |\n", lead(c, &plan), err)
			return
		}
		s = o.Summary
		if _, werr := render.WriteReports(dir, s); werr != nil {
			log.Printf("claims: %s: write reports: %v", c.scenario, werr)
		}
		ran[c.scenario] = s
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
	fmt.Fprintf(w, "%s %s | %s |\n", lead(c, &plan), verdict, strings.Join(numbers, "; "))
}

// metric reads a threshold metric of a, a whole-run one or one fault's window (faults[0].errors.rate),
// formatted with its unit.
func metric(a results.Arch, name string) (string, bool) {
	m, err := results.LookupThresholdMetric(name)
	if err != nil {
		return "", false
	}
	v := m.Value(a)
	if math.IsNaN(v) {
		return "not measured", true
	}
	return m.Format(v), true
}
