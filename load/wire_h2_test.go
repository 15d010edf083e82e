package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// h2Server is an httptest server speaking HTTP/2 over TLS 1.3 (ALPN h2, and HTTP/1.1 for a client that
// offers only that), with the counts the HTTP/2 tests read.
type h2Server struct {
	*httptest.Server
	tls   *tls.Config // the client side: trusts this server's certificate only
	conns atomic.Int64
	notH2 atomic.Int64 // requests that arrived in another protocol than HTTP/2
}

func newH2Server(t *testing.T, h http.Handler) *h2Server {
	s := &h2Server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			s.notH2.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Server.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	s.StartTLS()
	t.Cleanup(s.Close)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	s.tls = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
	return s
}

// The HTTP/2 path speaks HTTP/2 for setup and load alike, and many concurrent requests share one
// connection as streams.
func TestH2SpeaksH2AndMultiplexes(t *testing.T) {
	stub := &stubAPI{sessions: map[string]string{}, orders: map[string]string{},
		orderHits: map[string]int{}, keys: map[string][]string{}, values: map[string]int64{}}
	var inFlight, peak atomic.Int64
	srv := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/profile" {
			// 30 ms of service at 200/s: about 6 requests in flight at once (Little's law), so that an
			// HTTP/1.1 client would need about 6 connections; over HTTP/2 they are streams of one.
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			defer inFlight.Add(-1)
			time.Sleep(30 * time.Millisecond)
		}
		stub.ServeHTTP(w, r)
	}))
	cfg := quick(srv.URL, 200, time.Second)
	cfg.TLS, cfg.HTTP2 = srv.tls, true
	cfg.Mix = Mix{{ProfileRead{}, 1}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	require.Greater(t, res.Totals.Sent, int64(150))
	assert.Zero(t, res.Totals.Errors, "every request served")
	assert.Zero(t, srv.notH2.Load(), "every request, sign-ups and logins included, over HTTP/2")
	// Two requests overlapped on the server: they were streams at once, not one after the other.
	assert.GreaterOrEqual(t, peak.Load(), int64(2), "concurrent streams")
	// One connection by mechanism (StrictMaxConcurrentStreams: a request past the stream limit waits for a
	// stream rather than dialling; the Go server allows 250 and we have about 6 in flight). k = 2 leaves
	// room for one redial should a ping go unanswered on a loaded machine.
	assert.LessOrEqual(t, srv.conns.Load(), int64(2), "%d requests on at most 2 connections", res.Totals.Sent)
	assert.Equal(t, 1, res.WarmConns, "warm-up opens the one connection")
}

