package load

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted is a raw TCP server: for each request it reads, it writes the
// next answer of its script verbatim ("" closes the connection instead of
// answering; "hang" answers nothing; an answer ending in hangUp is written,
// then the connection closed). It records the requests and counts
// connections.
type scripted struct {
	ln       net.Listener
	mu       sync.Mutex
	script   []string
	requests []string
	conns    atomic.Int64
}

func newScripted(t *testing.T, script ...string) *scripted {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &scripted{ln: ln, script: script}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go s.serve(c)
		}
	}()
	return s
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		answer := "hang"
		if len(s.script) > 0 {
			answer, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		switch answer {
		case "":
			return
		case "hang":
			_, _ = io.Copy(io.Discard, br)
			return
		}
		closing := strings.HasSuffix(answer, hangUp)
		if _, err := io.WriteString(c, strings.TrimSuffix(answer, hangUp)); err != nil || closing {
			return
		}
	}
}

const hangUp = "\x00hang-up"

// readRawRequest reads a request head and its Content-Length body.
func readRawRequest(br *bufio.Reader) (string, error) {
	var b strings.Builder
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return "", err
	}
	b.Write(body)
	return b.String(), nil
}

func (s *scripted) wire(t *testing.T, prefix string) *wire {
	wt, err := newWireTarget("http://" + s.ln.Addr().String() + prefix)
	require.NoError(t, err)
	w := newWire(wt)
	t.Cleanup(w.close)
	return w
}

func wireDo(w *wire, method, path string, body []byte, to time.Duration) (wireAnswer, error) {
	w.appendHead(method, path, "application/json", body)
	w.header("Idempotency-Key", "k-1")
	w.endHead(body)
	return w.roundTrip(context.Background(), time.Now().Add(to), method, body != nil, nil)
}

// TestWireAnswers: each way an HTTP/1.1 answer can be framed is read whole,
// and the connection is reused exactly when it may be.
func TestWireAnswers(t *testing.T) {
	long := strings.Repeat("x", 20000) // longer than the 8 KiB read buffer
	tests := []struct {
		name   string
		answer string
		status int
		body   string
		reuse  bool // the next request goes on the same connection
		header map[string]string
	}{
		// Content-Length, keep-alive: the common case.
		{"content-length", "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Node-Id: n2\r\n\r\nhello", 201, "hello", true,
			map[string]string{"X-Node-Id": "n2"}},
		// Chunked with an extension and a trailer.
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n", 200, "abcde", true, nil},
		// The server says close: answer read, connection not reused.
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false, nil},
		// HTTP/1.0 without length: the body ends with the connection.
		{"close-delimited", "HTTP/1.0 200 OK\r\n\r\nuntil eof" + hangUp, 200, "until eof", false, nil},
		// HTTP/1.0 asking for keep-alive.
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n1", 200, "1", true, nil},
		// 100 Continue first, then the answer.
		{"1xx", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n", 204, "", true, map[string]string{"X-A": "b"}},
		// Lower-case names, spaces around values, a repeated header, a
		// header line longer than the read buffer.
		{"odd headers", "HTTP/1.1 412 Precondition Failed\r\ncontent-length:  3 \r\netag: \"v7\"\r\nVary: a\r\nVary: b\r\nX-Long: " + long + "\r\n\r\n{ }", 412, "{ }", true,
			map[string]string{"Etag": `"v7"`, "X-Long": long}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, tc.answer, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			w := s.wire(t, "/api/")
			a, err := wireDo(w, http.MethodPost, "/v1/orders", []byte(`{"a":1}`), 2*time.Second)
			require.NoError(t, err)
			assert.Equal(t, tc.status, a.status)
			assert.Equal(t, tc.body, string(a.body))
			for k, v := range tc.header {
				assert.Equal(t, v, a.header.Get(k), k)
			}
			_, err = wireDo(w, http.MethodGet, "/next", nil, 2*time.Second)
			require.NoError(t, err)
			want := int64(2)
			if tc.reuse {
				want = 1
			}
			assert.Equal(t, want, s.conns.Load(), "connections")
			s.mu.Lock()
			defer s.mu.Unlock()
			host := s.ln.Addr().String()
			assert.Equal(t, "POST /api/v1/orders HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: chaosbench-load\r\n"+
				"Content-Type: application/json\r\nContent-Length: 7\r\nIdempotency-Key: k-1\r\n\r\n{\"a\":1}", s.requests[0])
			assert.True(t, strings.HasPrefix(s.requests[1], "GET /api/next HTTP/1.1\r\n"), s.requests[1])
		})
	}
	t.Run("vary kept", func(t *testing.T) {
		s := newScripted(t, "HTTP/1.1 200 OK\r\nVary: a\r\nVary: b\r\nContent-Length: 0\r\n\r\n")
		a, err := wireDo(s.wire(t, ""), http.MethodGet, "/", nil, 2*time.Second)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b"}, a.header.Values("Vary"))
	})
}

