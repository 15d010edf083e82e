package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	mergeOps    = []string{"order.create", "profile.read"}
	mergePhases = []string{"baseline", "fault"}
)

// knownRecords makes n requests over 4 s (baseline: seconds 0-1, fault: 2-3) with latencies from a
// heavy-tailed distribution (100 µs to seconds), a few errors and retries: values whose merge is easy to
// get wrong by averaging.
func knownRecords(n int) []Record {
	rnd := mrand.New(mrand.NewPCG(7, 11))
	recs := make([]Record, n)
	for i := range recs {
		planned := time.Duration(i) * 4 * time.Second / time.Duration(n)
		ph := 0
		if planned >= 2*time.Second {
			ph = 1
		}
		op := rnd.IntN(2)
		lat := time.Duration(100*math.Exp(rnd.NormFloat64()*1.5+float64(ph)*2)) * time.Microsecond
		r := Record{Seq: uint64(i + 1), Op: mergeOps[op], Phase: mergePhases[ph], Client: i % 5, Planned: planned,
			Sent: planned, Latency: lat, Service: lat / 2, Attempts: 1, Calls: 1, Status: 200, Class: ClassOK,
			Key: "k-" + strconv.Itoa(i+1), opIdx: op, phaseIdx: ph}
		if rnd.IntN(20) == 0 {
			r.Class, r.Status, r.Attempts = "http_5xx", 503, 3
		}
		// The send lag of every request, heavy-tailed too, and a traced request's instants in between.
		lag := min(time.Duration(20*math.Exp(rnd.NormFloat64()))*time.Microsecond, lat/2)
		r.Written = planned + lag
		if traced(r.Seq, DefaultTraceEvery) {
			r.Dequeued, r.FirstByte = planned+lag/2, r.Written+(lat-lag)/2
		}
		recs[i] = r
	}
	return recs
}

// partOf runs recs through the aggregator and the ledger as an engine would, writing dir's files, and
// returns that engine's Result: segment seg of a run that started at start.
func partOf(t *testing.T, dir string, start time.Time, seg Segment, recs []Record) *Result {
	t.Helper()
	led := newLedger()
	f, err := createRunFiles(dir, led)
	require.NoError(t, err)
	a := newAggregator(mergeOps, mergePhases, 0, DefaultTraceEvery, f)
	a.begin(start)
	secs := make([]int64, 4)
	for i := range recs {
		r := recs[i]
		a.add(&r)
		secs[int(r.Planned/time.Second)]++
		// Every worker increments the same few resources, and orders and sessions of its own.
		led.RecordResourceUpdate("res-"+strconv.Itoa(int(r.Seq%3)), r.Class == ClassOK, int(r.Seq%2), 0)
		if r.Op == "order.create" {
			led.RecordOrder(OrderEntry{Key: r.Key, Status: OrderAcknowledged, HTTPStatus: 201})
		}
		if r.Seq%50 == 0 {
			led.sessionStarted(r.Client, "u", "sid-"+strconv.FormatUint(r.Seq, 10), start, time.Time{})
		}
	}
	require.NoError(t, a.finish())
	require.NoError(t, led.close())
	res := &Result{RunID: "run-" + seg.String(), Start: start, Planned: 4 * time.Second, Segment: seg,
		Phases: []PhaseWindow{{"baseline", 0, 2 * time.Second}, {"fault", 2 * time.Second, 4 * time.Second}},
		End:    start.Add(5 * time.Second)}
	res.Stats, res.Hist, res.ServiceHist = a.stats()
	res.Harness = a.harness
	res.Timeline = a.timeline
	for len(res.Timeline) < 4 {
		res.Timeline = append(res.Timeline, Second{Second: len(res.Timeline)})
	}
	for i := range res.Timeline {
		res.Timeline[i].Planned, res.Timeline[i].Sent = secs[i], secs[i]
	}
	res.Totals = Totals{Counts: Counts{Planned: int64(len(recs)), Sent: int64(len(recs)), Completed: a.completed.Load(),
		Errors: a.errors.Load(), Retries: a.retries.Load()}, InFlightLimitLow: 4096}
	res.Ledger = led.Snapshot(res.RunID, start)
	res.Files = f.paths()
	require.NoError(t, res.Ledger.WriteFile(res.Files.Ledger))
	return res
}

