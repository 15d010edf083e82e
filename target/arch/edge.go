package arch

import "fmt"

// Edge is how clients reach NGINX and how NGINX reaches the nodes: TLS at NGINX, and keep-alive on each
// side of it. The zero value is the stack as it always was (plain HTTP, keep-alive on both sides), so every
// preset and every scenario that does not set these knobs runs exactly as before.
//
// The keep-alive knobs are negatives for that reason: a missing field must mean "on".
type Edge struct {
	// TLS makes NGINX terminate TLS 1.3 only, with a certificate generated for the run (target/stack), and
	// the entry URL https://.
	TLS bool
	// NoClientKeepAlive makes the load engine open a new connection for every request (and send
	// Connection: close): with TLS, a full handshake per request.
	NoClientKeepAlive bool
	// NoUpstreamKeepAlive makes NGINX open a new connection to a node for every request (no keepalive
	// pool, Connection: close towards the node).
	NoUpstreamKeepAlive bool
	// HTTP2 makes NGINX offer HTTP/2 on its TLS port (ALPN h2) and the load engine speak it: a few
	// connections carry many concurrent streams (load/wire_h2.go). Needs TLS and the client's keep-alive.
	HTTP2 bool
	// Measure exposes NGINX's connection counters (stub_status) on a harness route, for the runner to
	// sample what the edge costs. A scenario turns it on by naming any of the knobs above, even to keep its
	// default, so that a plain architecture compared with a TLS one is measured the same way.
	Measure bool
}

// Default reports whether the edge is the stack's own: plain HTTP, keep-alive on both sides, nothing
// measured, the configuration as it always was.
func (e Edge) Default() bool { return e == Edge{} }

// checkHTTP2 refuses HTTP/2 where it cannot run: browsers and our load engine speak it over TLS only
// (ALPN h2; no cleartext h2c), and a connection per request (client keep-alive off) would leave it no
// stream to multiplex. The error starts with the knob's name, as Validate's do.
func (e Edge) checkHTTP2() error {
	switch {
	case !e.HTTP2:
		return nil
	case !e.TLS:
		return fmt.Errorf("http2 needs tls: true (HTTP/2 is negotiated in the TLS handshake, ALPN h2; no cleartext h2c)")
	case e.NoClientKeepAlive:
		return fmt.Errorf("http2 needs client_keepalive: true (a connection per request leaves no streams to multiplex)")
	}
	return nil
}