// TestWireStaleKeepAlive: a keep-alive connection that the server closed is
// found closed on the next request. Like net/http, a request without a body
// is sent again once on a new connection; one with a body is not (every
// attempt that may have reached the server is counted by the engine).
func TestWireStaleKeepAlive(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	for _, tc := range []struct {
		name    string
		body    []byte
		wantErr bool
		conns   int64
	}{
		{"GET is sent again", nil, false, 2},
		{"POST is not", []byte(`{}`), true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// First answer, then the server closes instead of answering.
			s := newScripted(t, ok, "", ok)
			w := s.wire(t, "")
			_, err := wireDo(w, http.MethodGet, "/", nil, 2*time.Second)
			require.NoError(t, err)
			method := http.MethodGet
			if tc.body != nil {
				method = http.MethodPost
			}
			_, err = wireDo(w, method, "/", tc.body, 2*time.Second)
			if tc.wantErr {
				require.Error(t, err)
				assert.True(t, staleConn(err), "%v", err)
				assert.Equal(t, ClassTransport, classifyWireErr(context.Background(), err))
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.conns, s.conns.Load())
		})
	}
}

// TestWireFailures: what the engine records when an answer does not come.
func TestWireFailures(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		s := newScripted(t, "hang")
		t0 := time.Now()
		_, err := wireDo(s.wire(t, ""), http.MethodGet, "/", nil, 200*time.Millisecond)
		require.Error(t, err)
		assert.Less(t, time.Since(t0), 5*time.Second)
		assert.Equal(t, ClassTimeout, classifyWireErr(context.Background(), err))
	})
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		wt, err := newWireTarget("http://" + addr)
		require.NoError(t, err)
		_, err = wireDo(newWire(wt), http.MethodGet, "/", nil, time.Second)
		require.Error(t, err)
		assert.Equal(t, ClassConnect, classifyWireErr(context.Background(), err))
	})
	t.Run("hang-up mid-answer", func(t *testing.T) {
		s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"+hangUp)
		_, err := wireDo(s.wire(t, ""), http.MethodGet, "/", nil, time.Second)
		require.Error(t, err)
		assert.Equal(t, ClassTransport, classifyWireErr(context.Background(), err))
	})
	t.Run("malformed", func(t *testing.T) {
		s := newScripted(t, "HTTP/2 200\r\n\r\n")
		_, err := wireDo(s.wire(t, ""), http.MethodGet, "/", nil, time.Second)
		require.ErrorContains(t, err, "malformed status line")
	})
	t.Run("too large", func(t *testing.T) {
		s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(maxBody+10)+"\r\n\r\n"+strings.Repeat("y", maxBody+10),
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		w := s.wire(t, "")
		a, err := wireDo(w, http.MethodGet, "/", nil, 5*time.Second)
		require.NoError(t, err)
		assert.Len(t, a.body, maxBody, "at most maxBody is read")
		_, err = wireDo(w, http.MethodGet, "/", nil, 5*time.Second)
		require.NoError(t, err)
		assert.Equal(t, int64(2), s.conns.Load(), "the connection with an unread rest is dropped")
	})
	t.Run("canceled", func(t *testing.T) {
		s := newScripted(t, "hang")
		w := s.wire(t, "")
		ctx, cancel := context.WithCancel(context.Background())
		stop := context.AfterFunc(ctx, w.cancel)
		defer stop()
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		w.appendHead(http.MethodGet, "/", "", nil)
		w.endHead(nil)
		t0 := time.Now()
		_, err := w.roundTrip(ctx, time.Now().Add(time.Minute), http.MethodGet, false, nil)
		require.Error(t, err)
		assert.Less(t, time.Since(t0), 5*time.Second, "cancel wakes the blocked read")
		assert.Equal(t, ClassCanceled, classifyWireErr(ctx, err))
		_, err = w.roundTrip(ctx, time.Now().Add(time.Minute), http.MethodGet, false, nil)
		assert.True(t, errors.Is(err, errWireCanceled), "nothing starts after cancel: %v", err)
	})
}

