package load

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLongRunRSS measures the engine's resident memory over long runs of
// orders at 1000/s (the write ledger's worst case): it only runs when
// CHAOSBENCH_LONG_RUN lists durations, e.g.
//
//	CHAOSBENCH_LONG_RUN=1m,3m,10m go test ./load/ -run TestLongRunRSS -v -timeout 30m
//
// The target is a trivial order server in another process (this test binary
// run again as TestHelperOrderServer), so that the RSS is the engine's alone.
// It logs RSS samples over each run and the peak (VmHWM of a fresh process
// would be cleaner; runs are sequential, so peaks are per run from samples).
func TestLongRunRSS(t *testing.T) {
	spec := os.Getenv("CHAOSBENCH_LONG_RUN")
	if spec == "" {
		t.Skip("set CHAOSBENCH_LONG_RUN=1m,3m,10m to measure RSS over long runs")
	}
	rate := 1000
	if r := os.Getenv("CHAOSBENCH_LONG_RATE"); r != "" {
		var err error
		rate, err = strconv.Atoi(r)
		require.NoError(t, err)
	}
	base := startOrderServer(t)
	for _, f := range strings.Split(spec, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		require.NoError(t, err)
		var peak atomic.Int64
		var samples []string
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		t0 := time.Now()
		go func() {
			defer wg.Done()
			tick := time.NewTicker(d / 20)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					rss := procStatusKiB("VmRSS")
					peak.Store(max(peak.Load(), rss))
					mu.Lock()
					samples = append(samples, fmt.Sprintf("%s:%dMiB", time.Since(t0).Round(time.Second), rss>>10))
					mu.Unlock()
				}
			}
		}()
		cfg := Config{BaseURL: base, Clients: 20, Seed: 9, RunDir: t.TempDir(), Mix: Mix{{OrderCreate{}, 1}},
			Phases: []Phase{{"orders", d, Constant(rate)}}}
		res, err := Run(context.Background(), cfg, WithoutProgress())
		close(stop)
		wg.Wait()
		require.NoError(t, err)
		rss := procStatusKiB("VmRSS")
		peak.Store(max(peak.Load(), rss))
		t.Logf("%s at %d orders/s: completed %d, errors %d, shed %d; RSS peak %d MiB (process VmHWM so far %d MiB); samples %s",
			d, rate, res.Totals.Completed, res.Totals.Errors, res.Totals.Dropped, peak.Load()>>10,
			procStatusKiB("VmHWM")>>10, strings.Join(samples, " "))
	}
}

// TestHelperOrderServer is the trivial order server of TestLongRunRSS when
// run as a child process; otherwise it does nothing.
func TestHelperOrderServer(t *testing.T) {
	if os.Getenv("CHAOSBENCH_ORDER_SERVER") != "1" {
		t.Skip("helper process for TestLongRunRSS")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fmt.Println(ln.Addr().String())
	var n atomic.Int64
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/users":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"user_id":"u"}`))
		case "/v1/login":
			_, _ = w.Write([]byte(`{"access_token":"t","session_id":"s` + strconv.FormatInt(n.Add(1), 10) + `","expires_in":86400}`))
		case "/v1/orders":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"order_id":"o-` + strconv.FormatInt(n.Add(1), 10) + `"}`))
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
}

func startOrderServer(t *testing.T) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOrderServer$")
	cmd.Env = append(os.Environ(), "CHAOSBENCH_ORDER_SERVER=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	return "http://" + strings.TrimSpace(addr)
}

// procStatusKiB reads a field of /proc/self/status in KiB (0 if absent).
func procStatusKiB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}
