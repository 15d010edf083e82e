package results_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
	"github.com/stretchr/testify/require"
)

// A check declared outside package results, as a new check file would be:
// rejected orders (a definite 4xx) that the store holds anyway. Registered
// once per test binary; the package's golden reports do not show it, since
// their summaries do not record it.
func init() {
	results.RegisterCheck(results.Check{
		Name: "writes.rejected_applied", Help: "orders answered 4xx that the store holds anyway",
		Group: "writes", Row: "rejected applied", Rank: 145,
		Violation: true, Title: "Rejected writes applied",
		Explain:   "Orders the client was told were refused (4xx) that exist in the store afterwards.",
		Tolerance: &results.Tolerance{Worst: true},
		Needs:     results.StoredOrders,
		Order: func(t *results.Tally, o load.OrderEntry, stored int64) {
			if o.Status == load.OrderRejected && stored > 0 {
				t.Add(1, o.Key)
			}
		},
	})
}

// storeTruth is ground truth held in maps, for checks whose subject is the
// comparison and not the store (the Redis reader is tested against a real
// redis-server in package target). It cannot look orders up by request id,
// as a service read through its own API might not: the idempotency key
// suffices. nil maps cannot answer at all.
type storeTruth struct {
	orders    map[string]int64 // by idempotency key
	resources map[string]int64
}

func (s storeTruth) OrdersByKey(_ context.Context, keys []string) ([]int64, error) {
	if s.orders == nil {
		return nil, fmt.Errorf("orders by key: %w", results.ErrUnanswerable)
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = s.orders[k]
	}
	return out, nil
}

func (storeTruth) OrdersByRequestID(context.Context, []string) ([]int64, error) {
	return nil, fmt.Errorf("orders by request id: %w", results.ErrUnanswerable)
}

func (s storeTruth) ResourceValues(_ context.Context, ids []string) ([]int64, error) {
	if s.resources == nil {
		return nil, fmt.Errorf("resources: %w", results.ErrUnanswerable)
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = s.resources[id]
	}
	return out, nil
}

var _ results.Truth = storeTruth{}

// ledger: one acknowledged order, two rejected ones, a resource with 3
// acknowledged increments, a session.
func ledger() load.LedgerSnapshot {
	return load.LedgerSnapshot{
		Orders: []load.OrderEntry{
			{Key: "a", RequestID: "req-a", Status: load.OrderAcknowledged},
			{Key: "b", RequestID: "req-b", Status: load.OrderRejected},
			{Key: "c", RequestID: "req-c", Status: load.OrderRejected},
		},
		Resources: []load.ResourceEntry{{ID: "r1", Acknowledged: 3}},
		Sessions:  []load.SessionEntry{{SessionID: "s1"}},
	}
}

// steadyLoad is 10 s at 10/s, every request answered in 4 ms: a valid run
// whose only news is what the checks find.
func steadyLoad() *load.Result {
	r := &load.Result{Planned: 10 * time.Second, Hist: map[load.HistKey]*hdrhistogram.Histogram{}}
	h := load.NewHistogram()
	for s := range 10 {
		r.Timeline = append(r.Timeline, load.Second{Second: s, Phase: "load", Counts: load.Counts{Planned: 10, Sent: 10, Completed: 10},
			P50: 4 * time.Millisecond, P99: 4 * time.Millisecond, Max: 4 * time.Millisecond})
		for range 10 {
			_ = h.RecordValue(4000) // 4 ms, within the histogram's range
		}
	}
	r.Hist[load.HistKey{Op: "order.create", Phase: "load"}] = h
	r.Totals = load.Totals{Counts: load.Counts{Planned: 100, Sent: 100, Completed: 100}}
	return r
}

// run checks the ledger against truth, analyzes one architecture with the
// thresholds and returns the summary as summary.json holds it (written and
// read back, as `chaosbench report` and `compare` read it).
func run(t *testing.T, truth results.Truth, thresholds ...string) results.Summary {
	t.Helper()
	f, err := results.CheckLedger(context.Background(), truth, ledger())
	require.NoError(t, err)
	var exprs []results.Expr
	for _, x := range thresholds {
		e, err := results.ParseThreshold(x)
		require.NoError(t, err)
		exprs = append(exprs, e)
	}
	a, err := results.Analyze(results.Input{Name: "stateless", Load: steadyLoad(), Findings: f, Thresholds: exprs})
	require.NoError(t, err)
	s := results.Summary{Schema: results.SchemaVersion, Scenario: "checks", Seed: 1, Scale: 1, DurationS: 10,
		Architectures: []results.Arch{a}}
	s.Verdict = results.RunVerdict(s)
	s.Passed = s.Verdict == results.StatusPassed
	path := filepath.Join(t.TempDir(), "summary.json")
	require.NoError(t, s.WriteFile(path))
	back, err := results.ReadSummary(path)
	require.NoError(t, err)
	return back
}