// TestWireRefusesInjection: a value that would break the request line or
// smuggle a header (an ETag echoed as If-Match, a path from a custom op) is
// refused before anything is sent, as net/http refuses it: class setup.
func TestWireRefusesInjection(t *testing.T) {
	s := newScripted(t)
	wt, err := newWireTarget("http://" + s.ln.Addr().String())
	require.NoError(t, err)
	e := &engine{cfg: Config{Timeout: time.Second}, wt: wt}
	w := e.newWorker()
	defer w.wire.close()
	for _, r := range []Request{
		{Method: http.MethodPatch, Path: "/v1/resources/r", IfMatch: "\"v1\"\r\nX-Evil: 1"},
		{Method: http.MethodGet, Path: "/a b"},
		{Method: http.MethodPost, Path: "/v1/orders", IdempotencyKey: "k\n"},
	} {
		x := &Exec{e: e, w: w, rnd: w.rnd, deadline: time.Now().Add(time.Second)}
		_, class, err := x.attempt(context.Background(), r)
		require.Error(t, err, "%+v", r)
		assert.Equal(t, ClassSetup, class)
	}
	assert.Zero(t, s.conns.Load(), "nothing was sent")
}

// TestWithHTTPClientStillWorks: with WithHTTPClient the measured requests
// go through net/http (and warm-up fills its pool), with the same results.
func TestWithHTTPClientStillWorks(t *testing.T) {
	_, srv := newStub(t)
	var dials atomic.Int64
	c := newHTTPClient(64)
	tr := c.Transport.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	cfg := quick(srv.URL, 100, time.Second)
	cfg.WarmConns = 5
	res, err := Run(context.Background(), cfg, WithoutProgress(), WithHTTPClient(c))
	require.NoError(t, err)
	assert.Equal(t, 5, res.WarmConns)
	assert.Zero(t, res.Totals.Errors, "%+v", res.Stats)
	assert.Equal(t, res.Totals.Planned, res.Totals.Completed)
	assert.GreaterOrEqual(t, dials.Load(), int64(5), "the measured requests used the given client")
}

// BenchmarkRequest is one measured GET on the hot path (Exec.Do, as a
// worker runs it) against an in-process server, with the wire client and
// with net/http (WithHTTPClient): compare ns/op and allocs/op.
func BenchmarkRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node-Id", "n1")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	for _, path := range []string{"wire", "net/http"} {
		b.Run(path, func(b *testing.B) {
			cfg := Config{BaseURL: srv.URL, Mix: getMix(), Phases: []Phase{{"b", time.Second, Constant(1)}}}.withDefaults()
			e := &engine{cfg: cfg, base: srv.URL, http: newHTTPClient(16), ledger: newLedger(), start: time.Now()}
			defer e.http.CloseIdleConnections()
			if path == "wire" {
				wt, err := newWireTarget(srv.URL)
				require.NoError(b, err)
				e.wt = wt
			}
			w := e.newWorker()
			if w.wire != nil {
				defer w.wire.close()
			}
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
		})
	}
}

// TestWireDeclaredHeaders: a declared step's headers, its idempotency header under its own name and its
// body's content type are written as they are, after the contract's headers.
func TestWireDeclaredHeaders(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
	wt, err := newWireTarget("http://" + s.ln.Addr().String())
	require.NoError(t, err)
	e := &engine{cfg: Config{Timeout: time.Second}, wt: wt}
	w := e.newWorker()
	defer w.wire.close()
	x := &Exec{e: e, w: w, rnd: w.rnd, deadline: time.Now().Add(time.Second)}
	r := Request{Method: http.MethodPost, Path: "/tickets?x=1", Body: []byte("a=1&b=2"),
		ContentType: "application/x-www-form-urlencoded", IdempotencyKey: "k-7", IdempotencyHeader: "X-Dedupe",
		Headers: []Header{{"Authorization", "Token t1"}, {"X-Trace", "abc"}}, NoAuth: true}
	resp, _, err := x.attempt(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, 201, resp.Status)
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.requests, 1)
	host := s.ln.Addr().String()
	assert.Equal(t, "POST /tickets?x=1 HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: chaosbench-load\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n"+
		"X-Dedupe: k-7\r\nAuthorization: Token t1\r\nX-Trace: abc\r\n\r\na=1&b=2", s.requests[0])

	for _, h := range []Header{{"X-Bad", "v\r\nX-Evil: 1"}, {"Bad Name", "v"}, {"", "v"}, {"A:B", "v"}} {
		_, class, err := x.attempt(context.Background(), Request{Method: http.MethodGet, Path: "/", Headers: []Header{h}})
		require.Error(t, err, "%+v", h)
		assert.Equal(t, ClassSetup, class)
	}
}
