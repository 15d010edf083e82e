// Package dashboard serves a run's live page: `chaosbench run --dashboard`. The run itself serves it
// (no network beyond the listener, everything embedded): per architecture the counts, errors by kind,
// the containers and which one a fault holds, and the latency and throughput charts with the faults as
// bands, re-rendered each second by the very functions that draw report.html (render.TimeCharts) and
// pushed to the browser over Server-Sent Events; at the end the verdict (render.Verdict) and a link to
// the report. A suite shows which scenario runs and the verdicts so far.
//
// The Server is a runner.Observer: the run tells it what happens and never waits on it. It renders only
// while someone watches, once a second, and a viewer that reads slowly gets the latest page, never a
// queue; a viewer that leaves changes nothing for the run.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Server is a run's live dashboard.
type Server struct {
	ln    net.Listener
	http  *http.Server
	log   io.Writer
	every time.Duration

	mu      sync.Mutex
	st      state
	changed bool   // st changed since the last render
	page    []byte // the last render of the page's live part
	viewers map[*viewer]struct{}
	stop    chan struct{}
	done    chan struct{}
}

// viewer is one open page's event stream: a mailbox of one, the latest render (a slow reader skips
// the renders it missed instead of holding the run up).
type viewer struct {
	addr string
	box  chan []byte
}

// Option configures a Server.
type Option func(*Server)

// WithLog writes the dashboard's few lines (a viewer leaving) to w.
func WithLog(w io.Writer) Option { return func(s *Server) { s.log = w } }

// WithPublic allows an address that is not loopback: the page then shows the run to whoever reaches it.
func WithPublic() Option { return func(s *Server) { s.st.public = true } }

// Listen binds addr (host:port; port 0 picks a free one) and starts serving. It refuses an address that
// is not loopback unless WithPublic, and says so; a port in use is an error here, before the run starts
// anything.
func Listen(addr string, opts ...Option) (*Server, error) {
	s := &Server{log: io.Discard, every: time.Second, viewers: map[*viewer]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if err := checkAddr(addr, s.st.public); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s: %w (another process holds the port? choose another, or port 0 for any free one)", addr, err)
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /events", s.serveEvents)
	mux.HandleFunc("GET /report", s.serveReport)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	go s.loop()
	return s, nil
}

// checkAddr refuses an address that would serve the page beyond this machine, unless public.
func checkAddr(addr string, public bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dashboard: address %q: %w (want HOST:PORT, e.g. 127.0.0.1:8080)", addr, err)
	}
	if public || host == "localhost" {
		return nil
	}
	ip, perr := netip.ParseAddr(host)
	if perr == nil && ip.IsLoopback() {
		return nil
	}
	where := host
	if host == "" {
		where = "every interface"
	}
	return fmt.Errorf("dashboard: address %s is not loopback (it listens on %s): the page would show this run to whoever reaches it; use 127.0.0.1:PORT, or add --dashboard-public to serve it there on purpose", addr, where)
}

// URL is the page's address.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// loop renders and pushes the page once a second while someone watches.
func (s *Server) loop() {
	defer close(s.done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.push(false)
		}
	}
}

// push renders the page if it changed (or force) and there are viewers, and hands it to each.
func (s *Server) push(force bool) {
	s.mu.Lock()
	if len(s.viewers) == 0 || (!s.changed && !force) {
		s.mu.Unlock()
		return
	}
	snap := s.st.snapshot()
	s.changed = false
	s.mu.Unlock()
	page := renderBody(snap, time.Now())
	s.mu.Lock()
	s.page = page
	for v := range s.viewers {
		post(v.box, page)
	}
	s.mu.Unlock()
}

// post puts msg in a mailbox of one, replacing what the reader has not taken yet.
func post(box chan []byte, msg []byte) {
	for {
		select {
		case box <- msg:
			return
		default:
			select {
			case <-box:
			default:
			}
		}
	}
}

// current is the page's live part as of now (rendered afresh when it changed since the last push).
func (s *Server) current() []byte {
	s.mu.Lock()
	if s.page != nil && !s.changed {
		defer s.mu.Unlock()
		return s.page
	}
	snap := s.st.snapshot()
	s.mu.Unlock()
	return renderBody(snap, time.Now())
}

func (s *Server) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTmpl.Execute(w, pageData{Body: string(s.current())}); err != nil {
		fmt.Fprintf(s.log, "chaosbench: dashboard: %v\n", err)
	}
}

// serveEvents streams the page's live part: the whole of it now (a reload mid-run gets the history so
// far), then each second's render, then "end" when the run is over.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	v := &viewer{addr: r.RemoteAddr, box: make(chan []byte, 1)}
	post(v.box, s.current())
	s.mu.Lock()
	s.viewers[v] = struct{}{}
	s.mu.Unlock()
	left := func(why string) {
		s.mu.Lock()
		delete(s.viewers, v)
		n := len(s.viewers)
		s.mu.Unlock()
		if why != "" {
			fmt.Fprintf(s.log, "chaosbench: dashboard: viewer %s %s; the run goes on (%d watching)\n", v.addr, why, n)
		}
	}
	for {
		select {
		case <-r.Context().Done():
			left("left")
			return
		case <-s.stop:
			select { // the final page, if this viewer has not taken it yet
			case page := <-v.box:
				_ = writeEvent(w, "update", page)
			default:
			}
			_ = writeEvent(w, "end", []byte("the run is over"))
			fl.Flush()
			left("")
			return
		case page := <-v.box:
			if err := writeEvent(w, "update", page); err != nil {
				left(fmt.Sprintf("left (%v)", err))
				return
			}
			fl.Flush()
		}
	}
}

// writeEvent writes one SSE event: every line of data as its own data: line.
func writeEvent(w io.Writer, name string, data []byte) error {
	var b strings.Builder
	fmt.Fprintf(&b, "event: %s\n", name)
	for line := range strings.SplitSeq(string(data), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// serveReport serves the run's report.html once it is written.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	path := s.st.report
	s.mu.Unlock()
	if path == "" {
		http.Error(w, "the report is written at the end of the run", http.StatusNotFound)
		return
	}
	http.ServeFile(w, r, path)
}

// Close pushes the final page to every viewer with the "end" event, then stops serving (waiting up to
// ctx for the viewers to get it).
func (s *Server) Close(ctx context.Context) error {
	s.push(true)
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	return err
}
