package dashboard_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/dashboard"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/stretchr/testify/require"
)

// TestListenRefuses: an address beyond loopback and a port in use are refused with a message that says
// what to do, before a run would start anything.
func TestListenRefuses(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	cases := []struct {
		name, addr, want string
	}{
		// Every interface: the page would be on the network.
		{"all interfaces", "0.0.0.0:0", "not loopback"},
		// No host means every interface too.
		{"no host", ":0", "it listens on every interface"},
		// Not host:port at all.
		{"no port", "127.0.0.1", "want HOST:PORT"},
		// Someone else has the port.
		{"port in use", held.Addr().String(), "address already in use"},
	}
	for _, tc := range cases {
		_, err := dashboard.Listen(tc.addr)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	_, err = dashboard.Listen("0.0.0.0:0")
	require.ErrorContains(t, err, "--dashboard-public")
}

// sse reads a Server-Sent Events stream.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
}

func openEvents(t *testing.T, url string) *sse {
	t.Helper()
	// A guard against a test that waits for an update that never comes, not a measure.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event's name and data.
func (s *sse) next(t *testing.T) (string, string) {
	t.Helper()
	var name string
	var data []string
	for {
		line, err := s.r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return name, strings.Join(data, "\n")
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// until reads updates until one satisfies ok, and returns it.
func (s *sse) until(t *testing.T, ok func(string) bool) string {
	t.Helper()
	for {
		name, data := s.next(t)
		require.Equal(t, "update", name, "the run is not over yet")
		if ok(data) {
			return data
		}
	}
}

// points counts the points of the page's first chart line (the p50 of the latency chart).
func points(page string) int {
	_, after, ok := strings.Cut(page, `<path d="M`)
	if !ok {
		return 0
	}
	d, _, _ := strings.Cut(after, `"`)
	return strings.Count(d, "L") + 1
}

// TestLiveStream drives the server with a real load engine's seconds (against an in-process server)
// and a fault's records as the runner would send them: an open page gets the charts as they grow, the
// fault's band at its injection and the container it holds, a viewer that leaves changes nothing, a
// reload gets the history so far, and the end brings the verdict and "end".
func TestLiveStream(t *testing.T) {
	var log syncBuf
	srv, err := dashboard.Listen("127.0.0.1:0", dashboard.WithLog(&log))
	require.NoError(t, err)
	url := srv.URL()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer api.Close()

	srv.Observe(runner.RunStarted{Scenario: "live", Archs: []string{"stateless", "stateful"}, Dir: t.TempDir()})
	srv.Observe(runner.ArchStarted{Arch: "stateless", Containers: []string{"nginx", "api-1", "api-2", "redis"}})
	first := openEvents(t, url)
	leaver := openEvents(t, url)

	// The fault goes in at the second live second, and out once the test has seen it held.
	injected := make(chan chaos.Injection, 1)
	seconds := 0
	onLive := func(l load.Live) {
		seconds++
		if seconds == 2 {
			in := chaos.Injection{Kind: "pause", Target: "api-1", Resolved: "api-1", Ready: -1, Begin: l.Elapsed, Start: l.Elapsed}
			srv.Observe(runner.FaultChanged{Arch: "stateless", Injection: in})
			injected <- in
		}
		srv.Observe(runner.LoadSecond{Arch: "stateless", Live: l})
	}
	cfg := load.Config{BaseURL: api.URL, Seed: 1, MaxLateness: time.Second,
		Mix:    load.Mix{{Op: load.HTTPGet{OpName: "get", Path: "/"}, Weight: 1}},
		Phases: []load.Phase{{Name: "steady", Duration: 6 * time.Second, Pacer: load.Constant(100)}}}
	type ran struct {
		res *load.Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := load.Run(context.Background(), cfg, load.WithoutProgress(), load.OnLive(onLive))
		done <- ran{res, err}
	}()

	page := first.until(t, func(p string) bool { return points(p) >= 1 })
	require.NotContains(t, page, `class="verdict`, "no verdict while the load runs")
	held := page
	if !strings.Contains(held, `class="band"`) {
		held = first.until(t, func(p string) bool { return strings.Contains(p, `class="band"`) })
	}
	require.Contains(t, held, ">pause api-1<", "the fault's band is labelled")
	require.Contains(t, held, `<span class="held" title="pause">api-1: pause</span>`, "the container it holds says so")
	require.Contains(t, held, "<b>pause api-1</b> held since", "the fault's line says it is held")
	require.Contains(t, held, "ready before", "with the health check before its injection")
	pause := <-injected
	pause.End = pause.Start + 1500*time.Millisecond
	srv.Observe(runner.FaultChanged{Arch: "stateless", Injection: pause})
	first.until(t, func(p string) bool { return !strings.Contains(p, `class="held"`) }) // reverted
	grown := first.until(t, func(p string) bool { return points(p) > points(page) })
	require.Greater(t, points(grown), points(page), "the charts receive points as the run goes")

	// The second page is closed mid-run: the run goes on, the log says so.
	_, _ = leaver.next(t)
	require.NoError(t, leaver.resp.Body.Close())

	r := <-done
	require.NoError(t, r.err)
	require.Greater(t, r.res.Totals.Completed, int64(500), "the load ran to its end with a page gone")
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "left") }, 5*time.Second, 50*time.Millisecond,
		"the server noticed the page that left")
	require.Contains(t, log.String(), "the run goes on")

	// The end: the architecture's analysed result and the run's verdict.
	a := results.Arch{Name: "stateless", Valid: true, Requests: results.Requests{Planned: r.res.Totals.Planned,
		Sent: r.res.Totals.Sent, OK: r.res.Totals.OK()}, Errors: map[string]int64{}}
	for _, s := range r.res.Timeline {
		a.Timeline = append(a.Timeline, results.SecondOf(s))
	}
	a.Faults = []results.Fault{{Kind: "pause", Target: "api-1", Resolved: "api-1", StartS: pause.Start.Seconds(), EndS: pause.End.Seconds()}}
	srv.Observe(runner.ArchDone{Arch: a})
	sum := results.Summary{Scenario: "live", Architectures: []results.Arch{a,
		{Name: "stateful", Error: "not run: the test stops here", Errors: map[string]int64{}}}}
	sum.Verdict = results.RunVerdict(sum)
	srv.Observe(runner.RunDone{Summary: sum})
	end := first.until(t, func(p string) bool { return strings.Contains(p, `class="verdict`) })
	require.Contains(t, end, `href="report"`)

	// A reload after the end gets the whole history at once: charts, band, verdict.
	again := openEvents(t, url)
	name, reload := again.next(t)
	require.Equal(t, "update", name)
	require.GreaterOrEqual(t, points(reload), 6, "every second so far")
	require.Contains(t, reload, `class="band"`)
	require.Contains(t, reload, `class="verdict`)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = srv.Close(ctx) }()
	for {
		name, _ := again.next(t)
		if name == "end" {
			break
		}
	}
}

