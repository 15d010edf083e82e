package results

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/require"
)

// -update rewrites the golden files (and testdata/summary.json, which the
// CLI tests and the HTML screenshot read) from what the code produces now.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./results -update to create it")
	require.Equal(t, string(want), string(got), "%s differs; inspect, then go test ./results -update", path)
}

// fixtureSummary is a realistic compare-architectures run: 60 s at 200/s,
// a node kill from 20 to 30 s and packet loss from 40 to 50 s.
//   - stateless rides out both faults: a short p99 spike, a few errors.
//   - stateful (sticky sessions in memory) loses the killed node's sessions:
//     errors during the kill, lost sessions, and it never recovers from the
//     packet loss within the run.
//   - stateless-no-idempotency retries writes without keys: duplicates.
//
// The numbers are generated from a fixed seed so the golden files are stable.
func fixtureSummary() Summary {
	rng := rand.New(rand.NewPCG(42, 7))
	type shape struct {
		name          string
		knobs         Knobs
		base          float64 // p50 ms in steady state
		killErr       float64 // error share during the kill
		lossErr       float64 // error share during the packet loss
		killSpike     float64 // p99 ms at the kill's start
		lossP99       float64 // p99 ms during packet loss
		recKill       *float64
		recLoss       *float64
		dups, lostSes int64
	}
	shapes := []shape{
		{name: "stateless", knobs: Knobs{Auth: "jwt", Sessions: "redis", Idempotency: true, Concurrency: "etag", Balancer: "round-robin", Replicas: 3},
			base: 3.2, killErr: 0.004, lossErr: 0.002, killSpike: 900, lossP99: 210, recKill: f64(2), recLoss: f64(3)},
		{name: "stateful", knobs: Knobs{Auth: "cookie", Sessions: "memory", Idempotency: false, Concurrency: "etag", Balancer: "sticky", Replicas: 3},
			base: 2.6, killErr: 0.31, lossErr: 0.05, killSpike: 1500, lossP99: 420, recKill: f64(4), recLoss: nil, lostSes: 17},
		{name: "stateless-no-idempotency", knobs: Knobs{Auth: "jwt", Sessions: "redis", Idempotency: false, Concurrency: "etag", Balancer: "round-robin", Replicas: 3},
			base: 3.1, killErr: 0.006, lossErr: 0.003, killSpike: 950, lossP99: 230, recKill: f64(2), recLoss: f64(3), dups: 12},
	}
	const rate, secs = 200, 60
	exprs := []string{"latency.p99 < 300ms", "errors.rate < 1%", "writes.duplicates == 0", "sessions.lost == 0", "recovery.seconds < 10",
		"faults[kill].errors.rate < 5%", "faults[1].latency.p99 < 500ms"}

	s := Summary{
		Schema:      SchemaVersion,
		Scenario:    "compare-architectures",
		Description: "The three presets under a node kill and packet loss.",
		Seed:        42,
		Scale:       1,
		StartedAt:   time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		DurationS:   secs,
	}
	for _, sh := range shapes {
		a := Arch{Name: sh.name, Knobs: sh.knobs, Valid: true, Errors: map[string]int64{}, PerNode: map[string]int64{}}
		var okN, errN int64
		for t := range secs {
			p50 := sh.base * (1 + 0.1*rng.Float64())
			p99 := p50 * (5 + rng.Float64())
			errShare := 0.0
			phase := "steady"
			switch {
			case t >= 20 && t < 30:
				phase = "kill"
				errShare = sh.killErr
				// The spike decays as the balancer marks the node down.
				p99 = math.Max(p99, sh.killSpike/float64(1+3*(t-20)))
				p50 *= 1.4
			case t >= 30 && sh.recKill != nil && float64(t) < 30+*sh.recKill:
				p99 *= 3
			case t >= 40 && t < 50:
				phase = "packet-loss"
				errShare = sh.lossErr
				p99 = sh.lossP99 * (0.8 + 0.4*rng.Float64())
				p50 *= 2
			case t >= 50 && sh.recLoss == nil:
				// stateful never settles: retransmits keep p99 up.
				p99 = sh.lossP99 * 0.6 * (0.8 + 0.4*rng.Float64())
			}
			errs := int64(math.Round(rate * errShare * (0.7 + 0.6*rng.Float64())))
			// p95 and retries from what is drawn already (no more draws: the rest of the fixture stays as it was).
			a.Timeline = append(a.Timeline, Second{T: t, Phase: phase, Planned: rate, Sent: rate, OK: rate - errs, Errors: errs,
				Retries: 2 * errs, P50MS: round2(p50), P95MS: round2(p50 + 0.5*(p99-p50)), P99MS: round2(p99),
				MaxMS: round2(p99 * (1.2 + rng.Float64()))})
			okN += rate - errs
			errN += errs
		}
		a.Requests = Requests{Planned: rate * secs, Sent: rate * secs, OK: okN, Failed: errN, Dropped: 0, Late: 4, Retries: errN*2 + 40,
			PlannedRate: rate, AchievedRate: 199.6}
		a.ErrorRate = float64(errN) / float64(rate*secs)
		// The mix's ops, in its order: orders carry most of the errors.
		for i, op := range []struct {
			name  string
			share float64
		}{{"profile.read", 0.5}, {"cart.write", 0.2}, {"order.create", 0.2}, {"resource.update", 0.1}} {
			n := int64(float64(rate*secs) * op.share)
			e := errN * int64(i+1) / 10
			a.Ops = append(a.Ops, OpStats{Name: op.name, Requests: n, Errors: e, ErrorRate: float64(e) / float64(n),
				Retries: e * 2, P50MS: round2(sh.base * (1 + float64(i)/4)), P99MS: round2(sh.base * (6 + float64(i)))})
		}
		a.Availability = 1
		if sh.killErr > 0.2 {
			a.Availability = 58.0 / 60
		}
		a.Errors["http_502"] = errN / 2
		a.Errors["timeout"] = errN - errN/2 - sh.lostSes
		if sh.lostSes > 0 {
			a.Errors["session_lost"] = sh.lostSes
		}
		for n := 1; n <= 3; n++ {
			a.PerNode["api-"+string(rune('0'+n))] = okN/3 + int64(n)
		}
		a.Latency = LatencyMS{P50: round2(sh.base * 1.05), P95: round2(sh.base * 4), P99: round2(sh.base * 9), P999: round2(sh.killSpike * 0.6),
			Max: round2(sh.killSpike * 1.1), Mean: round2(sh.base * 1.9)}
		if sh.killErr > 0.2 {
			a.Latency.P99 = 310.5 // stateful: the spike and the slow tail reach p99
		}
		// The engine's own share, for all but the last architecture: a summary from before the engine
		// measured it has none, and its column shows "-".
		if sh.name != "stateless-no-idempotency" {
			a.Harness = &Harness{SendLag: LagMS{Count: rate * secs, P50: 0.09, P99: 0.41, Max: round2(2.3 + sh.base/10)},
				TraceEvery: 16, Traced: rate * secs / 16}
			for i, st := range []LagMS{{P50: 0.05, P99: 0.32, Max: 1.9}, {P50: 0.01, P99: 0.05, Max: 0.2},
				{P50: 0.03, P99: 0.09, Max: 0.6}, {P50: round2(sh.base * 0.9), P99: round2(sh.base * 8), Max: 900}, {P50: 0.04, P99: 0.1, Max: 0.7}} {
				st.Count = a.Harness.Traced
				a.Harness.Stages = append(a.Harness.Stages, StageMS{Stage: load.Stage(i).String(), Span: load.Stage(i).Span(), LagMS: st})
			}
		}
		for _, q := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100} {
			a.Percentiles = append(a.Percentiles, Percentile{Quantile: q, MS: round2(fixtureCurve(a.Latency, q))})
		}
		// The checks, as CheckLedger finds them; Fill mirrors them into
		// Writes, Updates and Sessions as Analyze does.
		Findings{
			"writes.acknowledged": {Value: 2400}, "writes.rejected": {Value: 3}, "writes.indeterminate": {Value: 4},
			"writes.duplicates": {Value: sh.dups, Examples: examples("order-", sh.dups)}, "writes.lost": {},
			"writes.indeterminate_applied": {Value: 2},
			"updates.acknowledged":         {Value: 1200}, "updates.lost": {}, "updates.extra": {},
			"sessions.total": {Value: 100}, "sessions.lost": {Value: sh.lostSes, Examples: examples("session-", sh.lostSes)},
		}.Fill(&a)
		// The packet loss starts 10 s after the kill ended, inside the kill's
		// recovery on some architectures: its baseline is the kill's (the
		// first fault's), as the analysis would choose it.
		a.Faults = []Fault{
			{Kind: "kill", Target: "any-api", Resolved: "api-2", Mechanism: "docker kill", StartS: 20, EndS: 30, RecoveryS: sh.recKill,
				Before: fixtureWindow(a.Timeline, 10, 20), During: fixtureWindow(a.Timeline, 20, 30), After: fixtureWindow(a.Timeline, 30, 40),
				ReadyAfterS: f64(0.8)},
			{Kind: "packet-loss", Target: "any-api", Resolved: "api-1", Mechanism: "iptables statistic 20%", StartS: 40, EndS: 50, RecoveryS: sh.recLoss,
				Before: fixtureWindow(a.Timeline, 10, 20), BaselineOfFirst: true, During: fixtureWindow(a.Timeline, 40, 50), After: fixtureWindow(a.Timeline, 50, 60),
				ReadyAfterS: f64(0.1)},
		}
		for _, x := range exprs {
			e, err := ParseThreshold(x)
			if err != nil {
				panic(err)
			}
			a.Thresholds = append(a.Thresholds, e.Eval(a))
		}
		a.Files = map[string]string{"histogram": a.Name + ".hgrm", "records": a.Name + ".records.jsonl"}
		s.Architectures = append(s.Architectures, a)
	}
	s.Verdict = RunVerdict(s)
	s.Passed = s.Verdict == StatusPassed
	return s
}

