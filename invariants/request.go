package invariants

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/flowrun"
	"github.com/chaosbench/chaosbench/results"
)

// Sending one read: retried within the reader's wait, as the client's session, renewed when refused.

// get sends step as c (its variables under extra) until an answer its expect accepts, within r.wait:
// a refused session is renewed with c's login steps, a transport error, a 5xx or a 429 retried after a
// backoff. It returns the answer and the requests it took.
func (r *reader) get(ctx context.Context, step flow.Step, c *client, extra flow.Vars) (*flow.Response, int, error) {
	deadline := time.Now().Add(r.wait)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	wait := firstWait
	requests := 0
	renewed := false // a new session was made in this get: a refusal of it is retried after a backoff
	var last error
	for {
		c.mu.Lock()
		vars, gen := c.vars, c.gen
		c.mu.Unlock()
		env := flow.Env{Scope: layered{extra, vars}, Rand: rand.New(rand.NewPCG(r.cfg.Seed, uint64(c.id)))}
		resp, err := flowrun.Send(ctx, r.http, r.cfg.Base, step, &env)
		requests++
		switch {
		case err != nil && errors.Is(err, flowrun.ErrRender):
			return nil, requests, err // the same each time
		case err != nil:
			last = err
		case r.refused(resp.Status):
			last = fmt.Errorf("status %d: the session is refused", resp.Status)
			if lerr := r.login(ctx, c, gen); lerr != nil {
				last = fmt.Errorf("%w; a new session: %w", last, lerr)
			} else if !renewed {
				renewed = true
				continue // a fresh session: read again at once (once: a service that refuses every new one is not hammered)
			}
		case step.Expect.Check(resp) == nil:
			return resp, requests, nil
		case resp.Status >= 500 || resp.Status == http.StatusTooManyRequests || slices.Contains(r.cfg.RetryStatuses, resp.Status):
			last = fmt.Errorf("status %d", resp.Status)
		default:
			return nil, requests, fmt.Errorf("%w (%s)", step.Expect.Check(resp), flow.Excerpt(resp.Body))
		}
		if time.Now().Add(wait).After(deadline) || ctx.Err() != nil {
			if ctx.Err() != nil && ctx.Err() != context.DeadlineExceeded {
				return nil, requests, ctx.Err()
			}
			return nil, requests, fmt.Errorf("%s %s: still failing after %d requests in %s: %w", step.Method, step.Path, requests, r.wait, last)
		}
		time.Sleep(wait)
		wait = min(2*wait, maxWait)
	}
}

// refused: status means the session is unknown (the scenario's session.unknown).
func (r *reader) refused(status int) bool {
	s := r.cfg.Client.Session
	return s != nil && len(s.Login) > 0 && slices.Contains(s.Unknown, status)
}

// login runs c's login steps again, unless another read did since generation gen.
func (r *reader) login(ctx context.Context, c *client, gen int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	vars := make(flow.Vars, len(c.vars))
	for k, v := range c.vars {
		vars[k] = v
	}
	env := flow.Env{Scope: vars, Rand: rand.New(rand.NewPCG(r.cfg.Seed, uint64(c.id)<<20|uint64(gen+1)))}
	for _, i := range r.cfg.Client.Session.Login {
		s := r.cfg.Client.Setup[i]
		resp, err := flowrun.Send(ctx, r.http, r.cfg.Base, s, &env)
		if err != nil {
			return fmt.Errorf("setup step %d: %w", i, err)
		}
		if m, cerr := s.Accept(resp, vars); m != nil {
			return fmt.Errorf("setup step %d: %w", i, m)
		} else if cerr != nil {
			return fmt.Errorf("setup step %d: %w", i, cerr)
		}
	}
	c.vars, c.gen = vars, c.gen+1
	return nil
}

// layered looks a name up in first, then in the client's variables.
type layered struct{ first, rest flow.Vars }

func (l layered) Lookup(name string) (flow.Value, bool) {
	if v, ok := l.first[name]; ok {
		return v, true
	}
	return l.rest.Lookup(name)
}

// Refuses says which facts the invariants cannot answer at all (results.FactRefuser).
func (t *Truth) Refuses(f results.Fact) error {
	switch f {
	case results.StoredOrders, results.StoredRequestIDs:
		return t.setErr
	case results.ResourceValues:
		return t.counterErr
	}
	return nil
}

// OrdersByKey counts, for each key, the elements the set reads returned with it.
func (t *Truth) OrdersByKey(_ context.Context, keys []string) ([]int64, error) {
	if t.setErr != nil {
		return nil, t.setErr
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = t.byKey[k]
	}
	return out, nil
}

// OrdersByRequestID is unanswerable: a set's elements are the ops' idempotency keys.
func (t *Truth) OrdersByRequestID(context.Context, []string) ([]int64, error) {
	return nil, fmt.Errorf("%w: a declared set holds the ops' keys, not request ids", results.ErrUnanswerable)
}

// StoredRequestIDs lists every element the set reads returned, for the unexpected check (the checker
// knows the ledger's keys as attempted).
func (t *Truth) StoredRequestIDs(context.Context) ([]string, error) {
	if t.setErr != nil {
		return nil, t.setErr
	}
	out := make([]string, 0, len(t.byKey))
	for k := range t.byKey {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// ResourceValues answers each counter's value, less its declared start.
func (t *Truth) ResourceValues(_ context.Context, ids []string) ([]int64, error) {
	if t.counterErr != nil {
		return nil, t.counterErr
	}
	out := make([]int64, len(ids))
	for i, id := range ids {
		v, ok := t.values[id]
		if !ok {
			return nil, fmt.Errorf("%w: counter %s was not read", results.ErrUnanswerable, id)
		}
		out[i] = v
	}
	return out, nil
}