// syncBuf is a log written by the server's goroutines and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkRender is the server's work each second while a page is open: the page of one architecture
// 60 s into its run, two faults on it. Divided by the rate, it is the dashboard's CPU per request.
func BenchmarkRender(b *testing.B) {
	srv, err := dashboard.Listen("127.0.0.1:0")
	require.NoError(b, err)
	defer srv.Close(context.Background()) //nolint:errcheck // a benchmark's server
	srv.Observe(runner.RunStarted{Scenario: "bench", Archs: []string{"stateless"}})
	srv.Observe(runner.ArchStarted{Arch: "stateless", Containers: []string{"nginx", "api-1", "api-2", "api-3", "redis"}})
	l := load.Live{Elapsed: 60 * time.Second, Final: 55, Errors: map[string]int64{"http_502": 12, "timeout": 3}}
	for s := range 60 {
		l.Timeline = append(l.Timeline, load.Second{Second: s, Counts: load.Counts{Planned: 3000, Sent: 3000, Completed: 2990, Errors: 10},
			P50: time.Millisecond, P95: 3 * time.Millisecond, P99: 8 * time.Millisecond, Max: 20 * time.Millisecond})
	}
	srv.Observe(runner.LoadSecond{Arch: "stateless", Live: l})
	srv.Observe(runner.FaultChanged{Arch: "stateless", Injection: chaos.Injection{Kind: "kill", Target: "api-1", Resolved: "api-1", Start: 20 * time.Second, End: 30 * time.Second}})
	srv.Observe(runner.FaultChanged{Arch: "stateless", Injection: chaos.Injection{Kind: "pause", Target: "api-2", Resolved: "api-2", Start: 25 * time.Second}})
	b.ReportAllocs()
	for b.Loop() {
		dashboard.RenderForBench(srv)
	}
}

// TestSuitePage: a suite's page says which scenario runs and the verdicts so far, and a page loaded
// mid-run (GET /) has it all without waiting for the stream.
func TestSuitePage(t *testing.T) {
	srv, err := dashboard.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close(context.Background()) //nolint:errcheck // the test's server
	srv.Observe(runner.SuiteStarted{Name: "nightly", Scenarios: []string{"steady", "kill-node", "partition"}})
	srv.Observe(runner.RunStarted{Scenario: "steady", Archs: []string{"stateless"}, Dir: t.TempDir()})
	failed := results.Summary{Scenario: "steady", Architectures: []results.Arch{{Name: "stateless", Error: "stack up: refused by the test"}}}
	failed.Verdict = results.RunVerdict(failed)
	srv.Observe(runner.RunDone{Summary: failed})
	srv.Observe(runner.RunStarted{Scenario: "kill-node", Archs: []string{"stateless", "stateful"}, Dir: t.TempDir()})
	resp, err := http.Get(srv.URL())
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	require.NoError(t, err)
	page := b.String()
	require.Contains(t, page, `data-scenario="steady">steady: errored</span>`)
	require.Contains(t, page, `data-scenario="kill-node">kill-node: running</span>`)
	require.Contains(t, page, `data-scenario="partition">partition: to come</span>`)
	require.Contains(t, page, `data-arch="stateful"`, "the running scenario's architectures side by side")
	require.Contains(t, page, `new EventSource("events")`, "the page then follows the stream")
}
