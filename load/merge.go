package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/runfolder"
)

// WorkerInfo is one worker of a run carried by several (Segment): what its worker.json says about it.
type WorkerInfo struct {
	Segment Segment     `json:"segment"`
	RunID   string      `json:"run_id"`
	Seed    uint64      `json:"seed"` // the worker's engine seed, derived from the run's (Segment.Seed)
	Start   time.Time   `json:"start"`
	Clock   ClockOffset `json:"clock"`
	Totals  Totals      `json:"totals"`
}

// Merge joins the results of a run's workers into the one result a single engine would have given for
// the whole schedule, and writes the merged run folder in dir: records.jsonl and orders.jsonl (the
// workers' lines, worker after worker; their seqs and keys are disjoint by construction, Segment),
// latency.hlog and ledger.json.
//
// Nothing is averaged: counts are summed; histograms are merged with HdrHistogram's Merge, the
// cumulative ones per op × phase and the hlog's per op × phase × absolute 1 s window, and every
// percentile (the timeline's per second too) is read from a merged histogram. Ledgers merge by key:
// resources sum their counts by id, sessions and orders are the workers' own (session ids must not repeat).
//
// The parts must be every segment of one run exactly once, on one start instant and one plan: a merge
// missing a worker would under-count, so it is an error, as is a part without its hlog.
func Merge(dir string, parts ...*Result) (*Result, error) {
	if err := checkParts(parts); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	parts = slices.Clone(parts)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Segment.Index < parts[j].Segment.Index })
	p0 := parts[0]
	out := &Result{Start: p0.Start, Planned: p0.Planned, Phases: slices.Clone(p0.Phases),
		Hist: map[HistKey]*hdrhistogram.Histogram{}, ServiceHist: map[HistKey]*hdrhistogram.Histogram{}}
	var ids []string
	for i, p := range parts {
		ids = append(ids, p.RunID)
		if p.End.After(out.End) {
			out.End = p.End
		}
		out.Setup = max(out.Setup, p.Setup)
		out.WarmConns += p.WarmConns
		out.CPU += p.CPU
		if i == 0 {
			out.Totals = p.Totals
		} else {
			out.Totals = addTotals(out.Totals, p.Totals)
		}
		mergeHists(out.Hist, p.Hist)
		mergeHists(out.ServiceHist, p.ServiceHist)
		out.Harness.merge(p.Harness)
		if len(p.Workers) > 0 {
			out.Workers = append(out.Workers, p.Workers...)
		} else {
			out.Workers = append(out.Workers, WorkerInfo{Segment: p.Segment, RunID: p.RunID, Seed: p.Seed,
				Start: p.Start, Totals: p.Totals})
		}
	}
	// The merged run has no single engine: its id is the workers' shared one (Config.RunID), or names
	// each worker's when they drew their own; each worker's seed is in Workers.
	if ids = slices.Compact(ids); len(ids) > 1 {
		out.RunID = strings.Join(ids, "+")
	} else {
		out.RunID = ids[0]
	}
	out.Stats = mergeStats(parts, out.Hist, out.ServiceHist)
	out.Timeline = mergeTimelineCounts(parts)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("merge: create %s: %w", dir, err)
	}
	out.Files = FilesIn(dir)
	out.Files.Orders = "" // the merged ledger's, when the workers streamed orders (below)
	var recs []string
	for _, p := range parts {
		recs = append(recs, p.Files.Records)
	}
	if err := concatFiles(out.Files.Records, recs); err != nil {
		return nil, fmt.Errorf("merge records: %w", err)
	}
	if err := mergeHLogs(out, parts); err != nil {
		return nil, fmt.Errorf("merge hlog: %w", err)
	}
	led, err := mergeLedgers(dir, out.RunID, out.Start, parts)
	if err != nil {
		return nil, fmt.Errorf("merge ledgers: %w", err)
	}
	out.Ledger = led
	out.Files.Orders = led.OrdersFile
	out.Totals.LostSessions = int64(led.LostSessions())
	if err := led.WriteFile(out.Files.Ledger); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return out, nil
}

