package runner

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// edgeWatch measures what the edge costs during the load when the architecture asks (arch.Edge.Measure):
// NGINX's accepted and open client connections (stub_status, read once per second from the load's start),
// and at the end the TIME_WAIT sockets on both sides. Every read is a connection of its own: the counts
// leave them out.
type edgeWatch struct {
	st     *stack.Stack
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// Written by the sampling goroutine, read after done.
	ok      bool // the first read succeeded
	first   stack.NginxStatus
	samples int64 // reads after the first
	active  int64 // peak of Active, less the reading connection
}

// startEdgeWatch returns nil (nothing measured) unless the architecture measures its edge.
func startEdgeWatch(ctx context.Context, st *stack.Stack, e arch.Edge) *edgeWatch {
	if !e.Measure || st.Attached() {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	return &edgeWatch{st: st, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// begin is a load.OnStart hook: the counts start with the measured load, after setup's sign-ups.
func (w *edgeWatch) begin(time.Time) {
	go func() {
		defer close(w.done)
		first, err := w.st.NginxStatus(w.ctx)
		if err != nil {
			return
		}
		w.ok, w.first = true, first
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-w.ctx.Done():
				return
			case <-t.C:
			}
			if s, err := w.st.NginxStatus(w.ctx); err == nil {
				w.samples++
				w.active = max(w.active, s.Active-1)
			}
		}
	}()
}

// stop ends the sampling and returns what was measured, or nil when nothing could be. Call it once the
// load has ended; started says whether begin ran (the load reached its start).
func (w *edgeWatch) stop(ctx context.Context, started bool) *results.EdgeStats {
	if w == nil {
		return nil
	}
	w.cancel()
	if !started {
		return nil
	}
	<-w.done
	// TIME_WAIT before the last status read, whose connection would add one. The once-a-second reads
	// (Connection: close) are in the TIME_WAIT counts: a few sockets at most.
	out := &results.EdgeStats{}
	if u, err := url.Parse(w.st.Entry); err == nil {
		port, _ := strconv.Atoi(u.Port())
		out.LoadTimeWait = hostTimeWait(port, false)
		out.PublishTimeWait = hostTimeWait(port, true)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if n, err := w.st.TimeWait(cctx); err == nil {
		out.NginxTimeWait = &n
	}
	if !w.ok {
		return out
	}
	last, err := w.st.NginxStatus(cctx)
	if err != nil {
		return out
	}
	accepts, active := max(last.Accepts-w.first.Accepts-w.samples-1, 0), max(w.active, 0)
	out.NginxAccepts, out.NginxActiveMax = &accepts, &active
	return out
}

// hostTimeWait counts this host's sockets in TIME_WAIT towards port (the entry's host port; local false):
// the load side of the connections, as the load engine runs in this process's network namespace; or on
// port itself (local true): Docker's publishing end (docker-proxy).
func hostTimeWait(port int, local bool) int64 {
	var n int64
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n += stack.CountTimeWait(string(b), port, local)
	}
	return n
}
