// Package blackbox reads ground truth through the service's own HTTP contract (docs/contract.md) instead of
// its storage, so that the checks work on any service under test, whatever it stores its state in.
//
// After the load and a settle period, Read logs in as every user the ledger placed orders for, lists each
// one's orders (GET /v1/orders) and reads every resource the ledger updated (GET /v1/resources/{id}). The
// checks then classify writes as Jepsen's total-queue checker does: acknowledged and never observed is lost,
// observed more often than attempted is duplicated, indeterminate and observed is recovered, and an order
// observed that the harness never attempted is unexpected. What the service cannot answer (no order listing,
// no resources) makes the checks that need it "not checked", never 0.
package blackbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
)

// Defaults for Read.
const (
	// DefaultSettle is how long Read waits after the load before reading: answers the clients gave up on
	// may still be committing.
	DefaultSettle = 2 * time.Second
	// parallel bounds the logins and listings in flight: gentle on a service that just went through faults.
	parallel = 8
	// listCap is where a listing may have been cut short: the reference API lists the newest 1000 orders.
	listCap = 1000
	// DefaultSessionWait is how long Read logs a user in again while the service refuses the fresh
	// sessions (getAs): past NGINX's fail_timeout of 10 s (ours and its default), counted from a failure
	// that happened before the read began.
	DefaultSessionWait = 15 * time.Second
	// A refused session is replaced after firstRefusedWait, then after twice as long each time up to
	// maxRefusedWait: at most 10 tries per user in DefaultSessionWait, each a login (a bcrypt check).
	firstRefusedWait = 250 * time.Millisecond
	maxRefusedWait   = 2 * time.Second
)

// Option configures Read.
type Option func(*reader)

// WithSettle sets the wait before reading (default DefaultSettle).
func WithSettle(d time.Duration) Option { return func(r *reader) { r.settle = d } }

// WithSessionWait sets how long Read goes on logging a user in again while the service refuses each fresh
// session (default DefaultSessionWait); past it, what needed the session is not checked.
func WithSessionWait(d time.Duration) Option { return func(r *reader) { r.sessionWait = d } }

// WithHTTPClient replaces the HTTP client (default: 10 s per request).
func WithHTTPClient(c *http.Client) Option { return func(r *reader) { r.http = c } }

type reader struct {
	base, password string
	settle         time.Duration
	sessionWait    time.Duration
	http           *http.Client
	sessions       sessions
}

// Truth is what the service showed through its API. It implements results.Truth.
type Truth struct {
	byRequest map[string]int64 // request_id -> orders listed with it
	byKey     map[string]int64 // idempotency key -> orders, when the listing shows keys
	keysShown bool
	values    map[string]int64
	// ordersErr and valuesErr say why a question cannot be answered (wrapping results.ErrUnanswerable).
	ordersErr, valuesErr error
	// Unexpected are request ids observed that no order of the ledger carries, sorted.
	Unexpected []string
}

var (
	_ results.Truth       = (*Truth)(nil)
	_ results.OrderLister = (*Truth)(nil)
)