// reports renders s in every run-report format.
func reports(t *testing.T, s results.Summary) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range render.Reporters() {
		var b bytes.Buffer
		require.NoError(t, r.Render(&b, s))
		out[r.Format()] = b.String()
	}
	for _, f := range []string{"text", "md", "html", "json"} {
		require.Contains(t, out, f, "every built-in format (and any registered one)")
	}
	return out
}

func compared(t *testing.T, c results.Comparison, metric string) results.MetricChange {
	t.Helper()
	for _, m := range c.Architectures[0].Metrics {
		if m.Metric == metric {
			return m
		}
	}
	t.Fatalf("%s is not compared", metric)
	return results.MetricChange{}
}

// TestCheckRegisteredFromOutside: the check declared in this file alone is
// computed by CheckLedger, stored in summary.json, shown by every report,
// usable as a threshold and compared, through the package's real functions.
func TestCheckRegisteredFromOutside(t *testing.T) {
	const name = "writes.rejected_applied"
	const threshold = name + " == 0"
	// The baseline's store holds no rejected order; the candidate's holds both.
	base := run(t, storeTruth{orders: map[string]int64{"a": 1}, resources: map[string]int64{"r1": 3}}, threshold)
	cand := run(t, storeTruth{orders: map[string]int64{"a": 1, "b": 1, "c": 1}, resources: map[string]int64{"r1": 3}}, threshold)

	// summary.json: the check's count and examples under "checks".
	require.Equal(t, results.CheckResult{}, base.Architectures[0].Checks[name])
	a := cand.Architectures[0]
	require.Equal(t, results.CheckResult{Value: 2, Examples: []string{"b", "c"}}, a.Checks[name])

	// A threshold over it, with its metric and unit.
	m, ok := results.LookupMetric(name)
	require.True(t, ok)
	require.Equal(t, results.KindCount, m.Kind)
	require.True(t, base.Architectures[0].Thresholds[0].OK)
	th := a.Thresholds[0]
	require.Equal(t, results.Threshold{Expr: threshold, Metric: name, Value: 2}, th)
	require.Equal(t, results.StatusFailed, cand.Verdict)

	// Every report shows it: the table row in its group, the verdict row
	// and its explanation in HTML, the failed threshold.
	out := reports(t, cand)
	require.Regexp(t, `(?m)^  rejected applied +2$`, out["text"])
	require.Contains(t, out["text"], "stateless: "+threshold+" (was 2)")
	require.Contains(t, out["md"], "| &nbsp;&nbsp;rejected applied | **2** |")
	require.Contains(t, out["html"], `<tr><td>Rejected writes applied</td><td class="bad">✗ 2</td></tr>`)
	require.Contains(t, out["html"], "<dt>Rejected writes applied</dt><dd>Orders the client was told were refused (4xx) that exist in the store afterwards.</dd>")
	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(out["json"]), &js))
	require.Contains(t, out["json"], `"writes.rejected_applied": {`)
	// It sits in the writes block, after the rows before it in Rank order.
	require.Regexp(t, `(?s)writes acknowledged.*  indeterminate .*  rejected applied .*updates acknowledged`, out["text"])

	// compare: its default tolerance (any increase, worst run) makes 0 → 2 a regression.
	require.Equal(t, results.Tolerance{Worst: true}, results.DefaultTolerances()[name])
	c := results.Compare([]results.Summary{base}, []results.Summary{cand}, nil)
	require.True(t, c.Regression)
	mc := compared(t, c, name)
	require.Equal(t, results.VerdictRegression, mc.Verdict)
	require.Equal(t, "worst", mc.Compared)
	require.Equal(t, 2.0, mc.Change)
	require.Contains(t, c.VerdictLine(), "REGRESSION: stateless ("+name+")")
}

