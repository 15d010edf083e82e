package load

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The wire client: the measured requests' HTTP/1.1, written and read by the
// worker goroutine itself on a keep-alive connection that the worker owns
// (one request at a time, like a wrk connection).
//
// Why not net/http's Transport: per request it hands the request to the
// connection's writeLoop goroutine, is woken by its readLoop with the
// response, and signals the body's end back to readLoop; with the
// scheduler's wake-up and the aggregator's, about 8 goroutine wake-ups per
// request, many of them futex wake-ups of idle threads, plus ~30 allocations
// (Request, URL, Header maps, context and timer, Response, body wrappers). A
// CPU profile at 4000/s had the runtime's scheduler (findRunnable, futex,
// park) at ~25% and net/http's own work at ~15%, next to the ~40% of
// syscalls that any client pays. Here a request is one write, one park on
// netpoll, reads, and a few allocations.
//
// What it keeps from net/http, so that every measured quantity means the
// same: one Host header, Content-Length bodies, keep-alive unless the server
// says close, chunked and close-delimited answers, at most maxBody read (the
// connection is dropped past it), the per-attempt timeout (a connection
// deadline), and net/http's one silent re-send of a request without a body
// on a keep-alive connection that turns out closed before any answer byte;
// never for a request with a body, so every attempt that may have reached
// the server is one we count. Setup, logins and WithHTTPClient still use
// net/http.

// wireTarget is BaseURL, parsed once for the wire client.
type wireTarget struct {
	addr   string // host:port to dial
	host   string // Host header
	prefix string // the base URL's path, without a trailing slash
	tls    *tls.Config
	// noKeepAlive: a new connection per request, announced with Connection: close (Config.NoKeepAlive).
	noKeepAlive bool
}

func newWireTarget(base string) (*wireTarget, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse base url: %w", err)
	}
	t := &wireTarget{host: u.Host, prefix: u.EscapedPath()}
	for len(t.prefix) > 0 && t.prefix[len(t.prefix)-1] == '/' {
		t.prefix = t.prefix[:len(t.prefix)-1]
	}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		t.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("base url scheme %q: want http or https", u.Scheme)
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// wire is one worker's client: its connection and buffers. Only the worker
// uses it, except cancel.
type wire struct {
	t      *wireTarget
	dialer net.Dialer

	mu       sync.Mutex // guards conn and canceled against cancel
	conn     *wireConn
	canceled bool

	req []byte // request being written, reused
}

type wireConn struct {
	c  net.Conn
	br *bufio.Reader
	// The first read after a request usually finds nothing (EAGAIN) before
	// the netpoll wait: a wasted syscall. Waiting first through
	// syscall.RawConn.Read does not work: it clears a readiness that already
	// fired (pollReset) and then parks for an edge that never comes when the
	// answer arrived before the wait (tried: requests hung to their timeout).
	used    bool   // it has carried an answer: a failure before any byte may be a stale keep-alive
	scratch []byte // header lines, reused
	long    []byte // a line longer than the read buffer, reused
}

// errWireCanceled is returned once the worker's context ended: classifyErr
// reads the run context first and records the request as canceled.
var errWireCanceled = errors.New("run canceled")

// aLongTimeAgo is a deadline in the past: it wakes a blocked read or write.
var aLongTimeAgo = time.Unix(1, 0)

func newWire(t *wireTarget) *wire {
	return &wire{t: t, dialer: net.Dialer{KeepAlive: 30 * time.Second}, req: make([]byte, 0, 512)}
}

// cancel wakes whatever the worker is blocked on and keeps it from
// starting anything else: the run is over (grace ended).
func (w *wire) cancel() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.canceled = true
	if w.conn != nil {
		_ = w.conn.c.SetDeadline(aLongTimeAgo)
	}
}

func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropLocked()
}

func (w *wire) drop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropLocked()
}

func (w *wire) dropLocked() {
	if w.conn != nil {
		_ = w.conn.c.Close()
		w.conn = nil
	}
}

