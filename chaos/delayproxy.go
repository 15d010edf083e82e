package chaos

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// delayProxy is a TCP proxy that holds every chunk of data for delay ± jitter before writing it on, in
// both directions. Chunks are pipelined (each is due at arrival + delay), so the delay adds latency
// without cutting throughput, as Toxiproxy's latency toxic does.
type delayProxy struct {
	l             net.Listener
	upstream      string
	delay, jitter atomic.Int64   // time.Duration; Drain sets both to 0
	rand          func() float64 // in [0, 1): the run's seeded source

	mu     sync.Mutex
	closed bool
	links  map[*link]struct{}
	wg     sync.WaitGroup
}

// link is one proxied connection: the client's side, the upstream's, and whether data is moving on it.
type link struct {
	in, out net.Conn
	pending atomic.Int64 // chunks read and not yet written on, both directions
	last    atomic.Int64 // when a chunk was last read or written, either direction (unix ns)
}

func (k *link) close() {
	_ = k.in.Close()
	_ = k.out.Close()
}

func startDelayProxy(listen, upstream string, delay, jitter time.Duration, rand func() float64) (*delayProxy, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &delayProxy{l: l, upstream: upstream, rand: rand, links: map[*link]struct{}{}}
	p.delay.Store(int64(delay))
	p.jitter.Store(int64(jitter))
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *delayProxy) Addr() string { return p.l.Addr().String() }

// Close stops accepting, closes every connection and waits for the goroutines.
func (p *delayProxy) Close() {
	_ = p.l.Close()
	p.mu.Lock()
	p.closed = true
	for k := range p.links {
		k.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Drain ends the proxy without cutting a request in flight, where Close would: from now on it passes
// data on at once and accepts no new connection, and it closes each connection once nothing has moved on
// it for quiet (a client's pool then drops the connection before its next use, as it drops one its server
// closed), the rest after timeout. It returns, closed, once every connection is, with how many were
// still busy at the timeout.
func (p *delayProxy) Drain(quiet, timeout time.Duration) (busy int) {
	p.delay.Store(0)
	p.jitter.Store(0)
	_ = p.l.Close()
	tick := time.NewTicker(max(quiet/4, time.Millisecond))
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for k := range p.links {
			if k.pending.Load() == 0 && time.Since(time.Unix(0, k.last.Load())) >= quiet {
				k.close()
				delete(p.links, k)
			}
		}
		busy = len(p.links)
		p.mu.Unlock()
		if busy == 0 {
			break
		}
		<-tick.C
	}
	p.Close()
	return busy
}

// track adds or removes a live connection; it refuses (false) to add one after Close.
func (p *delayProxy) track(k *link, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.links, k)
		return true
	}
	if p.closed {
		return false
	}
	p.links[k] = struct{}{}
	return true
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			out, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
			if err != nil {
				_ = in.Close()
				return
			}
			k := &link{in: in, out: out}
			k.last.Store(time.Now().UnixNano())
			if !p.track(k, true) {
				k.close()
				return
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); p.pipe(k, out, in) }()
			go func() { defer wg.Done(); p.pipe(k, in, out) }()
			wg.Wait()
			p.track(k, false)
			k.close()
		}()
	}
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk no earlier than its arrival plus the delay.
func (p *delayProxy) pipe(k *link, dst, src net.Conn) {
	ch := make(chan chunk, 64)
	go func() {
		defer close(ch)
		// One read buffer, and a chunk of the size read: a Redis command or reply is a few hundred bytes,
		// and the proxy runs in the harness' process, beside the load.
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				now := time.Now()
				k.pending.Add(1)
				k.last.Store(now.UnixNano())
				d := time.Duration(p.delay.Load())
				if j := time.Duration(p.jitter.Load()); j > 0 {
					d += time.Duration((2*p.rand() - 1) * float64(j))
				}
				ch <- chunk{append([]byte(nil), buf[:n]...), now.Add(max(d, 0))}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		_, err := dst.Write(c.data)
		k.last.Store(time.Now().UnixNano())
		k.pending.Add(-1)
		if err != nil {
			break
		}
	}
	// Half-close so that the other side sees EOF after the last delayed chunk.
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = dst.Close()
	}
	for range ch { // drain so that the reader goroutine can exit
	}
}
