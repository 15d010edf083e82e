package benchkit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// K6Install is how the Makefile installs k6 (a build from the module proxy,
// about two minutes on a quiet machine).
const K6Install = "go install go.k6.io/k6@v0.54.0 (make bench-load does it)"

// K6 is the k6 CLI.
type K6 struct{ Bin string }

// K6Result is what k6's summary export says about one run.
type K6Result struct {
	Requests   int64 // http_reqs
	Iterations int64
	// Dropped is dropped_iterations: iterations the executor could not
	// start (no free VU). k6 counts nothing else as not sent.
	Dropped int64
	Failed  int64 // http_req_failed
	// P50 and P99 of http_req_duration, stamped from the actual send: the
	// wait for a free VU (queueing) is not in them.
	P50, P99 time.Duration
}

// VUs sizes the constant-arrival-rate executor so that it is not starved:
// preallocated VUs for 25 ms of requests in flight (loopback answers in
// about a millisecond), and room to grow to 250 ms before it drops.
func K6VUs(rate int) (pre, maxVUs int) { return max(50, rate/40), max(500, rate/4) }

const k6Script = `import http from 'k6/http';
export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['med', 'p(99)', 'max'],
  scenarios: {
    load: {
      executor: 'constant-arrival-rate',
      rate: %d, timeUnit: '1s', duration: '%dms',
      preAllocatedVUs: %d, maxVUs: %d,
      gracefulStop: '%dms',
    },
  },
};
export default function () { http.get('%s/', { timeout: '%dms' }); }
`

// Run generates the script in dir and runs `k6 run` with the
// constant-arrival-rate executor: rate/s for d against GET url/, bodies
// discarded (as vegeta's -max-body=0), default keep-alive.
func (k K6) Run(dir, url string, rate int, d, timeout time.Duration) (K6Result, Usage, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	pre, mx := K6VUs(rate)
	script := filepath.Join(dir, "k6.js")
	src := fmt.Sprintf(k6Script, rate, d.Milliseconds(), pre, mx, timeout.Milliseconds(), url, timeout.Milliseconds())
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		return K6Result{}, Usage{}, err
	}
	summary := filepath.Join(dir, "summary.json")
	cmd := exec.Command(k.Bin, "run", "--quiet", "--no-usage-report", "--no-color",
		"--summary-export="+summary, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "K6_NO_USAGE_REPORT=true")
	_, u, err := Run(cmd)
	if err != nil {
		return K6Result{}, u, fmt.Errorf("k6 at %d/s: %w", rate, err)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		return K6Result{}, u, fmt.Errorf("k6 summary: %w", err)
	}
	var s struct {
		Metrics struct {
			Reqs       struct{ Count int64 } `json:"http_reqs"`
			Iterations struct{ Count int64 } `json:"iterations"`
			Dropped    struct{ Count int64 } `json:"dropped_iterations"`
			// A Rate metric: "passes" counts true values, here failed requests.
			Failed   struct{ Passes int64 } `json:"http_req_failed"`
			Duration struct {
				Med float64 `json:"med"`
				P99 float64 `json:"p(99)"`
			} `json:"http_req_duration"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return K6Result{}, u, fmt.Errorf("k6 summary: %w", err)
	}
	m := s.Metrics
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return K6Result{Requests: m.Reqs.Count, Iterations: m.Iterations.Count, Dropped: m.Dropped.Count,
		Failed: m.Failed.Passes, P50: ms(m.Duration.Med), P99: ms(m.Duration.P99)}, u, nil
}