// A server that does not choose h2 in the TLS handshake fails the run's setup: the HTTP/2 path never
// falls back to HTTP/1.1 and measures that instead.
func TestH2RefusesHTTP1Server(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.EnableHTTP2 = false
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every refused handshake would log a line
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := Config{BaseURL: srv.URL, Mix: getMix(), Seed: 1, WarmConns: -1, HTTP2: true,
		TLS:    &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		Phases: []Phase{{"c", 200 * time.Millisecond, Constant(50)}}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	require.Positive(t, res.Totals.Sent)
	assert.Equal(t, res.Totals.Sent, res.Totals.Errors, "no request is sent as HTTP/1.1")
}

// Config.HTTP2 needs https and keep-alive: refused up front, naming the field.
func TestH2ConfigRefusals(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		// No cleartext h2c.
		{"http base", Config{BaseURL: "http://127.0.0.1:1", HTTP2: true}, "http2: needs an https base_url"},
		// A connection per request: nothing to multiplex.
		{"no keep-alive", Config{BaseURL: "https://127.0.0.1:1", HTTP2: true, NoKeepAlive: true}, "http2: needs keep-alive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Mix, tt.cfg.Phases = getMix(), []Phase{{"c", time.Second, Constant(1)}}
			_, err := Run(context.Background(), tt.cfg, WithoutProgress())
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// oneOrderH2 is oneOrder over HTTP/2: a single order.create against the stub behind srv, with inject.
func oneOrderH2(t *testing.T, timeout time.Duration, inject func(r *http.Request, key string, n int) (int, string)) (*Result, []string, *h2Server) {
	stub := &stubAPI{sessions: map[string]string{}, orders: map[string]string{},
		orderHits: map[string]int{}, keys: map[string][]string{}, values: map[string]int64{}, inject: inject}
	srv := newH2Server(t, stub)
	cfg := quick(srv.URL, 10, 150*time.Millisecond) // exactly one request, at 100 ms
	cfg.TLS, cfg.HTTP2, cfg.Timeout = srv.tls, true, timeout
	cfg.Clients = 1
	cfg.Mix = Mix{{OrderCreate{}, 1}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	require.Len(t, res.Ledger.Orders, 1)
	stub.mu.Lock()
	defer stub.mu.Unlock()
	return res, append([]string{}, stub.keys["/v1/orders"]...), srv
}

// Retries and attempt timeouts over HTTP/2 are Exec's, as on HTTP/1.1: the same key on every attempt, the
// same count of attempts, the same ledger outcome.
func TestH2RetriesAndTimeoutsAsOnHTTP1(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name     string
		inject   func(r *http.Request, key string, n int) (int, string)
		attempts int
		status   OrderStatus
	}{
		// The state store is down twice, then the order goes through: 503 is retried with the same key.
		{"503 twice then ok", func(r *http.Request, k string, n int) (int, string) {
			if k != "" && n <= 2 {
				return 503, "state_store_unavailable"
			}
			return 0, ""
		}, 3, OrderAcknowledged},
		// The first attempt's answer comes after the attempt timeout (300 ms; the server holds it until the
		// client resets the stream): a timeout, retried with the same key, and the second attempt goes
		// through.
		{"timeout then ok", func(r *http.Request, k string, n int) (int, string) {
			if k != "" && n == 1 {
				<-r.Context().Done() // the client gave up: RST_STREAM cancels the handler's context
			}
			return 0, ""
		}, 2, OrderAcknowledged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, keys, srv := oneOrderH2(t, timeout, tc.inject)
			o := res.Ledger.Orders[0]
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.attempts, o.Attempts)
			require.Len(t, keys, tc.attempts, "one request per attempt reached the server")
			for _, k := range keys {
				assert.Equal(t, o.Key, k, "every attempt carries the same Idempotency-Key")
			}
			assert.Equal(t, int64(tc.attempts-1), res.Totals.Retries)
			assert.Zero(t, srv.notH2.Load())
		})
	}
}

// Latency over HTTP/2 is measured from the planned send time, as on HTTP/1.1 (TestStallShowsInP99): a
// 1 s stall of the server at 200/s puts about 200 requests, a fifth of the run's 600, behind it, so the
// p99 sits inside the stall (≥ 800 ms) only if the wait counts from the plan. The stall holds streams, not
// connections: HTTP/2 cannot hide it by sending later.
func TestH2LatencyFromPlanned(t *testing.T) {
	const rate, dur = 200, 3 * time.Second
	var once sync.Once
	var begin time.Time
	var mu sync.Mutex
	srv := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		mu.Lock()
		once.Do(func() { begin = time.Now() })
		el := time.Since(begin)
		mu.Unlock()
		if el >= time.Second && el < 2*time.Second {
			time.Sleep(2*time.Second - el)
		}
	}))
	cfg := Config{BaseURL: srv.URL, Mix: getMix(), Seed: 1, MaxLateness: 5 * time.Second, TLS: srv.tls, HTTP2: true,
		Phases: []Phase{{"c", dur, Constant(rate)}}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	p99 := time.Duration(res.Latency("", "").ValueAtQuantile(99)) * time.Microsecond
	assert.GreaterOrEqual(t, p99, 800*time.Millisecond, "the stall must show in p99 from planned time")
	assert.Zero(t, res.Totals.Dropped)
	assert.Zero(t, res.Totals.Errors)
	assert.Zero(t, srv.notH2.Load())
}

// BenchmarkRequestH2 is BenchmarkRequest's GET over the HTTP/2 path (TLS 1.3, one connection), beside
// BenchmarkRequest/wire and /net/http: what the protocol and x/net's transport cost per request.
func BenchmarkRequestH2(b *testing.B) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node-Id", "n1")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := Config{BaseURL: srv.URL, Mix: getMix(), Phases: []Phase{{"b", time.Second, Constant(1)}}}.withDefaults()
	e := &engine{cfg: cfg, base: srv.URL, ledger: newLedger(), start: time.Now(), h2: true,
		http: newH2Client(srv.URL, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}, cfg.Timeout)}
	defer e.http.CloseIdleConnections()
	w := e.newWorker()
	ctx := context.Background()
	op := HTTPGet{OpName: "get", Path: "/"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.pcg.Seed(uint64(i), 1)
		x := &Exec{e: e, w: w, rnd: w.rnd, deadline: time.Now().Add(10 * time.Second)}
		if out := op.Do(ctx, x); out.Class != ClassOK {
			b.Fatalf("%+v", out)
		}
	}
}
