package chaos

import (
	"net"
	"sync"
	"time"
)

// delayProxy is a TCP proxy that holds every chunk of data for delay ± jitter before writing it on, in
// both directions. Chunks are pipelined (each is due at arrival + delay), so the delay adds latency
// without cutting throughput, as Toxiproxy's latency toxic does.
type delayProxy struct {
	l             net.Listener
	upstream      string
	delay, jitter time.Duration
	rand          func() float64 // in [0, 1): the run's seeded source

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startDelayProxy(listen, upstream string, delay, jitter time.Duration, rand func() float64) (*delayProxy, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &delayProxy{l: l, upstream: upstream, delay: delay, jitter: jitter, rand: rand,
		conns: map[net.Conn]struct{}{}}
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
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// track adds or removes a live connection; it refuses (false) to add one after Close.
func (p *delayProxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.conns, c)
		return true
	}
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
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
			if !p.track(in, true) || !p.track(out, true) {
				_ = in.Close()
				_ = out.Close()
				return
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); p.pipe(out, in) }()
			go func() { defer wg.Done(); p.pipe(in, out) }()
			wg.Wait()
			p.track(in, false)
			p.track(out, false)
			_ = in.Close()
			_ = out.Close()
		}()
	}
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk no earlier than its arrival plus the delay.
func (p *delayProxy) pipe(dst, src net.Conn) {
	ch := make(chan chunk, 64)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				d := p.delay
				if p.jitter > 0 {
					d += time.Duration((2*p.rand() - 1) * float64(p.jitter))
				}
				ch <- chunk{buf[:n], time.Now().Add(max(d, 0))}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
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