// checkParts refuses parts that are not every segment of one run, once each, on one clock and plan.
func checkParts(parts []*Result) error {
	if len(parts) == 0 {
		return errors.New("no result to merge")
	}
	n := parts[0].Segment.count()
	if len(parts) != n {
		return fmt.Errorf("%d results for %d segments: every segment must be merged exactly once", len(parts), n)
	}
	seen := make([]bool, n)
	for i, p := range parts {
		if p == nil {
			return fmt.Errorf("result %d is nil", i)
		}
		s := p.Segment
		if s.count() != n || s.Index < 0 || s.Index >= n {
			return fmt.Errorf("result %d is segment %s, not one of %d", i, s, n)
		}
		if seen[s.Index] {
			return fmt.Errorf("segment %s appears twice", s)
		}
		seen[s.Index] = true
		if !p.Start.Equal(parts[0].Start) {
			return fmt.Errorf("segment %s started at %s, segment %s at %s: the workers were not given one start instant",
				s, p.Start.UTC().Format(time.RFC3339Nano), parts[0].Segment, parts[0].Start.UTC().Format(time.RFC3339Nano))
		}
		if p.Planned != parts[0].Planned || !slices.Equal(p.Phases, parts[0].Phases) {
			return fmt.Errorf("segment %s ran other phases than segment %s: not one plan", s, parts[0].Segment)
		}
		if p.Files.Records == "" || p.Files.HLog == "" || p.Files.Ledger == "" {
			return fmt.Errorf("segment %s has no run folder (records, hlog, ledger): nothing to merge per second", s)
		}
	}
	return nil
}

// addTotals sums counts; the in-flight limit's low point is the lowest of any worker's and the longest
// stretch behind schedule the longest of any.
func addTotals(a, b Totals) Totals {
	a.Counts.Add(b.Counts)
	a.DroppedInFlight += b.DroppedInFlight
	a.DroppedLate += b.DroppedLate
	a.Canceled += b.Canceled
	a.LostSessions += b.LostSessions
	a.InFlightLimitLow = min(a.InFlightLimitLow, b.InFlightLimitLow)
	a.MaxBehind = max(a.MaxBehind, b.MaxBehind)
	return a
}

func mergeHists(into, from map[HistKey]*hdrhistogram.Histogram) {
	for k, h := range from {
		if into[k] == nil {
			into[k] = NewHistogram()
		}
		into[k].Merge(h)
	}
}

// mergeStats sums each op × phase's counts and reads its percentiles from the merged histograms, in the
// order the parts list them (the mix's, then the phases').
func mergeStats(parts []*Result, hist, svc map[HistKey]*hdrhistogram.Histogram) []OpStats {
	var order []HistKey
	counts := map[HistKey]*[5]int64{}
	for _, p := range parts {
		for _, s := range p.Stats {
			k := HistKey{s.Op, s.Phase}
			c := counts[k]
			if c == nil {
				c = &[5]int64{}
				counts[k] = c
				order = append(order, k)
			}
			c[0] += s.Count
			c[1] += s.Errors
			c[2] += s.Retries
			c[3] += s.Attempts
			c[4] += s.ReqBytes
		}
	}
	out := make([]OpStats, 0, len(order))
	for _, k := range order {
		h := hist[k]
		if h == nil {
			h = NewHistogram()
		}
		out = append(out, summarize(k.Op, k.Phase, h, svc[k], *counts[k]))
	}
	return out
}

// mergeTimelineCounts sums the workers' per-second counts; the percentiles come from the hlog
// (mergeHLogs).
func mergeTimelineCounts(parts []*Result) []Second {
	var tl []Second
	for _, p := range parts {
		for _, s := range p.Timeline {
			for len(tl) <= s.Second {
				tl = append(tl, Second{Second: len(tl)})
			}
			m := &tl[s.Second]
			if m.Phase == "" {
				m.Phase = s.Phase
			}
			m.Counts.Add(s.Counts)
		}
	}
	return tl
}