// hlogWindows reads an hlog into its windows by (second, tag).
func hlogWindows(t *testing.T, path string, start time.Time) map[hlogWindow]*hdrhistogram.Histogram {
	t.Helper()
	out := map[hlogWindow]*hdrhistogram.Histogram{}
	require.NoError(t, readHLog(path, func(h *hdrhistogram.Histogram) error {
		sec := int(math.Round(float64(h.StartTimeMs()-start.UnixMilli()) / 1000))
		out[hlogWindow{sec, h.Tag()}] = h
		return nil
	}))
	return out
}

// sameHist asserts that two histograms hold the same counts in the same buckets, and so give the same
// value at every quantile.
func sameHist(t *testing.T, want, got *hdrhistogram.Histogram, what string) {
	t.Helper()
	require.NotNil(t, got, what)
	assert.Equal(t, want.TotalCount(), got.TotalCount(), what+": count")
	assert.Equal(t, want.Export().Counts, got.Export().Counts, what+": bucket counts")
	for _, q := range []float64{0, 50, 90, 99, 99.9, 100} {
		assert.Equal(t, want.ValueAtQuantile(q), got.ValueAtQuantile(q), "%s: p%g", what, q)
	}
}

// TestMergeEqualsOneHistogram splits known requests over three workers (striped, as segments split hits),
// merges them, and compares every histogram, percentile and count with one engine's over all of them:
// equal, not close.
func TestMergeEqualsOneHistogram(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_123)
	recs := knownRecords(6000)
	tmp := t.TempDir()
	whole := partOf(t, filepath.Join(tmp, "whole"), start, Segment{}, recs)
	var parts []*Result
	for i := range 3 {
		var mine []Record
		for j, r := range recs {
			if j%3 == i {
				mine = append(mine, r)
			}
		}
		parts = append(parts, partOf(t, filepath.Join(tmp, "w"+strconv.Itoa(i)), start, Segment{i, 3}, mine))
	}
	// In any order: Merge sorts by segment.
	merged, err := Merge(filepath.Join(tmp, "merged"), parts[2], parts[0], parts[1])
	require.NoError(t, err)

	require.Len(t, merged.Hist, len(whole.Hist))
	for k, h := range whole.Hist {
		sameHist(t, h, merged.Hist[k], "cumulative "+k.Op+"/"+k.Phase)
		sameHist(t, whole.ServiceHist[k], merged.ServiceHist[k], "service "+k.Op+"/"+k.Phase)
	}
	sameHist(t, whole.Latency("", ""), merged.Latency("", ""), "all")
	sameHist(t, whole.Harness.SendLag, merged.Harness.SendLag, "send lag")
	for i, h := range whole.Harness.Stages {
		sameHist(t, h, merged.Harness.Stages[i], "stage "+Stage(i).String())
	}
	assert.Equal(t, whole.Harness.Traced, merged.Harness.Traced)
	assert.Positive(t, merged.Harness.Traced)
	assert.ElementsMatch(t, whole.Stats, merged.Stats, "per op × phase: counts summed, percentiles from the merged histograms")
	assert.Equal(t, whole.Timeline, merged.Timeline, "per second: counts summed, p50/p99/max from the merged windows")
	assert.Equal(t, whole.Totals, merged.Totals)
	assert.Len(t, merged.Workers, 3)

	// The per-second windows of the merged hlog are the single engine's, window for window.
	ww, mw := hlogWindows(t, whole.Files.HLog, start), hlogWindows(t, merged.Files.HLog, start)
	require.Len(t, mw, len(ww))
	for k, h := range ww {
		sameHist(t, h, mw[k], fmt.Sprintf("window %d %s", k.sec, k.tag))
	}

	// Ledgers by key: resources summed by id, every order and session once.
	assert.Equal(t, whole.Ledger.Resources, merged.Ledger.Resources)
	assert.Equal(t, whole.Ledger.OrderCounts, merged.Ledger.OrderCounts)
	assert.ElementsMatch(t, whole.Ledger.Sessions, merged.Ledger.Sessions)
	back, err := ReadLedger(merged.Files.Ledger)
	require.NoError(t, err)
	assert.Equal(t, whole.Ledger.OrderCount(), back.OrderCount())
	var keys []string
	require.NoError(t, back.EachOrder(func(o OrderEntry) error { keys = append(keys, o.Key); return nil }))
	assert.Len(t, keys, whole.Ledger.OrderCount(), "orders.jsonl holds every worker's orders")

	// Records: every request once.
	f, err := os.Open(merged.Files.Records)
	require.NoError(t, err)
	defer f.Close()
	var seqs []int
	require.NoError(t, ReadRecords(bufio.NewReader(f), func(r Record) error { seqs = append(seqs, int(r.Seq)); return nil }))
	sort.Ints(seqs)
	require.Len(t, seqs, len(recs))
	for i, s := range seqs {
		require.Equal(t, i+1, s)
	}
}

