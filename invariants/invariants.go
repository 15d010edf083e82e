// Package invariants reads a scenario's declared invariants back through the service's own API, once the
// load is over and the faults are reverted, and answers the checks' questions from what it read (a
// results.Truth): how many times each acknowledged, refused or unknown write of a set is there, and what
// each counter holds. The checks then judge the ledger against it as they judge the reference API's Redis:
// a write seen twice is a duplicate, an acknowledged one not seen is lost, a counter below its
// acknowledged increments lost some. An outcome the client never learnt is kept apart, as Jepsen keeps an
// :info apart from a :fail.
//
// The reads must survive what the run did to the service: each is retried as an op would be, and when a
// client's session is refused it runs that client's login steps again first (a lost session must not make
// the data unreadable, nor hide a lost write). A read that still fails leaves what needed it not checked,
// with the reason; never a 0.
package invariants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"golang.org/x/sync/errgroup"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
)

// Defaults for Read.
const (
	// DefaultWait bounds one read (a page, a counter) with its retries and new sessions: past NGINX's
	// fail_timeout of 10 s, for a node the faults took out of the balancer.
	DefaultWait = 15 * time.Second
	// parallel bounds the reads in flight: gentle on a service that just went through faults.
	parallel = 8
	// maxPages bounds one paginated read, so that a service whose cursor never ends cannot hold the
	// check forever.
	maxPages = 10000
	// Retries back off from firstWait, doubling up to maxWait.
	firstWait = 100 * time.Millisecond
	maxWait   = 2 * time.Second
)

// Variables the harness gives a paginated read's request (names a scenario cannot declare: they hold a dot).
const (
	varCursor = "next.cursor"
	varLink   = "next.link"
)

var (
	cursorTmpl = flow.MustCompile("{{" + varCursor + "}}")
	linkTmpl   = flow.MustCompile("{{" + varLink + "}}")
)

// Option configures Read.
type Option func(*reader)

// WithHTTPClient replaces the HTTP client (default: 10 s per request).
func WithHTTPClient(c *http.Client) Option { return func(r *reader) { r.http = c } }

// WithWait bounds each read with its retries (default DefaultWait).
func WithWait(d time.Duration) Option { return func(r *reader) { r.wait = d } }

// Config is what Read reads: the scenario's client section (its login steps and session), its invariants,
// and where the service is.
type Config struct {
	Base       string
	Client     *flow.Client
	Invariants []flow.Invariant
	Seed       uint64
	// RetryStatuses are retried besides 5xx and 429: the scenario's retry.on.statuses (a 409 "still in
	// progress"), so that the reads retry as the ops do.
	RetryStatuses []int
}

type reader struct {
	cfg  Config
	http *http.Client
	wait time.Duration
}

// Truth is what the service showed through its API, for results.CheckLedger.
type Truth struct {
	// byKey counts each element the set reads returned, over every set and client.
	byKey map[string]int64
	// values holds each counter's value (less its start) by ledger id (counter/key).
	values map[string]int64
	// setErr and counterErr say why a question cannot be answered (wrapping results.ErrUnanswerable).
	setErr, counterErr error
	// Reads says, per invariant, what was read (the run's log, Arch.Invariants).
	Reads []results.InvariantRead
}

var (
	_ results.Truth       = (*Truth)(nil)
	_ results.OrderLister = (*Truth)(nil)
)

