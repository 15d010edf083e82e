//go:build linux

package main

// The event-loop prototype of issue 22 (`-mode=loop`, docs/load.md "Which HTTP client, and where a request's
// CPU goes"): what a constant-rate GET costs when one locked thread waits in one epoll_wait for both the next
// planned instant (a timerfd) and every connection, and does each request's next step itself, with no
// goroutine, no hand-off and no Go scheduler in the request's path. It is a measurement, not an engine: one
// GET, a constant rate, no retries, no records; latency from the planned instant, as the engine measures it.
// Compare its CPU per request with ours and vegeta's at the same rate to see what the design could save.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaosbench/chaosbench/bench/internal/benchkit"
)

// loopResult is what -mode=loop prints: the same counts as ours' trial, from its own loop.
type loopResult struct {
	Planned, Sent, Done, Late, Dropped, Errors int64
	P50, P99, Max                              time.Duration
}

type loopConn struct {
	fd      int
	busy    bool
	planned time.Duration // the request in flight's planned instant, from the loop's start
	buf     []byte
}

// runLoop sends GET / to target at rate for d and returns the counts and latency percentiles.
func runLoop(target string, rate int, d time.Duration, maxConns int) (loopResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u, err := url.Parse(target)
	if err != nil {
		return loopResult{}, err
	}
	addr, err := net.ResolveTCPAddr("tcp4", u.Host)
	if err != nil {
		return loopResult{}, err
	}
	req := []byte("GET / HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: chaosbench-loop\r\n\r\n")
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return loopResult{}, fmt.Errorf("epoll: %w", err)
	}
	defer unix.Close(ep)
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return loopResult{}, fmt.Errorf("timerfd: %w", err)
	}
	defer unix.Close(tfd)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, tfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(tfd)}); err != nil {
		return loopResult{}, err
	}
	conns := map[int32]*loopConn{}
	var free []*loopConn
	dial := func() (*loopConn, error) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		sa := &unix.SockaddrInet4{Port: addr.Port}
		copy(sa.Addr[:], addr.IP.To4())
		if err := unix.Connect(fd, sa); err != nil { // loopback: a blocking connect is immediate
			unix.Close(fd)
			return nil, err
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return nil, err
		}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			unix.Close(fd)
			return nil, err
		}
		c := &loopConn{fd: fd, buf: make([]byte, 0, 4096)}
		conns[int32(fd)] = c
		return c, nil
	}
	defer func() {
		for _, c := range conns {
			unix.Close(c.fd)
		}
	}()
	// A warm pool, as the engine opens one before it times anything.
	for range 8 {
		c, err := dial()
		if err != nil {
			return loopResult{}, fmt.Errorf("dial: %w", err)
		}
		free = append(free, c)
	}

	var res loopResult
	h := benchkit.NewHistogram()
	interval := time.Second / time.Duration(rate)
	total := int64(d / interval)
	start := mono()
	var next int64 // the next request's number; request n is planned at n*interval
	arm := func(at time.Duration) {
		ts := unix.NsecToTimespec(int64(start + at))
		_ = unix.TimerfdSettime(tfd, unix.TFD_TIMER_ABSTIME, &unix.ItimerSpec{Value: ts}, nil)
	}
	arm(0)
	events := make([]unix.EpollEvent, 64)
	var tbuf [8]byte
	inflight := 0
	end := d + 2*time.Second // answers still out after this are errors
	for next < total || inflight > 0 {
		now := mono() - start
		if now > end {
			res.Errors += int64(inflight)
			break
		}
		n, err := unix.EpollWait(ep, events, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return res, fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == tfd {
				_, _ = unix.Read(tfd, tbuf[:])
				now = mono() - start
				for next < total && time.Duration(next)*interval <= now {
					planned := time.Duration(next) * interval
					next++
					res.Planned++
					if now-planned > time.Second {
						res.Dropped++
						continue
					}
					if now-planned > benchkit.LateAfter {
						res.Late++
					}
					if len(free) == 0 {
						if len(conns) >= maxConns {
							res.Dropped++
							continue
						}
						c, err := dial()
						if err != nil {
							res.Errors++
							continue
						}
						free = append(free, c)
					}
					c := free[len(free)-1]
					free = free[:len(free)-1]
					if _, err := unix.Write(c.fd, req); err != nil {
						res.Errors++
						continue
					}
					c.busy, c.planned, c.buf = true, planned, c.buf[:0]
					res.Sent++
					inflight++
				}
				if next < total {
					arm(time.Duration(next) * interval)
				}
				continue
			}
			c := conns[ev.Fd]
			if c == nil || !c.busy {
				continue
			}
			for {
				if len(c.buf) == cap(c.buf) {
					c.buf = append(c.buf, 0)[:len(c.buf)]
				}
				m, err := unix.Read(c.fd, c.buf[len(c.buf):cap(c.buf)])
				if m > 0 {
					c.buf = c.buf[:len(c.buf)+m]
					continue
				}
				if errors.Is(err, unix.EAGAIN) {
					break
				}
				res.Errors++ // closed or failed: this prototype does not redial a busy connection
				c.busy = false
				inflight--
				break
			}
			if !c.busy {
				continue
			}
			if done, ok := complete(c.buf); done {
				lat := mono() - start - c.planned
				_ = h.RecordValue(max(1, lat.Microseconds()))
				if !ok {
					res.Errors++
				}
				res.Done++
				c.busy = false
				inflight--
				free = append(free, c)
			}
		}
	}
	res.P50 = time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
	res.P99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	res.Max = time.Duration(h.Max()) * time.Microsecond
	return res, nil
}

// complete says whether buf holds a whole answer framed by Content-Length, and whether its status was 200.
func complete(buf []byte) (done, ok bool) {
	head := bytes.Index(buf, []byte("\r\n\r\n"))
	if head < 0 {
		return false, false
	}
	const cl = "\r\nContent-Length: "
	i := bytes.Index(buf[:head+2], []byte(cl))
	if i < 0 {
		return true, false // not framed the way this prototype reads: counted as an error
	}
	j := bytes.IndexByte(buf[i+len(cl):], '\r')
	n, err := strconv.Atoi(string(buf[i+len(cl) : i+len(cl)+j]))
	if err != nil || len(buf) < head+4+n {
		return err != nil, false
	}
	return true, bytes.HasPrefix(buf, []byte("HTTP/1.1 200 "))
}

// mono is CLOCK_MONOTONIC, the timerfd's clock.
func mono() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}