// examples names the first few of n counted things, as a check keeps them.
func examples(prefix string, n int64) []string {
	var out []string
	for i := range min(n, maxExamples) {
		out = append(out, fmt.Sprintf("%s%d", prefix, 7*i+3))
	}
	return out
}

// curve interpolates a plausible latency distribution through the summary's
// percentiles, on a log scale.
func fixtureCurve(l LatencyMS, q float64) float64 {
	pts := []struct{ q, ms float64 }{{0, l.P50 * 0.3}, {50, l.P50}, {95, l.P95}, {99, l.P99}, {99.9, l.P999}, {100, l.Max}}
	for i := 1; i < len(pts); i++ {
		if q <= pts[i].q {
			f := (q - pts[i-1].q) / (pts[i].q - pts[i-1].q)
			return math.Exp(math.Log(pts[i-1].ms) + f*(math.Log(pts[i].ms)-math.Log(pts[i-1].ms)))
		}
	}
	return l.Max
}

func fixtureWindow(tl []Second, from, to int) Window {
	w := Window{FromS: float64(from), ToS: float64(to)}
	for _, s := range tl[from:to] {
		w.Requests += s.Sent
		w.Errors += s.Errors
		w.P50MS = math.Max(w.P50MS, s.P50MS)
		w.P99MS = math.Max(w.P99MS, s.P99MS)
		w.MaxMS = math.Max(w.MaxMS, s.MaxMS)
	}
	w.ErrorRate = float64(w.Errors) / float64(w.Requests)
	w.Retries = 2*w.Errors + 3 // a failed request retried twice, and a few that a retry saved
	w.P95MS = round2(w.P50MS + 0.6*(w.P99MS-w.P50MS))
	return w
}

// The fixture is also a file, for the CLI tests and for looking at the HTML
// report in a browser.
func TestFixtureFile(t *testing.T) {
	s := fixtureSummary()
	buf, err := json.MarshalIndent(s, "", "  ") // as render.JSONReporter writes it
	require.NoError(t, err)
	golden(t, "summary.json", append(buf, '\n'))
	back, err := ReadSummary(filepath.Join("testdata", "summary.json"))
	require.NoError(t, err)
	require.Equal(t, len(s.Architectures), len(back.Architectures))
	require.False(t, s.Passed, "the fixture must show failures")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
