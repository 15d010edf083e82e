package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http2"
)

// The HTTP/2 path (Config.HTTP2): every request of the run, setup's and the measured ones, goes through
// one http.Client whose transport is golang.org/x/net/http2's, and the measured ones take Exec's net/http
// attempt (exec.go), the path of WithHTTPClient. Retries, attempt timeouts, idempotency keys, re-logins,
// the ledger and the latency from the planned time are that code's, above the transport, as on HTTP/1.1.
// The engine picks it once, in newEngine; the wire client's HTTP/1.1 path is not touched.
//
// Why x/net/http2's Transport and not net/http's with ForceAttemptHTTP2:
//   - it speaks HTTP/2 or fails: a server that does not choose h2 in the TLS handshake (ALPN) fails every
//     request with "unexpected ALPN protocol", where net/http falls back to HTTP/1.1 without a word and a
//     comparison of HTTP/1.1 with HTTP/2 would compare HTTP/1.1 with itself;
//   - StrictMaxConcurrentStreams bounds the connections: a request beyond the server's stream limit
//     (NGINX: http2_max_concurrent_streams, 128) waits for a stream on the one connection instead of
//     dialling another, so the load is many streams on one connection, as a browser's is. The wait is part
//     of the attempt (its timeout) and of the latency from the planned time;
//   - net/http's Transport would only add its HTTP/1 pool and dial path in front of the same HTTP/2 code.
//
// Connections: one per target while it lives. NGINX ends it with a GOAWAY after keepalive_requests (1000)
// requests, as it ends an HTTP/1.1 keep-alive connection; the transport then opens the next one, and
// re-sends by itself only the requests the GOAWAY says the server never processed (its stream id above
// the last one NGINX took), never one that may have been applied, so every attempt that may have reached
// the server is still one we count. A request body is never re-sent by the transport either way: Exec
// clears GetBody.
//
// A connection that stops answering (NGINX paused, its host gone) would hold every later request: the
// transport pings after h2IdlePing without a frame and closes the connection when the ping is not
// answered within the attempt timeout, and the next request dials anew.

// h2IdlePing is how long a connection may carry no frame at all before the transport pings it.
const h2IdlePing = time.Second

// newH2Client is the run's HTTP/2 client for an https base URL: TLS as edgeTLS gives it (the caller's,
// with the URL's host as the server name) or TLS 1.2+ with the system's roots, the attempt timeout as
// the ping's bound (the request's context bounds the dial), no proxy, no compression, no redirects followed.
func newH2Client(base string, tc *tls.Config, timeout time.Duration) *http.Client {
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
		if u, err := url.Parse(base); err == nil {
			tc.ServerName = u.Hostname()
		}
	}
	tr := &http2.Transport{
		TLSClientConfig:            tc,
		DisableCompression:         true,
		StrictMaxConcurrentStreams: true,
		ReadIdleTimeout:            h2IdlePing,
		PingTimeout:                timeout,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkHTTP2 says why Config.HTTP2 cannot run with this base URL and keep-alive setting.
func (c Config) checkHTTP2(u *url.URL) []error {
	var errs []error
	if u != nil && u.Scheme != "https" {
		errs = append(errs, errors.New("http2: needs an https base_url (HTTP/2 is negotiated in the TLS handshake; no cleartext h2c)"))
	}
	if c.NoKeepAlive {
		errs = append(errs, errors.New("http2: needs keep-alive (a connection per request leaves no streams to multiplex)"))
	}
	return errs
}

// warmH2 is warm-up on HTTP/2: the probes open the one connection that every stream will share, and that
// is the whole pool. (Holding a request per expected concurrent one, as warmPool does for HTTP/1.1, would
// only park streams: past the server's stream limit the held ones would wait for each other.)
func (e *engine) warmH2(ctx context.Context) (int, error) {
	for range warmProbes {
		if err := e.warmGet(ctx, nil); err != nil {
			return 0, fmt.Errorf("warm-up probe GET %s over HTTP/2: %w", e.cfg.WarmPath, err)
		}
	}
	return 1, nil
}