// Read reads the ground truth for ledger from the service at base. password is the virtual clients'
// (load.Config.Password). It fails only on a cancelled context; a service that cannot answer a question
// gives a Truth that says so.
func Read(ctx context.Context, base, password string, ledger load.LedgerSnapshot, opts ...Option) (*Truth, error) {
	r := &reader{base: base, password: password, settle: DefaultSettle, sessionWait: DefaultSessionWait,
		http: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(r)
	}
	select {
	case <-time.After(r.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	users := map[string]int{} // username -> orders the ledger placed for it
	attempted := map[string]bool{}
	if err := ledger.EachOrder(func(o load.OrderEntry) error {
		if o.Op != "" {
			return nil // a declared op's write: not an order of the contract's /v1/orders
		}
		if o.User != "" {
			users[o.User]++
		}
		attempted[o.RequestID] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the ledger's orders: %w", err)
	}
	t := &Truth{byRequest: map[string]int64{}, byKey: map[string]int64{}, values: map[string]int64{}}
	if len(users) > 0 {
		if err := r.readOrders(ctx, t, users); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			t.ordersErr = fmt.Errorf("%w: %v", results.ErrUnanswerable, err)
		}
	}
	for id := range t.byRequest {
		if !attempted[id] {
			t.Unexpected = append(t.Unexpected, id)
		}
	}
	sort.Strings(t.Unexpected)
	if len(ledger.Resources) > 0 {
		// Any client can read any resource: the first one that logged in.
		user := ""
		for _, s := range ledger.Sessions {
			if s.User != "" {
				user = s.User
				break
			}
		}
		if err := r.readResources(ctx, t, ledger.Resources, user); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			t.valuesErr = fmt.Errorf("%w: %v", results.ErrUnanswerable, err)
		}
	}
	return t, nil
}

// readOrders lists every user's orders.
func (r *reader) readOrders(ctx context.Context, t *Truth, users map[string]int) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for user, placed := range users {
		g.Go(func() error {
			var out struct {
				Orders *[]struct {
					RequestID      string `json:"request_id"`
					IdempotencyKey string `json:"idempotency_key"`
				} `json:"orders"`
			}
			if err := r.getAs(gctx, user, "/v1/orders", &out); err != nil {
				return err
			}
			if out.Orders == nil {
				return errors.New("GET /v1/orders: the answer has no \"orders\" list")
			}
			if len(*out.Orders) >= listCap && placed >= listCap {
				return fmt.Errorf("GET /v1/orders for %s listed %d orders: the list may be cut short", user, len(*out.Orders))
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range *out.Orders {
				t.byRequest[o.RequestID]++
				if o.IdempotencyKey != "" {
					t.byKey[o.IdempotencyKey]++
					t.keysShown = true
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// getAs GETs path into dst as user, with the session the reader holds for user (logging in the first
// time). When the session is refused (401), it logs in again after a wait, for as long as r.sessionWait: a
// design that keeps sessions in one node may refuse fresh sessions for a while after a fault. Sticky NGINX
// does: once a node failed (max_fails=1), it keeps that node out of its sid's route for fail_timeout (10 s),
// and the route's backup, which does not hold the session, answers 401, while logins already reach the
// node again. Tries at once would all fall in that window.
func (r *reader) getAs(ctx context.Context, user, path string, dst any) error {
	begin := time.Now()
	refused := 0 // the generation of the session last refused
	for wait := firstRefusedWait; ; wait = min(2*wait, maxRefusedWait) {
		auth, gen, err := r.sessions.auth(ctx, user, refused, r.login)
		if err != nil {
			return err
		}
		if err = r.get(ctx, path, auth, dst); err == nil || !errors.Is(err, errUnauthorized) {
			return err
		}
		refused = gen
		if time.Since(begin)+wait > r.sessionWait {
			return fmt.Errorf("%w (every session refused, logging in again for %s)", err,
				time.Since(begin).Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last try: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// sessions holds one credential per user, so that reading 20 resources as one user logs in once, not 20
// times: each login is a bcrypt check on the service, the costliest request of the contract.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

type session struct {
	mu   sync.Mutex // held across a login, so that concurrent readers of one user share it
	auth http.Header
	gen  int // counts logins: a reader refused with generation g asks for a newer one
}

// auth returns user's credential and its generation. refused is the generation the caller was refused
// with (0 for none): a credential that is no newer is replaced by a fresh login.
func (s *sessions) auth(ctx context.Context, user string, refused int, login func(context.Context, string) (http.Header, error)) (http.Header, int, error) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]*session{}
	}
	u := s.m[user]
	if u == nil {
		u = &session{}
		s.m[user] = u
	}
	s.mu.Unlock()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.auth != nil && u.gen > refused {
		return u.auth, u.gen, nil
	}
	auth, err := login(ctx, user)
	if err != nil {
		return nil, 0, err
	}
	u.auth = auth
	u.gen++
	return u.auth, u.gen, nil
}

var errUnauthorized = errors.New("401")

func (r *reader) readResources(ctx context.Context, t *Truth, res []load.ResourceEntry, user string) error {
	if user == "" {
		return errors.New("no user to read resources as")
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, e := range res {
		g.Go(func() error {
			var out struct {
				Value *int64 `json:"value"`
			}
			if err := r.getAs(gctx, user, "/v1/resources/"+e.ID, &out); err != nil {
				return err
			}
			if out.Value == nil {
				return fmt.Errorf("GET /v1/resources/%s: the answer has no value", e.ID)
			}
			mu.Lock()
			t.values[e.ID] = *out.Value
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// login returns the credential header for user.
func (r *reader) login(ctx context.Context, user string) (http.Header, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": r.password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v1/login", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, b, err := r.do(req)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	var a struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(b, &a)
	if a.AccessToken != "" {
		return http.Header{"Authorization": {"Bearer " + a.AccessToken}}, nil
	}
	for _, c := range res.Cookies() {
		if c.Name == "sid" {
			return http.Header{"Cookie": {"sid=" + c.Value}}, nil
		}
	}
	return nil, fmt.Errorf("login %s: neither access_token nor a sid cookie", user)
}

func (r *reader) get(ctx context.Context, path string, auth http.Header, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return err
	}
	for k, v := range auth {
		req.Header[k] = v
	}
	_, b, err := r.do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// do sends req with a few tries on 5xx and transport errors (the service may still be recovering from the
// last fault); any other non-2xx is final.
func (r *reader) do(req *http.Request) (res *http.Response, body []byte, err error) {
	err = poll.Retry(req.Context(), 5, 200*time.Millisecond, func(context.Context) (bool, error) {
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		rs, err := r.http.Do(req)
		if err != nil {
			return false, err
		}
		b, err := io.ReadAll(io.LimitReader(rs.Body, 64<<20))
		rs.Body.Close()
		switch {
		case err != nil:
			return false, err
		case rs.StatusCode >= 500:
			return false, fmt.Errorf("status %d", rs.StatusCode)
		case rs.StatusCode == http.StatusUnauthorized:
			return true, fmt.Errorf("%w %s", errUnauthorized, bytes.TrimSpace(b))
		case rs.StatusCode >= 300:
			return true, fmt.Errorf("status %d %s", rs.StatusCode, bytes.TrimSpace(b))
		}
		res, body = rs, b
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return res, body, nil
}

// OrdersByKey answers from the listing's idempotency keys, when the service shows them (optional in the
// contract).
func (t *Truth) OrdersByKey(_ context.Context, keys []string) ([]int64, error) {
	if t.ordersErr != nil {
		return nil, t.ordersErr
	}
	if !t.keysShown {
		return nil, fmt.Errorf("%w: GET /v1/orders shows no idempotency_key", results.ErrUnanswerable)
	}
	return lookup(t.byKey, keys), nil
}

// OrdersByRequestID answers from the listing's request ids.
func (t *Truth) OrdersByRequestID(_ context.Context, ids []string) ([]int64, error) {
	if t.ordersErr != nil {
		return nil, t.ordersErr
	}
	return lookup(t.byRequest, ids), nil
}

// StoredRequestIDs lists the request id of every order the users' listings showed.
func (t *Truth) StoredRequestIDs(context.Context) ([]string, error) {
	if t.ordersErr != nil {
		return nil, t.ordersErr
	}
	ids := make([]string, 0, len(t.byRequest))
	for id := range t.byRequest {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// ResourceValues answers the values read.
func (t *Truth) ResourceValues(_ context.Context, ids []string) ([]int64, error) {
	if t.valuesErr != nil {
		return nil, t.valuesErr
	}
	return lookup(t.values, ids), nil
}

func lookup(m map[string]int64, keys []string) []int64 {
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// String summarises what was read, for the run log.
func (t *Truth) String() string {
	s := strconv.Itoa(len(t.byRequest)) + " request ids listed, " + strconv.Itoa(len(t.values)) + " resources read"
	if t.ordersErr != nil {
		s += "; orders not checked: " + t.ordersErr.Error()
	}
	if t.valuesErr != nil {
		s += "; resources not checked: " + t.valuesErr.Error()
	}
	return s
}