// hlogWindow is one interval of latency.hlog: a tag (op/phase) and a second on the run's clock.
type hlogWindow struct {
	sec int
	tag string
}

// mergeHLogs merges the workers' interval logs window by window (same tag, same absolute second),
// writes the merged log, and sets each second of out's timeline from the merged windows of that second,
// as the engine does (aggregator.closeWindow): percentiles of the phase with the larger share, the max
// of all.
func mergeHLogs(out *Result, parts []*Result) error {
	wins := map[hlogWindow]*hdrhistogram.Histogram{}
	startMs := out.Start.UnixMilli()
	for _, p := range parts {
		if err := readHLog(p.Files.HLog, func(h *hdrhistogram.Histogram) error {
			// The reader rebuilds absolute times through float seconds: round, not truncate.
			sec := int(math.Round(float64(h.StartTimeMs()-startMs) / 1000))
			if sec < 0 {
				return fmt.Errorf("%s: window at %d ms, before the run's start %d ms", p.Files.HLog, h.StartTimeMs(), startMs)
			}
			k := hlogWindow{sec, h.Tag()}
			if wins[k] == nil {
				wins[k] = NewWindowHistogram()
			}
			wins[k].Merge(h)
			return nil
		}); err != nil {
			return err
		}
	}
	keys := make([]hlogWindow, 0, len(wins))
	for k := range wins {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].sec != keys[j].sec {
			return keys[i].sec < keys[j].sec
		}
		return keys[i].tag < keys[j].tag
	})

	f, err := os.Create(out.Files.HLog)
	if err != nil {
		return fmt.Errorf("create %s: %w", out.Files.HLog, err)
	}
	bw := bufio.NewWriter(f)
	rf := &runFiles{hlogF: f, hlogW: bw, hlog: hdrhistogram.NewHistogramLogWriter(bw)}
	rf.begin(startMs)
	// Per second, all ops of a phase together: what the engine's timeline window holds.
	type secPhase struct {
		sec   int
		phase string
	}
	all := map[secPhase]*hdrhistogram.Histogram{}
	for _, k := range keys {
		h := wins[k]
		stampWindow(h, k.tag, startMs, k.sec)
		rf.interval(h)
		phase := k.tag
		if i := strings.LastIndexByte(k.tag, '/'); i >= 0 {
			phase = k.tag[i+1:]
		}
		sp := secPhase{k.sec, phase}
		if all[sp] == nil {
			all[sp] = NewWindowHistogram()
		}
		all[sp].Merge(h)
	}
	rf.setErr(bw.Flush())
	rf.setErr(f.Close())
	if rf.err != nil {
		return fmt.Errorf("write %s: %w", out.Files.HLog, rf.err)
	}

	best := map[int]int64{} // per second: the count of the phase whose percentiles it shows
	for sp, h := range all {
		for len(out.Timeline) <= sp.sec {
			out.Timeline = append(out.Timeline, Second{Second: len(out.Timeline)})
		}
		s := &out.Timeline[sp.sec]
		n := h.TotalCount()
		// The larger part of a second split by a phase boundary; ties to the
		// earlier phase, so that the choice does not depend on map order.
		larger := n > best[sp.sec] || (n == best[sp.sec] && phaseIndex(out.Phases, sp.phase) < phaseIndex(out.Phases, s.Phase))
		if larger {
			best[sp.sec] = n
		}
		s.show(h, larger)
	}
	return nil
}

func phaseIndex(phases []PhaseWindow, name string) int {
	for i, p := range phases {
		if p.Name == name {
			return i
		}
	}
	return len(phases)
}