// TestNotChecked: a Truth that cannot answer a question leaves the checks
// that ask it "not checked" (never zero) in the summary, the thresholds, the
// reports and compare; the checks it can answer, and those of the ledger
// alone, are unaffected.
func TestNotChecked(t *testing.T) {
	const expr = "writes.lost == 0"
	checked := run(t, storeTruth{orders: map[string]int64{"a": 1}, resources: map[string]int64{"r1": 2}}, expr)
	// Resources answered, orders not.
	blind := run(t, storeTruth{resources: map[string]int64{"r1": 2}}, expr)
	// No truth at all: only what the ledger alone knows.
	none := run(t, nil, expr, "updates.lost == 0", "sessions.lost == 0")

	a := blind.Architectures[0]
	for _, name := range []string{"writes.lost", "writes.duplicates", "writes.indeterminate_applied", "writes.rejected_applied"} {
		r := a.Checks[name]
		require.Contains(t, r.NotChecked, "stored orders: orders by key: the ground-truth source cannot answer this", name)
		require.Zero(t, r.Value, name)
	}
	require.Equal(t, results.CheckResult{Value: 1, Examples: []string{"r1"}}, a.Checks["updates.lost"], "resources were answered")
	require.Equal(t, results.CheckResult{Value: 1}, a.Checks["writes.acknowledged"], "the ledger alone knows")
	require.Equal(t, results.CheckResult{Value: 2}, a.Checks["writes.rejected"])
	b, err := json.Marshal(a)
	require.NoError(t, err)
	var v1 results.V1Counts
	require.NoError(t, json.Unmarshal(b, &v1))
	require.Equal(t, results.Writes{Acknowledged: 1, Rejected: 2}, v1.Writes, "summary.json's first counts mirror Checks, 0 for what was not checked")

	// A threshold on a check that was not checked is not measured, and fails.
	require.Equal(t, results.Threshold{Expr: expr, Metric: "writes.lost", Value: -1, Unmeasured: true,
		Detail: a.Thresholds[0].Detail}, a.Thresholds[0])
	require.Contains(t, a.Thresholds[0].Detail, "not checked: stored orders")
	require.Equal(t, results.StatusFailed, blind.Verdict)
	require.True(t, checked.Architectures[0].Thresholds[0].OK)

	n := none.Architectures[0]
	require.Equal(t, "resource values: no ground-truth source", n.Checks["updates.lost"].NotChecked)
	require.False(t, n.Thresholds[1].OK)
	require.True(t, n.Thresholds[2].OK, "sessions.lost needs no truth: checked, 0")

	out := reports(t, blind)
	require.Regexp(t, `(?m)^  lost +not checked$`, out["text"])
	require.Contains(t, out["md"], "| &nbsp;&nbsp;lost | not checked |")
	require.Contains(t, out["html"], "<tr><td>Lost writes</td><td class=\"\">not checked: stored orders")
	require.Contains(t, out["json"], `"not_checked": "stored orders: `)

	// compare: checked → not checked is a regression (nothing checks it any
	// more); not checked → checked has nothing to compare with.
	worse := results.Compare([]results.Summary{checked}, []results.Summary{blind}, nil)
	require.Equal(t, results.VerdictRegression, compared(t, worse, "writes.lost").Verdict)
	better := results.Compare([]results.Summary{blind}, []results.Summary{checked}, nil)
	require.Equal(t, results.VerdictOK, compared(t, better, "writes.lost").Verdict)
}

// A summary written before "checks" existed re-renders from its
// writes/updates/sessions fields, and shows no row for a check it does not
// record.
func TestSummaryWithoutChecks(t *testing.T) {
	s := run(t, storeTruth{orders: map[string]int64{"a": 1, "b": 1}, resources: map[string]int64{"r1": 3}})
	require.NotEmpty(t, s.Architectures[0].Checks)
	// As such a summary.json reads: the same architecture, without "checks".
	raw, err := json.Marshal(s.Architectures[0])
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &fields))
	delete(fields, "checks")
	raw, err = json.Marshal(fields)
	require.NoError(t, err)
	old := s
	old.Architectures = []results.Arch{{}}
	require.NoError(t, json.Unmarshal(raw, &old.Architectures[0]))
	before, after := reports(t, s), reports(t, old)
	require.Contains(t, before["text"], "rejected applied")
	require.NotContains(t, after["text"], "rejected applied")
	require.NotContains(t, after["html"], "Rejected writes applied")
	// The checks newer than the old summary's fields (the test's own, writes.unexpected, and the reads
	// group: reads.stale, reads.stale_max_ms) leave no row; the reads group's blank separator line goes
	// with it. (The verdict line names a violation check not checked: the same line then differs by that name.)
	for _, f := range []string{"text", "md"} {
		newer := dropLine(dropLine(dropLine(dropLine(before[f], "rejected applied"), "unexpected"), "PASSED"), "stale")
		blank := func(s string) string { return strings.ReplaceAll(s, "\n\n\n", "\n\n") }
		require.Equal(t, blank(newer), blank(dropLine(after[f], "PASSED")), f)
	}
	// compare leaves out a check no run records, rather than calling it unmeasured.
	c := results.Compare([]results.Summary{old}, []results.Summary{old}, nil)
	for _, m := range c.Architectures[0].Metrics {
		require.NotEqual(t, "writes.rejected_applied", m.Metric)
	}
}

// dropLine removes the lines of s that contain sub.
func dropLine(s, sub string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestDeclaredOrdersAreNotContractOrders: a declared op's ledger entries (OrderEntry.Op) are writes to
// another API: the contract's order checks neither count them nor call them lost.
func TestDeclaredOrdersAreNotContractOrders(t *testing.T) {
	l := load.LedgerSnapshot{Orders: []load.OrderEntry{
		{Key: "a", RequestID: "req-a", Status: load.OrderAcknowledged},
		{Key: "t-1", Op: "ticket.open", Status: load.OrderAcknowledged},
	}}
	f, err := results.CheckLedger(context.Background(), storeTruth{orders: map[string]int64{"a": 1}, resources: map[string]int64{}}, l)
	require.NoError(t, err)
	require.EqualValues(t, 1, f["writes.acknowledged"].Value)
	require.Zero(t, f["writes.lost"].Value)
	require.Len(t, l.Orders, 2, "the ledger itself is left as it was")
	require.Equal(t, "ticket.open", l.Orders[1].Op)
}