// connect returns the worker's connection, dialling it if needed, with the
// attempt's deadline set.
func (w *wire) connect(ctx context.Context, deadline time.Time) (*wireConn, error) {
	w.mu.Lock()
	c, canceled := w.conn, w.canceled
	if c != nil && !canceled {
		err := c.c.SetDeadline(deadline)
		w.mu.Unlock()
		return c, err
	}
	w.mu.Unlock()
	if canceled {
		return nil, errWireCanceled
	}
	d := w.dialer
	d.Deadline = deadline
	nc, err := d.DialContext(ctx, "tcp", w.t.addr)
	if err != nil {
		return nil, err
	}
	if w.t.tls != nil {
		tc := tls.Client(nc, w.t.tls)
		_ = tc.SetDeadline(deadline)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		nc = tc
	}
	c = &wireConn{c: nc, br: bufio.NewReaderSize(nc, 8<<10)}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.canceled {
		_ = nc.Close()
		return nil, errWireCanceled
	}
	w.conn = c
	return c, c.c.SetDeadline(deadline)
}

// wireAnswer is a parsed response.
type wireAnswer struct {
	status int
	header http.Header
	body   []byte
}

// roundTrip sends one request (head already in w.req, body appended) and
// reads its answer before deadline. st, when not nil, gets the instant the
// request was first written and, when traced, its answer's first byte.
func (w *wire) roundTrip(ctx context.Context, deadline time.Time, method string, hasBody bool, st *stamps) (wireAnswer, error) {
	for try := 0; ; try++ {
		c, err := w.connect(ctx, deadline)
		if err != nil {
			return wireAnswer{}, err
		}
		reused := c.used
		var a wireAnswer
		var keep, started bool
		if _, err = c.c.Write(w.req); err == nil {
			if st != nil && st.written.IsZero() {
				st.written = time.Now()
			}
			a, keep, started, err = c.readResponse(method, st)
		}
		if err == nil {
			if keep && !w.t.noKeepAlive {
				c.used = true
			} else {
				w.drop()
			}
			return a, nil
		}
		w.drop()
		// net/http re-sends a request without a body, once, when a reused
		// connection was closed by the server before answering.
		if try > 0 || hasBody || !reused || started || !staleConn(err) {
			return a, err // a has the headers if they came
		}
	}
}

// staleConn: the server closed a keep-alive connection (EOF, reset or
// broken pipe), not a timeout nor a cancellation.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// appendHead starts a request: request line, Host, User-Agent and, with a
// body, Content-Type and Content-Length. The caller adds its headers, then
// endHead and the body.
func (w *wire) appendHead(method, path, contentType string, body []byte) {
	b := w.req[:0]
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, w.t.prefix...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, w.t.host...)
	b = append(b, "\r\nUser-Agent: chaosbench-load\r\n"...)
	if w.t.noKeepAlive {
		b = append(b, "Connection: close\r\n"...)
	}
	if body != nil {
		b = append(b, "Content-Type: "...)
		b = append(b, contentType...)
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	w.req = b
}

// validWire reports whether s can go into a request line or a header value
// as is: net/http refuses requests with control characters there (header
// injection) and so does the wire client; a path must also hold no space.
func validWire(s string, path bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f || (path && (c == ' ' || c == '\t')) {
			return false
		}
	}
	return true
}

// validHeaders is validWire for a declared step's headers: names are tokens (no space, colon or control
// character) and values hold no control character.
func validHeaders(hs []Header) bool {
	for _, h := range hs {
		if h.Name == "" || !validWire(h.Value, false) || strings.ContainsAny(h.Name, " \t:") || !validWire(h.Name, true) {
			return false
		}
	}
	return true
}

func (w *wire) header(k, v string) {
	w.req = append(w.req, k...)
	w.req = append(w.req, ": "...)
	w.req = append(w.req, v...)
	w.req = append(w.req, "\r\n"...)
}

func (w *wire) endHead(body []byte) {
	w.req = append(w.req, "\r\n"...)
	w.req = append(w.req, body...)
}