// TestMergeRefusesIncompleteRuns: a merge that misses a worker, has one twice or mixes clocks would
// under-count or misplace requests; each is refused, naming why.
func TestMergeRefusesIncompleteRuns(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000)
	recs := knownRecords(300)
	tmp := t.TempDir()
	// p is segment seg made of the requests of share (seg.Index unless a test says otherwise).
	p := func(name string, seg Segment, at time.Time, share int) *Result {
		var mine []Record
		for j, r := range recs {
			if j%3 == share {
				mine = append(mine, r)
			}
		}
		return partOf(t, filepath.Join(tmp, name), at, seg, mine)
	}
	a, b, c := p("a", Segment{0, 3}, start, 0), p("b", Segment{1, 3}, start, 1), p("c", Segment{2, 3}, start, 2)
	late := p("late", Segment{2, 3}, start.Add(time.Second), 2)
	copyOfA := p("a2", Segment{2, 3}, start, 0)
	tests := []struct {
		name  string
		parts []*Result
		want  string
	}{
		// a worker's folder is missing: its third of the load would vanish from the totals
		{"missing", []*Result{a, b}, "every segment must be merged exactly once"},
		// one worker's folder given twice: its requests would count double
		{"twice", []*Result{a, b, b}, "appears twice"},
		// a worker that started on another instant: its windows would land in the wrong seconds
		{"other start", []*Result{a, b, late}, "one start instant"},
		// nothing at all
		{"none", nil, "no result"},
		// two workers that both claim one session: a ledger merged from them would count it once
		{"shared session", []*Result{a, b, copyOfA}, "is in the ledgers of segments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(filepath.Join(tmp, "out-"+tc.name), tc.parts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := Merge(filepath.Join(tmp, "ok"), a, b, c)
	require.NoError(t, err, "the complete set merges")
}

// TestWorkerFileRoundTrip: what Merge reads back from a worker's folder is what the worker measured,
// histograms at full precision.
func TestWorkerFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	start := time.UnixMilli(1_700_000_000_000)
	res := partOf(t, dir, start, Segment{1, 2}, knownRecords(500))
	clock := ClockOffset{Against: "http://10.0.0.1:1/", Measured: true, Offset: 42 * time.Microsecond, Uncertainty: time.Millisecond}
	require.NoError(t, WriteWorker(dir, res, clock))
	back, err := ReadWorker(dir)
	require.NoError(t, err)
	assert.Equal(t, res.Segment, back.Segment)
	assert.True(t, res.Start.Equal(back.Start))
	assert.Equal(t, res.Totals, back.Totals)
	assert.Equal(t, res.Stats, back.Stats)
	assert.Equal(t, res.Timeline, back.Timeline)
	require.Len(t, back.Workers, 1)
	assert.Equal(t, clock, back.Workers[0].Clock)
	for k, h := range res.Hist {
		sameHist(t, h, back.Hist[k], "hist "+k.Op+"/"+k.Phase)
		sameHist(t, res.ServiceHist[k], back.ServiceHist[k], "service "+k.Op+"/"+k.Phase)
	}
	sameHist(t, res.Harness.SendLag, back.Harness.SendLag, "send lag")
	for i, h := range res.Harness.Stages {
		sameHist(t, h, back.Harness.Stages[i], "stage "+Stage(i).String())
	}
	assert.Equal(t, res.Harness.Traced, back.Harness.Traced)
	assert.Equal(t, DefaultTraceEvery, back.Harness.TraceEvery)
	assert.Equal(t, res.Ledger.Resources, back.Ledger.Resources)
}

