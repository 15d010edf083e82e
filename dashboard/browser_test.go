package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/dashboard"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromium finds Debian's headless browser, or skips (fails under CI, like a missing Docker).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but no chromium is installed (apt-get install chromium)")
	}
	t.Skip("no chromium (apt-get install chromium)")
	return ""
}

// The page's state as the browser sees it: the first chart line's points (the latency chart's p50), the
// fault bands, the containers a fault holds, the verdict.
const (
	jsPoints  = `(() => { const p = document.querySelector("section.arch svg path"); return p ? p.getAttribute("d").split("L").length : 0 })()`
	jsBands   = `document.querySelectorAll("section.arch svg rect.band").length`
	jsHeld    = `document.querySelectorAll("section.arch .ctr .held").length`
	jsVerdict = `document.querySelectorAll("#verdict .verdict").length`
)

// TestDashboardInBrowser runs a short real scenario with the dashboard on and watches it in headless
// Chromium through the DevTools protocol: the charts receive points while the load runs, a fault's band
// appears at its injection with the container it holds, and the verdict shows at the end. Two pauses
// overlap in time, so their labels must take a row each. CHAOSBENCH_DASHBOARD_SHOTS=DIR keeps the
// screenshots there (docs/ holds the ones the docs show).
func TestDashboardInBrowser(t *testing.T) {
	dockertest.RequireLoad(t)
	exe := chromium(t)
	plan, err := scenarios.Parse("dashboard-live.yaml", []byte(`name: dashboard-live
description: Two API nodes paused, one while the other is, watched live.
seed: 1
clients: 10
stack: {replicas: 3}
phases: [{duration: 11s, rate: 100/s}]
faults:
  - {at: 3s, for: 4s, kind: pause, target: api-1}
  - {at: 4s, for: 2s, kind: pause, target: api-2}
thresholds: {all: [errors.rate < 50%]}
`))
	require.NoError(t, err)
	spec, err := plan.Spec(scenarios.Ask{})
	require.NoError(t, err)

	srv, err := dashboard.Listen("127.0.0.1:0")
	require.NoError(t, err)
	// A guard against a hang, not a measure: the run takes ~25 s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 1350))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	_, err = chromedp.Run(bctx, chromedp.Navigate(srv.URL()))
	require.NoError(t, err)

	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		_, err := runner.Run(ctx, spec, runner.WithOutDir(t.TempDir()), runner.WithObserver(srv))
		done <- err
	}()
	// A test that fails half-way still lets the run revert its faults and remove its stack.
	t.Cleanup(func() { cancel(); <-finished })

	shots := os.Getenv("CHAOSBENCH_DASHBOARD_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	// The charts receive points while the run goes: some, then more, the verdict not there yet.
	poll(t, bctx, jsPoints+` >= 2`)
	first := eval(t, bctx, jsPoints)
	require.Zero(t, eval(t, bctx, jsVerdict), "no verdict while the load runs")
	// A fault's band appears at its injection (one on each chart), and its container shows held.
	poll(t, bctx, jsBands+` >= 2 && `+jsHeld+` >= 1`)
	// The screenshot once both faults have started (or the run is over: it is only a picture).
	poll(t, bctx, `document.querySelectorAll("section.arch .faults li").length >= 2 || `+jsVerdict+` >= 1`)
	shot(t, bctx, filepath.Join(shots, "dashboard-live.png"))
	poll(t, bctx, jsPoints+` > `+strconv.Itoa(first))
	require.Greater(t, eval(t, bctx, jsPoints), first, "the charts grow as the run goes")

	// The verdict at the end.
	require.NoError(t, <-done)
	poll(t, bctx, jsVerdict+` >= 1`)
	text, err := chromedp.Run(bctx, chromedp.Text("#verdict"))
	require.NoError(t, err)
	// Whatever the verdict (a busy machine may make the run invalid), it is the report's own fragment.
	require.Contains(t, text, "Run valid (faults ran, load delivered)")
	require.Contains(t, text, "Every fault recovered")
	shot(t, bctx, filepath.Join(shots, "dashboard-end.png"))
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	require.NoError(t, srv.Close(cctx))
	poll(t, bctx, `document.getElementById("conn").textContent == "run over"`) // not retrying a server gone
}

// poll waits until js is true in the page.
func poll(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond)))
	require.NoError(t, err, js)
}

// eval is js's number in the page.
func eval(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	require.NoError(t, err, js)
	return n
}

func shot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot %s (%d KiB)", path, len(png)/1024)
}
