package stack_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// A TLS stack answers over TLS 1.3 with the run's certificate and nothing older, its own probes and reloads
// work over TLS, and a load run without keep-alive goes through it with one connection per request. With
// HTTP/2 on (NGINX 1.22's listen ... ssl http2), NGINX answers h2 to a client that offers it and HTTP/1.1
// to one that does not, and the load's HTTP/2 path carries a run on one connection.
func TestTLSStack(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := arch.Preset("stateless")
	require.NoError(t, err)
	a.Name = "tls"
	// The load's keep-alive is each run's below (load.Config), not NGINX's.
	a.Edge = arch.Edge{TLS: true, HTTP2: true, NoUpstreamKeepAlive: true, Measure: true}
	// Up's readiness probes go over TLS.
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-tls-%d", os.Getpid())), stack.WithArchitecture(a),
		stack.WithReplicas(1))
	require.True(t, strings.HasPrefix(s.Entry, "https://127.0.0.1:"), s.Entry)
	require.NotNil(t, s.RootCAs())

	// TLS 1.3, with the certificate the stack made for this run.
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: stack.ClientTLS(s.RootCAs())}}
	resp, err := cl.Get(s.Entry + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)
	blk, _ := pem.Decode(s.CertPEM())
	require.NotNil(t, blk)
	require.Equal(t, blk.Bytes, resp.TLS.PeerCertificates[0].Raw, "the run's certificate")

	// TLS 1.2 is refused, even by a client that trusts the certificate.
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.RootCAs(), MaxVersion: tls.VersionTLS12}}}
	_, err = old.Get(s.Entry + "/healthz")
	require.Error(t, err, "TLS 1.2 refused")
	// The system's roots do not trust it.
	_, err = (&http.Client{Timeout: 5 * time.Second}).Get(s.Entry + "/healthz")
	require.ErrorContains(t, err, "certificate")

	// A reload is confirmed over TLS.
	require.NoError(t, s.SetBalancer(ctx, arch.LeastConn))

	before, err := s.NginxStatus(ctx)
	require.NoError(t, err)
	res, err := load.Run(ctx, load.Config{BaseURL: s.Entry, Clients: 4, Seed: 5, NoKeepAlive: true,
		TLS: stack.ClientTLS(s.RootCAs()), Mix: load.Mix{{Op: load.ProfileRead{}, Weight: 1}},
		Phases: []load.Phase{{Name: "c", Duration: 2 * time.Second, Pacer: load.Constant(50)}}}, load.WithoutProgress())
	require.NoError(t, err)
	require.Positive(t, res.Totals.Sent)
	require.Zero(t, res.Totals.Errors, "every request served over TLS")
	after, err := s.NginxStatus(ctx)
	require.NoError(t, err)
	// Setup's sign-ups and logins, the measured requests and this status read: a connection each.
	require.GreaterOrEqual(t, after.Accepts-before.Accepts, res.Totals.Sent+1, "one connection per request")
	_, err = s.TimeWait(ctx)
	require.NoError(t, err)

	// HTTP/2 over TLS 1.3 to a client that offers h2 (ALPN); the HTTP/1.1 clients above were answered too.
	h2 := &http.Client{Timeout: 5 * time.Second, Transport: &http2.Transport{TLSClientConfig: stack.ClientTLS(s.RootCAs())}}
	resp, err = h2.Get(s.Entry + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, resp.ProtoMajor, "NGINX speaks HTTP/2")
	require.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)

	// The load's HTTP/2 path (which fails rather than fall back to HTTP/1.1: load.TestH2RefusesHTTP1Server):
	// setup, warm-up and 100 requests on one connection, where the run above opened one per request.
	before, err = s.NginxStatus(ctx)
	require.NoError(t, err)
	res, err = load.Run(ctx, load.Config{BaseURL: s.Entry, Clients: 4, Seed: 5, HTTP2: true,
		TLS: stack.ClientTLS(s.RootCAs()), Mix: load.Mix{{Op: load.ProfileRead{}, Weight: 1}},
		Phases: []load.Phase{{Name: "c", Duration: 2 * time.Second, Pacer: load.Constant(50)}}}, load.WithoutProgress())
	require.NoError(t, err)
	require.Positive(t, res.Totals.Sent)
	require.Zero(t, res.Totals.Errors, "every request served over HTTP/2")
	after, err = s.NginxStatus(ctx)
	require.NoError(t, err)
	// The load's one connection and this status read; one more for a redial (a ping unanswered on a busy
	// machine). NGINX ends a connection after keepalive_requests (1000), far above the ~110 requests here.
	require.LessOrEqual(t, after.Accepts-before.Accepts, int64(3), "%d requests on one connection", res.Totals.Sent)
}
