package load

import (
	"crypto/tls"
	"net/http"
	"net/url"
)

// The edge, as the load engine sees it: HTTPS with the caller's TLS settings (Config.TLS) and keep-alive
// on or off (Config.NoKeepAlive), for both clients, the wire client of the measured requests and net/http
// of setup and logins. With neither set, nothing changes: plain HTTP (or https with the system's roots and
// TLS 1.2+) on keep-alive connections.

// edgeTLS is the TLS configuration for an https base URL: the caller's (a clone, with the URL's host as
// the server name when it names none), or nil to keep each client's default.
func edgeTLS(base string, tc *tls.Config) *tls.Config {
	if tc == nil {
		return nil
	}
	c := tc.Clone()
	if c.ServerName == "" {
		if u, err := url.Parse(base); err == nil {
			c.ServerName = u.Hostname()
		}
	}
	return c
}

// setEdge applies Config.TLS and Config.NoKeepAlive to the wire client's target.
func (t *wireTarget) setEdge(tc *tls.Config, noKeepAlive bool) {
	if t.tls != nil && tc != nil {
		t.tls = tc
	}
	t.noKeepAlive = noKeepAlive
}

// setEdgeHTTP applies them to a net/http client made by newHTTPClient.
func setEdgeHTTP(c *http.Client, tc *tls.Config, noKeepAlive bool) {
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		return
	}
	if tc != nil {
		tr.TLSClientConfig = tc
	}
	// net/http then sends Connection: close and opens a connection per request.
	tr.DisableKeepAlives = noKeepAlive
}