// readHLog calls fn with every interval histogram of an hlog file.
func readHLog(path string, fn func(*hdrhistogram.Histogram) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open hlog: %w", err)
	}
	defer f.Close()
	r := hdrhistogram.NewHistogramLogReader(bufio.NewReader(f))
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if h == nil {
			return nil
		}
		if err := fn(h); err != nil {
			return err
		}
	}
}

// concatFiles writes the files' contents one after the other into path (a missing part is an error:
// its lines would be missing from the merge).
func concatFiles(path string, parts []string) (err error) {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	for _, p := range parts {
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			return fmt.Errorf("copy %s: %w", p, err)
		}
	}
	return nil
}

// mergeLedgers joins the workers' ledgers by key into dir's: order counts summed and orders.jsonl the
// workers' orders; resources (shared by every worker: res-0…) sum their acknowledged, uncertain, failed
// and conflicting increments by id, which is what the lost-update check compares with the final value;
// sessions are the workers' own, and an id in two ledgers is an error (two workers cannot have had one
// session); declared clients are each worker's own too (an id in two ledgers is an error likewise).
func mergeLedgers(dir, runID string, start time.Time, parts []*Result) (LedgerSnapshot, error) {
	s := LedgerSnapshot{Version: LedgerVersion, RunID: runID, Start: start, OrderCounts: map[OrderStatus]int{},
		Resources: []ResourceEntry{}, Sessions: []SessionEntry{}}
	res := map[string]*ResourceEntry{}
	sessions := map[string]Segment{}
	clients := map[int]Segment{}
	var orderFiles []string
	for _, p := range parts {
		l := p.Ledger
		for st, n := range l.OrderCounts {
			s.OrderCounts[st] += n
		}
		if l.OrdersFile != "" {
			orderFiles = append(orderFiles, l.OrdersFile)
		}
		s.Orders = append(s.Orders, l.Orders...)
		for _, r := range l.Resources {
			m := res[r.ID]
			if m == nil {
				m = &ResourceEntry{ID: r.ID, Counter: r.Counter, Key: r.Key}
				res[r.ID] = m
			}
			m.Acknowledged += r.Acknowledged
			m.Uncertain += r.Uncertain
			m.Failed += r.Failed
			m.Conflicts += r.Conflicts
			// Every segment's reads and writes, on the one run clock the segments share (StartAt).
			m.Reads, m.Writes = append(m.Reads, r.Reads...), append(m.Writes, r.Writes...)
		}
		for _, x := range l.Sessions {
			if seg, dup := sessions[x.SessionID]; dup {
				return s, fmt.Errorf("session %s is in the ledgers of segments %s and %s", x.SessionID, seg, p.Segment)
			}
			sessions[x.SessionID] = p.Segment
			s.Sessions = append(s.Sessions, x)
		}
		// Each worker's own clients (Segment.Clients): an id in two ledgers is an error, as for sessions
		// (the invariants would read as one client twice, and not as another).
		for _, c := range l.Clients {
			if seg, dup := clients[c.ID]; dup {
				return s, fmt.Errorf("client %d is in the ledgers of segments %s and %s", c.ID, seg, p.Segment)
			}
			clients[c.ID] = p.Segment
			s.Clients = append(s.Clients, c)
		}
	}
	sort.Slice(s.Clients, func(i, j int) bool { return s.Clients[i].ID < s.Clients[j].ID })
	for _, r := range res {
		sortVersions(r)
		s.Resources = append(s.Resources, *r)
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].ID < s.Resources[j].ID })
	sort.Slice(s.Orders, func(i, j int) bool { return s.Orders[i].Key < s.Orders[j].Key })
	if len(orderFiles) > 0 {
		if len(s.Orders) > 0 {
			return s, errors.New("some workers streamed their orders to a file and others kept them in memory")
		}
		s.OrdersFile = runfolder.Arch(dir).Orders()
		if err := concatFiles(s.OrdersFile, orderFiles); err != nil {
			return s, fmt.Errorf("orders: %w", err)
		}
	}
	return s, nil
}
