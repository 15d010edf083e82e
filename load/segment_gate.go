package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
)

// The start gate: the workers of one run start on one instant that the coordinator decides once every
// one of them has set up its clients (a barrier), instead of an instant guessed before their containers
// even started. A guess has to cover container start, clock measurement and the clients' sign-ups and
// logins (bcrypt on the service) on a machine whose load nobody knows: too short and a worker misses it
// and the run fails, too long and every run waits for nothing. The gate waits exactly as long as setup
// takes, then gives every worker the same instant, GateLead ahead, so that each has it before it comes.

// GateLead is how far ahead of the last worker's arrival the shared start instant lies: every worker's
// answer is on its way at once, and a few milliseconds on a Docker network is all it takes to arrive.
const GateLead = 500 * time.Millisecond

// Gate is the coordinator's side: it counts the workers that are ready (ServeHTTP, one request each,
// held open until all are in) and decides the start instant when the last one arrives.
type Gate struct {
	n     int
	mu    sync.Mutex
	ready map[string]bool
	at    time.Time
	open  chan struct{}
}

// NewGate waits for n workers.
func NewGate(n int) *Gate {
	return &Gate{n: n, ready: map[string]bool{}, open: make(chan struct{})}
}

// ServeHTTP takes a worker's POST (its segment in the body, e.g. "1/3"), holds it until every worker is
// ready, and answers the start instant (RFC 3339 with nanoseconds). A worker asking again (a retried
// request) counts once.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST your segment when set up", http.StatusMethodNotAllowed)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64))
	if err != nil || len(b) == 0 {
		http.Error(w, "want the worker's segment, e.g. 0/3", http.StatusBadRequest)
		return
	}
	g.arrive(strings.TrimSpace(string(b)))
	select {
	case <-g.open:
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, g.at.UTC().Format(time.RFC3339Nano))
	case <-r.Context().Done():
	}
}

func (g *Gate) arrive(segment string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready[segment] || len(g.ready) >= g.n {
		return
	}
	g.ready[segment] = true
	if len(g.ready) == g.n {
		g.at = time.Now().Add(GateLead)
		close(g.open)
	}
}

// Wait returns the start instant once every worker is ready, or an error naming who was not when ctx
// ends first.
func (g *Gate) Wait(ctx context.Context) (time.Time, error) {
	select {
	case <-g.open:
		return g.at, nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		return time.Time{}, fmt.Errorf("start gate: %d of %d workers ready (%w)", len(g.ready), g.n, context.Cause(ctx))
	}
}

// AskGate is the worker's side (Config.StartGate): once set up, it tells the gate at url that segment is
// ready and waits for the start instant. A request that gets no answer (a reset, the coordinator busy) is
// asked again a few times: the gate counts a segment once.
func AskGate(url string, segment Segment) func(context.Context) (time.Time, error) {
	return func(ctx context.Context) (time.Time, error) {
		c := &http.Client{Transport: &http.Transport{Proxy: nil}} // no timeout: the answer comes when all are ready
		defer c.CloseIdleConnections()
		var last error
		for try := range 5 {
			if try > 0 && !poll.Sleep(ctx, time.Duration(try)*200*time.Millisecond) {
				break
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(segment.String()))
			if err != nil {
				return time.Time{}, fmt.Errorf("start gate %s: %w", url, err)
			}
			resp, err := c.Do(req)
			if err != nil {
				last = err
				continue
			}
			b, err := io.ReadAll(io.LimitReader(resp.Body, 128))
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				last = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
			if err != nil {
				return time.Time{}, fmt.Errorf("start gate %s: answered %q: %w", url, b, err)
			}
			return at, nil
		}
		if ctx.Err() != nil {
			last = context.Cause(ctx)
		}
		return time.Time{}, fmt.Errorf("start gate %s: %w", url, last)
	}
}
