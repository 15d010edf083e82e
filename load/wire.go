package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
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
// reads its answer before deadline.
func (w *wire) roundTrip(ctx context.Context, deadline time.Time, method string, hasBody bool) (wireAnswer, error) {
	for try := 0; ; try++ {
		c, err := w.connect(ctx, deadline)
		if err != nil {
			return wireAnswer{}, err
		}
		reused := c.used
		var a wireAnswer
		var keep, started bool
		if _, err = c.c.Write(w.req); err == nil {
			a, keep, started, err = c.readResponse(method)
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

// maxHeaderBytes bounds an answer's header block, as net/http's default
// MaxResponseHeaderBytes (10 MB) does, but tighter: our contract's headers
// are small, and a runaway server must not balloon memory.
const maxHeaderBytes = 1 << 20

// readLine returns one line without its CRLF; the slice is valid until the
// next read.
func (c *wireConn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line: gather it in its own buffer.
		buf := append(c.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > maxHeaderBytes {
				return nil, errors.New("answer header line too long")
			}
			line, err = c.br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		c.long = buf
		line = buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	return line, nil
}

// readResponse reads one answer. started says whether any byte of it came
// (a stale connection fails before).
func (c *wireConn) readResponse(method string) (a wireAnswer, keep, started bool, err error) {
	var minor int
	for {
		if _, err = c.br.Peek(1); err != nil {
			return a, false, false, err
		}
		started = true
		var line []byte
		if line, err = c.readLine(); err != nil {
			return a, false, true, err
		}
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return a, false, true, fmt.Errorf("malformed status line %q", line)
		}
		minor = int(line[7] - '0')
		a.status, err = strconv.Atoi(string(line[9:12]))
		if err != nil || a.status < 100 {
			return a, false, true, fmt.Errorf("malformed status line %q", line)
		}
		if a.status >= 200 || a.status == http.StatusSwitchingProtocols {
			break
		}
		// 1xx: its headers, then the real answer.
		for {
			if line, err = c.readLine(); err != nil {
				return a, false, true, err
			}
			if len(line) == 0 {
				break
			}
		}
	}
	// Header lines go into one buffer that becomes one string: one
	// allocation for all keys and values.
	c.scratch = c.scratch[:0]
	n := 0
	for {
		line, err := c.readLine()
		if err != nil {
			return a, false, true, err
		}
		if len(line) == 0 {
			break
		}
		if len(c.scratch)+len(line) > maxHeaderBytes {
			return a, false, true, errors.New("answer headers too large")
		}
		c.scratch = append(c.scratch, line...)
		c.scratch = append(c.scratch, '\n')
		n++
	}
	block := string(c.scratch)
	a.header = make(http.Header, n)
	vals := make([]string, n)
	contentLength, chunked := int64(-1), false
	keep = minor >= 1
	for i := 0; len(block) > 0; i++ {
		nl := indexByte(block, '\n')
		line := block[:nl]
		block = block[nl+1:]
		colon := indexByte(line, ':')
		if colon <= 0 {
			return a, false, true, fmt.Errorf("malformed header line %q", line)
		}
		k := textproto.CanonicalMIMEHeaderKey(line[:colon])
		v := trimOWS(line[colon+1:])
		if prev, ok := a.header[k]; ok {
			a.header[k] = append(prev, v)
		} else {
			vals[i] = v
			a.header[k] = vals[i : i+1 : i+1]
		}
		switch k {
		case "Content-Length":
			if contentLength, err = strconv.ParseInt(v, 10, 64); err != nil || contentLength < 0 {
				return a, false, true, fmt.Errorf("bad Content-Length %q", v)
			}
		case "Transfer-Encoding":
			chunked = asciiEqualFold(v, "chunked")
		case "Connection":
			if asciiEqualFold(v, "close") {
				keep = false
			} else if asciiEqualFold(v, "keep-alive") {
				keep = true
			}
		}
	}
	switch {
	case method == http.MethodHead || a.status == http.StatusNoContent || a.status == http.StatusNotModified ||
		a.status < 200:
	case chunked:
		a.body, keep, err = c.readChunked(keep)
	case contentLength >= 0:
		a.body = make([]byte, min(contentLength, maxBody))
		if _, err = io.ReadFull(c.br, a.body); err == nil && contentLength > maxBody {
			keep = false // the rest is not read: the connection cannot carry another request
		}
	default: // delimited by the connection's end
		keep = false
		a.body, err = io.ReadAll(io.LimitReader(c.br, maxBody))
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return a, false, true, fmt.Errorf("read body: %w", err)
	}
	return a, keep, true, nil
}

func (c *wireConn) readChunked(keep bool) ([]byte, bool, error) {
	var body []byte
	for {
		line, err := c.readLine()
		if err != nil {
			return nil, false, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return nil, false, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the blank line
				if line, err = c.readLine(); err != nil {
					return nil, false, err
				}
				if len(line) == 0 {
					return body, keep, nil
				}
			}
		}
		if int64(len(body))+size > maxBody {
			return body, false, nil // the rest is not read: the connection is dropped
		}
		start := len(body)
		body = append(body, make([]byte, size)...)
		if _, err := io.ReadFull(c.br, body[start:]); err != nil {
			return nil, false, err
		}
		if line, err = c.readLine(); err != nil || len(line) != 0 {
			return nil, false, fmt.Errorf("chunk not followed by CRLF: %v", err)
		}
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
