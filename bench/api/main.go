// Command bench-api measures the reference API against a minimal Go
// hello-world server, both as separate processes on loopback, driven by the
// same load tool (vegeta's library) in one run, so that the printed ratio is
// meaningful on a shared, noisy machine where absolute numbers are not.
//
// It prints the maximum throughput of hello, GET /v1/profile (token check +
// Redis session read) and POST /v1/orders (idempotent write), the ratio
// profile/hello, and p99 of both API calls at half their maximum rate.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/internal/ports"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	role := flag.String("role", "bench", "internal: 'hello' runs the hello-world server")
	addr := flag.String("addr", "", "internal: listen address for -role hello")
	refapi := flag.String("refapi", "bin/refapi", "path of the refapi binary (make build)")
	dur := flag.Duration("duration", 5*time.Second, "length of each measurement")
	workers := flag.Uint64("workers", 64, "concurrent connections when finding the maximum rate")
	users := flag.Int("users", 50, "logged-in users whose tokens the profile reads rotate over")
	flag.Parse()
	if *role == "hello" {
		hello(*addr)
		return
	}
	if err := run(*refapi, *dur, *workers, *users); err != nil {
		fmt.Fprintln(os.Stderr, "bench-api:", err)
		os.Exit(1)
	}
}

// hello is the baseline: the least an HTTP server in Go can do per request.
func hello(addr string) {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"hello":"world"}`))
	})
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// freeAddr is a loopback address for a server process to bind (see internal/ports).
func freeAddr() string {
	a, err := ports.Addr()
	if err != nil {
		panic(err)
	}
	return a
}

func start(name string, args []string, env ...string) (*exec.Cmd, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return cmd, nil
}

func waitHTTP(url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 15s", url)
}

func run(refapi string, dur time.Duration, workers uint64, users int) error {
	if _, err := os.Stat(refapi); err != nil {
		return fmt.Errorf("refapi binary %s: %w (run make build)", refapi, err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return fmt.Errorf("redis-server not found (apt-get install -y redis-server): %w", err)
	}
	dir, err := os.MkdirTemp("", "bench-api")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	redisAddr := freeAddr()
	_, redisPort, _ := net.SplitHostPort(redisAddr)
	procs := []*exec.Cmd{}
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()
	rp, err := start("redis-server", []string{"--port", redisPort, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log")})
	if err != nil {
		return err
	}
	procs = append(procs, rp)

	helloAddr, apiAddr := freeAddr(), freeAddr()
	self, _ := os.Executable()
	hp, err := start(self, []string{"-role", "hello", "-addr", helloAddr})
	if err != nil {
		return err
	}
	procs = append(procs, hp)
	ap, err := start(refapi, []string{"--addr", apiAddr},
		"REDIS_URL=redis://"+redisAddr+"/0", "JWT_SECRET=bench-secret-0123456789abcdef0123456", "NODE_ID=bench", "BCRYPT_COST=4", "LOG_LEVEL=error")
	if err != nil {
		return err
	}
	procs = append(procs, ap)
	if err := waitHTTP("http://" + helloAddr + "/"); err != nil {
		return err
	}
	if err := waitHTTP("http://" + apiAddr + "/readyz"); err != nil {
		return err
	}

	tokens, err := login("http://"+apiAddr, users)
	if err != nil {
		return err
	}
	api := "http://" + apiAddr
	helloT := func(t *vegeta.Target) error { t.Method, t.URL = "GET", "http://"+helloAddr+"/"; return nil }
	var seq atomic.Uint64
	profileT := func(t *vegeta.Target) error {
		t.Method, t.URL = "GET", api+"/v1/profile"
		t.Header = http.Header{"Authorization": {"Bearer " + tokens[seq.Add(1)%uint64(len(tokens))]}}
		return nil
	}
	orderT := func(t *vegeta.Target) error {
		n := seq.Add(1)
		t.Method, t.URL = "POST", api+"/v1/orders"
		t.Header = http.Header{
			"Authorization":   {"Bearer " + tokens[n%uint64(len(tokens))]},
			"Content-Type":    {"application/json"},
			"Idempotency-Key": {"bench-" + strconv.FormatUint(n, 10)},
		}
		t.Body = []byte(`{"request_id":"r-` + strconv.FormatUint(n, 10) + `","items":[{"sku":"tea","qty":1}]}`)
		return nil
	}

	fmt.Printf("bench-api: %d users, %s per step, %d workers for the maximum; machine has %d cores\n", users, dur, workers, runtime.NumCPU())
	hMax, _ := attack("hello", helloT, vegeta.Rate{}, dur, workers)
	pMax, _ := attack("profile", profileT, vegeta.Rate{}, dur, workers)
	oMax, _ := attack("orders", orderT, vegeta.Rate{}, dur, workers)
	fmt.Printf("bench-api: max throughput hello=%.0f/s profile=%.0f/s orders=%.0f/s\n", hMax.rate, pMax.rate, oMax.rate)
	ratio := pMax.rate / hMax.rate
	fmt.Printf("bench-api: profile/hello ratio=%.2f (goal >= 0.40: %s)\n", ratio, verdict(ratio >= 0.40))

	pHalf, _ := attack("profile@half", profileT, vegeta.Rate{Freq: int(pMax.rate / 2), Per: time.Second}, 2*dur, 0)
	// The control: hello at the same rate, through the same tool on the same machine. Whatever p99 it
	// shows is not the API's doing (scheduling of four processes on two cores, the load tool itself).
	hHalf, _ := attack("hello@profile-half", helloT, vegeta.Rate{Freq: int(pMax.rate / 2), Per: time.Second}, 2*dur, 0)
	oHalf, _ := attack("orders@half", orderT, vegeta.Rate{Freq: int(oMax.rate / 2), Per: time.Second}, 2*dur, 0)
	fmt.Printf("bench-api: at half the max rate: profile %d/s p50=%.2fms p99=%.2fms errors=%d (goal p99 < 5ms: %s); orders %d/s p50=%.2fms p99=%.2fms errors=%d\n",
		int(pMax.rate/2), pHalf.p50, pHalf.p99, pHalf.errors, verdict(pHalf.p99 < 5),
		int(oMax.rate/2), oHalf.p50, oHalf.p99, oHalf.errors)
	fmt.Printf("bench-api: control: hello at %d/s p50=%.2fms p99=%.2fms (the machine's and the tool's share of the tail)\n",
		int(pMax.rate/2), hHalf.p50, hHalf.p99)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

type outcome struct {
	rate     float64
	p50, p99 float64 // ms
	errors   int
	kinds    map[string]int // error text or status -> count
}

// attack runs one measurement. With a zero rate it finds the maximum with a
// fixed pool of workers (closed loop); with a rate it is open-model.
func attack(name string, tr vegeta.Targeter, rate vegeta.Rate, dur time.Duration, workers uint64) (outcome, error) {
	opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.MaxBody(0), vegeta.Connections(10000)}
	if rate.Freq == 0 {
		opts = append(opts, vegeta.Workers(workers), vegeta.MaxWorkers(workers))
	}
	a := vegeta.NewAttacker(opts...)
	h := hdr.New(1, 60_000_000, 3)
	o := outcome{kinds: map[string]int{}}
	var n int
	start := time.Now()
	for r := range a.Attack(tr, rate, dur, name) {
		n++
		if r.Code < 200 || r.Code > 299 {
			o.errors++
			k := strconv.Itoa(int(r.Code))
			if r.Error != "" {
				k = r.Error
				if len(k) > 80 {
					k = k[len(k)-80:]
				}
			}
			o.kinds[k]++
		}
		_ = h.RecordValue(r.Latency.Microseconds())
	}
	o.rate = float64(n) / time.Since(start).Seconds()
	o.p50 = float64(h.ValueAtQuantile(50)) / 1000
	o.p99 = float64(h.ValueAtQuantile(99)) / 1000
	if o.errors > 0 {
		fmt.Printf("bench-api: %s: %d errors: %v\n", name, o.errors, o.kinds)
	}
	return o, nil
}

func login(api string, users int) ([]string, error) {
	var tokens []string
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range users {
		body, _ := json.Marshal(map[string]string{"username": fmt.Sprintf("bench-%s-%d", run, i), "password": "bench-password"})
		r, err := http.Post(api+"/v1/users", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("signup: %w", err)
		}
		r.Body.Close()
		r, err = http.Post(api+"/v1/login", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		var out struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(r.Body).Decode(&out)
		r.Body.Close()
		if err != nil || out.AccessToken == "" {
			return nil, fmt.Errorf("login gave no token (status %d): %v", r.StatusCode, err)
		}
		tokens = append(tokens, out.AccessToken)
	}
	return tokens, nil
}
