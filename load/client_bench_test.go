package load

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkClientGET is the prototype issue 22 asked for: one GET at a time, on one keep-alive connection
// to an in-process server that answers every request head with the same canned bytes (so that B/op and
// allocs/op are the client's alone), through the engine's own client (wire.go), through valyala/fasthttp's
// HostClient (the client bombardier uses) and through net/http's Transport, each doing what the engine
// needs of an answer (the status, one header, the whole body). The server's share is the same in all
// three; compare ns/op, B/op and allocs/op (docs/load.md, "Which HTTP client").
func BenchmarkClientGET(b *testing.B) {
	srv := cannedServer(b)
	check := func(b *testing.B, status int, node string, body int) {
		if status != 200 || node != "n1" || body != len(`{"ok":true}`) {
			b.Fatalf("status %d node %q body %d bytes", status, node, body)
		}
	}
	b.Run("wire", func(b *testing.B) {
		wt, err := newWireTarget(srv)
		if err != nil {
			b.Fatal(err)
		}
		w := newWire(wt)
		defer w.close()
		b.ReportAllocs()
		for b.Loop() {
			w.appendHead(http.MethodGet, "/", "", nil)
			w.endHead(nil)
			a, err := w.roundTrip(context.Background(), time.Now().Add(10*time.Second), http.MethodGet, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			check(b, a.status, a.header.Get("X-Node-Id"), len(a.body))
		}
	})
	b.Run("fasthttp", func(b *testing.B) {
		c := &fasthttp.HostClient{Addr: strings.TrimPrefix(srv, "http://"), MaxConns: 1}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		b.ReportAllocs()
		for b.Loop() {
			req.SetRequestURI(srv + "/")
			if err := c.DoDeadline(req, resp, time.Now().Add(10*time.Second)); err != nil {
				b.Fatal(err)
			}
			check(b, resp.StatusCode(), string(resp.Header.Peek("X-Node-Id")), len(resp.Body()))
		}
	})
	b.Run("net/http", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, srv+"/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			check(b, resp.StatusCode, resp.Header.Get("X-Node-Id"), len(body))
		}
	})
}

// cannedServer answers each request head it reads (GETs: no body) with one fixed answer, allocating
// nothing per request: a benchmark's allocations are then the client's.
func cannedServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Node-Id: n1\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 { // the blank line that ends a head
						if _, err := c.Write(answer); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
