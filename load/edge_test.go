package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// The edge knobs against a stub of the API: HTTPS with the given roots only, for setup (sign-ups, logins:
// net/http) and measured requests (the wire client), and keep-alive off meaning one connection per request.
func TestEdgeTLSAndKeepAlive(t *testing.T) {
	tests := []struct {
		name        string
		tls         bool
		noKeepAlive bool
	}{
		// Today's default: plain HTTP, a few connections carry every request.
		{"http keep-alive", false, false},
		// TLS 1.3 to a server that allows nothing older, trusting its certificate only; connections reused.
		{"tls keep-alive", true, false},
		// A handshake per request: as many connections as requests (setup's included).
		{"tls no keep-alive", true, true},
		// Plain HTTP without keep-alive: the same count of connections, no handshake.
		{"http no keep-alive", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubAPI{sessions: map[string]string{}, orders: map[string]string{},
				orderHits: map[string]int{}, keys: map[string][]string{}, values: map[string]int64{}}
			var requests, notTLS13 atomic.Int64
			// carried counts the requests each connection carried (its moves to active). Not every connection
			// opened: warming the pool dials ahead, and on a busy CPU some of those handshakes are abandoned
			// (the server logs "TLS handshake error ... EOF") and never carry one.
			var carriedMu sync.Mutex
			carried := map[net.Conn]int{}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tt.tls && (r.TLS == nil || r.TLS.Version != tls.VersionTLS13) {
					notTLS13.Add(1)
				}
				stub.ServeHTTP(w, r)
			}))
			srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
				if s == http.StateActive {
					carriedMu.Lock()
					carried[c]++
					carriedMu.Unlock()
				}
			}
			reuse := func() (conns, most int) {
				carriedMu.Lock()
				defer carriedMu.Unlock()
				for _, n := range carried {
					most = max(most, n)
				}
				return len(carried), most
			}
			var cfgTLS *tls.Config
			if tt.tls {
				srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
				srv.StartTLS()
				roots := x509.NewCertPool()
				roots.AddCert(srv.Certificate())
				cfgTLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			cfg := Config{BaseURL: srv.URL, Clients: 4, Seed: 3, TLS: cfgTLS, NoKeepAlive: tt.noKeepAlive,
				Mix: Mix{{ProfileRead{}, 1}},
				// 50/s: a request every 20 ms, so that a connection is idle again before most next ones are
				// due, however slow the handshakes of a busy machine (an open model dials when none is idle).
				Phases: []Phase{{"c", time.Second, Constant(50)}}}
			res, err := Run(context.Background(), cfg, WithoutProgress())
			require.NoError(t, err)
			require.Greater(t, res.Totals.Sent, int64(40))
			assert.Zero(t, res.Totals.Errors, "every request served")
			assert.Zero(t, notTLS13.Load(), "every request over TLS 1.3")
			conns, most := reuse()
			if tt.noKeepAlive {
				assert.Equal(t, requests.Load(), int64(conns), "one connection per request")
				assert.Equal(t, 1, most, "none carried a second request")
				assert.Zero(t, res.WarmConns, "no pool to warm")
			} else {
				// Reuse by mechanism: a connection back in the pool carries the next request due. Counting
				// how few connections there were would depend on how fast the CPU did the handshakes.
				assert.Greater(t, most, 1, "a connection carried more than one request")
				assert.Less(t, int64(conns), requests.Load(), "fewer connections than requests")
			}
			assert.Positive(t, res.CPU, "the engine's CPU time is measured")
		})
	}
}

// A client given a pool that does not hold the server's certificate refuses it: the engine trusts what
// the caller says, not the system's roots nor any certificate.
func TestEdgeTLSUntrusted(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL, Mix: getMix(), Seed: 1, WarmConns: -1,
		TLS:    &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS13},
		Phases: []Phase{{"c", 200 * time.Millisecond, Constant(50)}}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	require.Positive(t, res.Totals.Sent)
	assert.Equal(t, res.Totals.Sent, res.Totals.Errors, "no request passes an untrusted certificate")
}
