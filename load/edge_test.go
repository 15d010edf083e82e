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
			// used are the connections that carried a request. Not every connection opened: warming the
			// pool dials ahead, and under a busy CPU some of those handshakes are abandoned (the server logs
			// "TLS handshake error ... EOF") and never carry one; counting them made reuse look worse than it is.
			var usedMu sync.Mutex
			used := map[net.Conn]bool{}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tt.tls && (r.TLS == nil || r.TLS.Version != tls.VersionTLS13) {
					notTLS13.Add(1)
				}
				stub.ServeHTTP(w, r)
			}))
			srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
				if s == http.StateActive {
					usedMu.Lock()
					used[c] = true
					usedMu.Unlock()
				}
			}
			conns := func() int64 {
				usedMu.Lock()
				defer usedMu.Unlock()
				return int64(len(used))
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
				Mix:    Mix{{ProfileRead{}, 1}},
				Phases: []Phase{{"c", 500 * time.Millisecond, Constant(200)}}}
			res, err := Run(context.Background(), cfg, WithoutProgress())
			require.NoError(t, err)
			require.Greater(t, res.Totals.Sent, int64(50))
			assert.Zero(t, res.Totals.Errors, "every request served")
			assert.Zero(t, notTLS13.Load(), "every request over TLS 1.3")
			if tt.noKeepAlive {
				assert.Equal(t, requests.Load(), conns(), "one connection per request")
				assert.Zero(t, res.WarmConns, "no pool to warm")
			} else {
				assert.Less(t, conns(), requests.Load()/2, "connections are reused")
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