// Read reads every invariant of cfg through the API, as the ledger's clients. It fails only on a
// cancelled context; an invariant that cannot be read gives a Truth that says so.
func Read(ctx context.Context, cfg Config, ledger load.LedgerSnapshot, opts ...Option) (*Truth, error) {
	r := &reader{cfg: cfg, http: &http.Client{Timeout: 10 * time.Second}, wait: DefaultWait}
	for _, o := range opts {
		o(r)
	}
	t := &Truth{byKey: map[string]int64{}, values: map[string]int64{}}
	clients := r.clients(ledger.Clients)
	hasSet, hasCounter := false, false
	for _, in := range cfg.Invariants {
		var sum readSum
		kind := "set"
		switch {
		case in.Set != "":
			hasSet = true
			sum = r.readSet(ctx, in, clients, t)
			if sum.err != nil && t.setErr == nil {
				t.setErr = fmt.Errorf("%w: invariant %s: %w", results.ErrUnanswerable, in.Name, sum.err)
			}
		case in.Counter != "":
			kind, hasCounter = "counter", true
			sum = r.readCounter(ctx, in, clients, ledger.Resources, t)
			if sum.err != nil && t.counterErr == nil {
				t.counterErr = fmt.Errorf("%w: invariant %s: %w", results.ErrUnanswerable, in.Name, sum.err)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rd := results.InvariantRead{Name: in.Name, Kind: kind, Values: sum.values, Requests: sum.requests}
		if sum.err != nil {
			rd.Error = sum.err.Error()
		}
		t.Reads = append(t.Reads, rd)
	}
	if !hasSet {
		t.setErr = fmt.Errorf("%w: the scenario declares no set invariant", results.ErrUnanswerable)
	}
	if !hasCounter {
		t.counterErr = fmt.Errorf("%w: the scenario declares no counter invariant", results.ErrUnanswerable)
	}
	return t, nil
}

// client is one declared client as the ledger kept it, with a lock for its variables (a new session
// replaces them).
type client struct {
	id   int
	mu   sync.Mutex
	vars flow.Vars
	gen  int // bumped by every new session
}

// clients are the ledger's clients whose setup held, by id.
func (r *reader) clients(entries []load.ClientEntry) []*client {
	var out []*client
	for _, e := range entries {
		if e.SetupError != "" {
			continue
		}
		vars := make(flow.Vars, len(e.Vars))
		for name, raw := range e.Vars {
			vars[name] = valueOf(raw)
		}
		out = append(out, &client{id: e.ID, vars: vars})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// valueOf is a variable back from its JSON: a string as text, anything else as raw JSON (as a capture
// keeps a number).
func valueOf(raw json.RawMessage) flow.Value {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return flow.String(s)
	}
	return flow.JSON(string(raw))
}

// readSum is what one invariant's read did: the values it returned, the requests it took, why it failed.
type readSum struct {
	values, requests int
	err              error
}

// readSet reads a set invariant: once per client (PerClient) or once, pooling the elements.
func (r *reader) readSet(ctx context.Context, in flow.Invariant, clients []*client, t *Truth) readSum {
	var sum readSum
	if len(clients) == 0 {
		sum.err = errors.New("no client finished its setup: nobody to read as")
		return sum
	}
	as := clients[:1]
	if in.PerClient {
		as = clients
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, c := range as {
		g.Go(func() error {
			elems, n, err := r.pages(gctx, in, c)
			mu.Lock()
			defer mu.Unlock()
			sum.requests += n
			if err != nil {
				return fmt.Errorf("as client %d: %w", c.id, err)
			}
			for _, e := range elems {
				t.byKey[e]++
			}
			sum.values += len(elems)
			return nil
		})
	}
	sum.err = g.Wait()
	return sum
}

// pages reads every page of a set as c, and returns the elements and the requests it took.
func (r *reader) pages(ctx context.Context, in flow.Invariant, c *client) ([]string, int, error) {
	var elems []string
	requests := 0
	step := in.Read
	extra := flow.Vars{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, requests, fmt.Errorf("still paging after %d pages", maxPages)
		}
		resp, n, err := r.get(ctx, step, c, extra)
		requests += n
		if err != nil {
			return nil, requests, pageErr(page, err)
		}
		res, ok := in.Elements.Get(resp.Body)
		if !ok || !res.IsArray() {
			return nil, requests, pageErr(page, fmt.Errorf("elements %s: no JSON array in the answer (%s)", in.Elements, flow.Excerpt(resp.Body)))
		}
		for _, e := range res.Array() {
			if e.Type == gjson.String {
				elems = append(elems, e.Str)
			} else {
				elems = append(elems, e.Raw)
			}
		}
		if in.Next == nil {
			return elems, requests, nil
		}
		nx, ok := in.Next.Path.Get(resp.Body)
		if !ok || nx.Type == gjson.Null || nx.String() == "" {
			return elems, requests, nil
		}
		step = in.Read
		if in.Next.Link {
			link, err := sameHostPath(r.cfg.Base, nx.String())
			if err != nil {
				return nil, requests, pageErr(page, err)
			}
			step.Path, step.Query = linkTmpl, nil
			extra[varLink] = flow.String(link)
		} else {
			step.Query = append(slices.Clip(in.Read.Query), flow.Named{Name: in.Next.Query, Tmpl: cursorTmpl})
			extra[varCursor] = flow.String(nx.String())
		}
	}
}

func pageErr(page int, err error) error {
	if page == 0 {
		return err
	}
	return fmt.Errorf("page %d: %w", page+1, err)
}

// sameHostPath is a next-page link as a path under base (what a step's path is): the link's path and
// query, less base's own path (a target at http://host/api: /api/items?page=2 is /items?page=2); a URL on
// another host, or a path outside base's, is refused (reads go only where the load went).
func sameHostPath(base, link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("next link %q: %w", link, err)
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("target %q: %w", base, err)
	}
	if u.Host != "" && u.Host != b.Host {
		return "", fmt.Errorf("next link %q leaves the target %s", link, b.Host)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("next link %q: want a path from the root (/...) or a URL on %s", link, b.Host)
	}
	p := u.RequestURI()
	if prefix := strings.TrimRight(b.EscapedPath(), "/"); prefix != "" {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
			return "", fmt.Errorf("next link %q is outside the target %s", link, base)
		}
		p = rest
	}
	return p, nil
}

// readCounter reads every counter key the ledger recorded for the invariant, as the first client.
func (r *reader) readCounter(ctx context.Context, in flow.Invariant, clients []*client, res []load.ResourceEntry, t *Truth) readSum {
	var sum readSum
	var keys []load.ResourceEntry
	for _, e := range res {
		if e.Counter == in.Counter {
			keys = append(keys, e)
		}
	}
	if len(keys) == 0 {
		return sum
	}
	if len(clients) == 0 {
		sum.err = errors.New("no client finished its setup: nobody to read as")
		return sum
	}
	c := clients[0]
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, e := range keys {
		g.Go(func() error {
			resp, n, err := r.get(gctx, in.Read, c, flow.Vars{flow.VarKey: flow.String(e.Key)})
			mu.Lock()
			defer mu.Unlock()
			sum.requests += n
			if err != nil {
				return fmt.Errorf("key %s: %w", e.Key, err)
			}
			v, ok := in.Value.Get(resp.Body)
			if !ok || v.Type != gjson.Number || v.Num != float64(v.Int()) {
				return fmt.Errorf("key %s: value %s: no integer in the answer (%s)", e.Key, in.Value, flow.Excerpt(resp.Body))
			}
			t.values[e.ID] = v.Int() - in.Start
			sum.values++
			return nil
		})
	}
	sum.err = g.Wait()
	return sum
}