// TestSegmentsSplitTheSchedule runs a ramp once whole and once as three concurrent segments on one start
// instant: the segments' planned requests add up to the whole's, second by second, and their seqs are
// the whole's 1…n, each once. Client shares cover every client once.
func TestSegmentsSplitTheSchedule(t *testing.T) {
	srv := okServer(t)
	phases := []Phase{{"ramp", 1500 * time.Millisecond, Ramp(50, 250, 1500*time.Millisecond)}, {"steady", time.Second, Constant(150)}}
	base := Config{BaseURL: srv.URL, Phases: phases, Mix: getMix(), Seed: 9, MaxLateness: 5 * time.Second, WarmConns: -1}
	whole, err := Run(context.Background(), base, WithoutProgress())
	require.NoError(t, err)

	tmp := t.TempDir()
	// The segments start as the workers do, through a start gate: the instant is decided once all three
	// have set up (a guessed 300 ms ahead was once missed by 45 ms under the race detector).
	gate := NewGate(3)
	parts := make([]*Result, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := base
			cfg.Segment, cfg.RunDir = Segment{i, 3}, filepath.Join(tmp, strconv.Itoa(i))
			cfg.StartGate = func(ctx context.Context) (time.Time, error) {
				gate.arrive(cfg.Segment.String())
				return gate.Wait(ctx)
			}
			parts[i], errs[i] = Run(context.Background(), cfg, WithoutProgress())
		}()
	}
	wg.Wait()
	at, err := gate.Wait(context.Background())
	require.NoError(t, err)
	seqs := map[uint64]int{}
	var planned int64
	for i, p := range parts {
		require.NoError(t, errs[i])
		assert.True(t, p.Start.Equal(at), "segment %d starts on the shared instant", i)
		assert.NotEqual(t, whole.Seed, p.Seed, "segment %d has a seed of its own", i)
		planned += p.Totals.Planned
		f, err := os.Open(p.Files.Records)
		require.NoError(t, err)
		require.NoError(t, ReadRecords(f, func(r Record) error {
			seqs[r.Seq]++
			assert.True(t, Segment{i, 3}.Owns(r.Seq), "segment %d sent hit %d", i, r.Seq)
			return nil
		}))
		f.Close()
	}
	assert.Equal(t, whole.Totals.Planned, planned, "the segments plan the whole schedule")
	merged, err := Merge(filepath.Join(tmp, "merged"), parts...)
	require.NoError(t, err)
	assert.Equal(t, whole.Totals.Planned, merged.Totals.Planned)
	assert.Equal(t, merged.Totals.Planned, merged.Totals.Sent+merged.Totals.Dropped)
	for i := range whole.Timeline {
		assert.Equal(t, whole.Timeline[i].Planned, merged.Timeline[i].Planned, "second %d", i)
	}
	for s := uint64(1); s <= uint64(merged.Totals.Sent); s++ {
		assert.Equal(t, 1, seqs[s], "hit %d sent once", s)
	}

	// Clients: contiguous shares, each client in exactly one.
	for _, total := range []int{3, 10, 64} {
		next := 0
		for i := range 3 {
			first, n := Segment{i, 3}.Clients(total)
			assert.Equal(t, next, first)
			assert.Positive(t, n)
			next += n
		}
		assert.Equal(t, total, next)
	}
}

// TestStartAfterSetupIsAnError: a worker whose setup ends after the shared start would begin behind.
func TestStartAfterSetupIsAnError(t *testing.T) {
	srv := okServer(t)
	cfg := Config{BaseURL: srv.URL, Phases: []Phase{{"a", time.Second, Constant(10)}}, Mix: getMix(), Seed: 1,
		StartAt: time.Now().Add(-time.Second)}
	_, err := Run(context.Background(), cfg, WithoutProgress())
	require.ErrorContains(t, err, "after the start instant")
}

// TestParseSegment: the worker's --segment flag.
func TestParseSegment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Segment
		err  bool
	}{
		{"0/1", Segment{0, 1}, false}, // the whole run
		{"2/3", Segment{2, 3}, false}, // the last of three
		{"3/3", Segment{}, true},      // past the last
		{"-1/3", Segment{}, true},     // negative
		{"1", Segment{}, true},        // no count
		{"a/b", Segment{}, true},      // not numbers
		{"0/0", Segment{}, true},      // no segments
	} {
		got, err := ParseSegment(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}

// TestMergeJoinsDeclaredClients: a declared scenario's workers each keep their own clients (their
// variables, for the invariants' reads) and count into shared declared counters; the merge has every
// client once, by id, through ledger.json and back, sums each counter's increments keeping its name and
// key, and refuses a client id two workers both claim.
func TestMergeJoinsDeclaredClients(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000)
	recs := knownRecords(300)
	tmp := t.TempDir()
	parts := make([]*Result, 3)
	for i := range parts {
		var mine []Record
		for j, r := range recs {
			if j%3 == i {
				mine = append(mine, r)
			}
		}
		parts[i] = partOf(t, filepath.Join(tmp, strconv.Itoa(i)), start, Segment{i, 3}, mine)
		first, n := Segment{i, 3}.Clients(7)
		for id := first; id < first+n; id++ {
			parts[i].Ledger.Clients = append(parts[i].Ledger.Clients, ClientEntry{ID: id,
				Vars: map[string]json.RawMessage{"token": json.RawMessage(strconv.Quote("tok-" + strconv.Itoa(id)))}})
		}
		parts[i].Ledger.Resources = append(parts[i].Ledger.Resources,
			ResourceEntry{ID: "counters/run.c1", Counter: "counters", Key: "run.c1", Acknowledged: int64(i + 1)})
		// Through the worker's folder, as the coordinator reads it.
		require.NoError(t, parts[i].Ledger.WriteFile(parts[i].Files.Ledger))
		require.NoError(t, WriteWorker(filepath.Join(tmp, strconv.Itoa(i)), parts[i], ClockOffset{}))
		back, err := ReadWorker(filepath.Join(tmp, strconv.Itoa(i)))
		require.NoError(t, err)
		require.Equal(t, parts[i].Ledger.Clients, back.Ledger.Clients)
		parts[i] = back
	}
	merged, err := Merge(filepath.Join(tmp, "merged"), parts...)
	require.NoError(t, err)
	led, err := ReadLedger(merged.Files.Ledger)
	require.NoError(t, err)
	require.Len(t, led.Clients, 7)
	for i, c := range led.Clients {
		assert.Equal(t, i, c.ID, "every client once, by id")
		assert.JSONEq(t, strconv.Quote("tok-"+strconv.Itoa(i)), string(c.Vars["token"]))
	}
	var counter *ResourceEntry
	for i, r := range led.Resources {
		if r.ID == "counters/run.c1" {
			counter = &led.Resources[i]
		}
	}
	require.NotNil(t, counter)
	assert.Equal(t, ResourceEntry{ID: "counters/run.c1", Counter: "counters", Key: "run.c1", Acknowledged: 6}, *counter)

	assert.Equal(t, "run-0/3+run-1/3+run-2/3", merged.RunID, "workers that drew their own ids")
	for _, p := range parts {
		p.RunID = "shared"
	}
	merged, err = Merge(filepath.Join(tmp, "shared"), parts...)
	require.NoError(t, err)
	assert.Equal(t, "shared", merged.RunID, "workers given one id (Config.RunID): the run's")

	parts[2].Ledger.Clients = append(parts[2].Ledger.Clients, ClientEntry{ID: 1})
	_, err = Merge(filepath.Join(tmp, "dup"), parts...)
	require.ErrorContains(t, err, "client 1 is in the ledgers of segments 0/3 and 2/3")
}
