package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/internal/poll"

	"golang.org/x/sync/errgroup"
)

// aliveMargin is subtracted from a session's expiry before the client calls
// a rejection "lost": the client stamps expiry on receipt, later than the
// server did, and a rejection near the edge is expiry, not loss.
const aliveMargin = time.Second

// Client is a virtual client: a user that signed up and holds a session
// (a bearer token in jwt mode, the sid cookie in cookie mode).
type Client struct {
	ID       int
	Username string
	// Placement is sent as PlacementHeader on sign-up and login: the seed and the client's number, so that
	// a balancer that places requests without a credential by it (chaosbench's sticky NGINX, with
	// split_clients) puts each client on the same node in every run of one seed, instead of at random.
	Placement string

	// vars are the client's declared variables and its setup's captures (Config.Client), written
	// during setup only; setupErr says why that setup failed.
	vars     flow.Vars
	setupErr error

	loginMu sync.Mutex // one login at a time per client

	mu        sync.RWMutex
	gen       uint64 // bumped by every login; requests compare it before renewing
	token     string
	cookie    string
	session   string
	expiresAt time.Time
	// refreshTok is the refresh token of the login's family when the service hands one out (refresh.go):
	// a 401 token_expired is then cured by a refresh, not a new login, and expiresAt is the session's
	// end (refresh_expires_in), not the access token's.
	refreshTok string
}

func (c *Client) state() (gen uint64, expired bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen, !c.expiresAt.IsZero() && time.Now().After(c.expiresAt)
}

// authorize adds the token or cookie and returns the session id it carries.
func (c *Client) authorize(req *http.Request) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else if c.cookie != "" {
		req.Header.Set("Cookie", "sid="+c.cookie)
	}
	return c.session
}

// authorizeWire is authorize for the wire client: it appends the header,
// unless the token or cookie could not go into one (ok false).
func (c *Client) authorizeWire(w *wire) (session string, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !validWire(c.token, false) || !validWire(c.cookie, false) {
		return c.session, false
	}
	if c.token != "" {
		w.req = append(w.req, "Authorization: Bearer "...)
		w.req = append(w.req, c.token...)
		w.req = append(w.req, "\r\n"...)
	} else if c.cookie != "" {
		w.req = append(w.req, "Cookie: sid="...)
		w.req = append(w.req, c.cookie...)
		w.req = append(w.req, "\r\n"...)
	}
	return c.session, true
}

// renew logs in again because session generation gen was refused (code) or
// expired. Concurrent requests of the same client that saw the same refusal
// wait for one login instead of each logging in.
func (c *Client) renew(ctx context.Context, e *engine, gen uint64, code string) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.RLock()
	cur, sid, exp := c.gen, c.session, c.expiresAt
	c.mu.RUnlock()
	if cur != gen {
		return nil // someone already logged in again
	}
	now := time.Now()
	if code == CodeTokenExpired && c.refreshTok != "" {
		refused, err := c.refresh(ctx, e, sid)
		if err != nil || refused == "" {
			return err // refreshed; or no answer, and the 401 stands until the next try
		}
		// The service refused the token the client was last given: the client is logged out. That is a
		// lost session when the session itself was alive: the client did nothing but present it.
		alive := exp.IsZero() || now.Before(exp.Add(-aliveMargin))
		e.ledger.sessionRefreshRefused(sid, alive)
		e.ledger.sessionEnded(sid, now, refused)
		return c.login(ctx, e, loginTries)
	}
	switch code {
	case CodeSessionNotFound, CodeTokenExpired:
		alive := exp.IsZero() || now.Before(exp.Add(-aliveMargin))
		e.ledger.sessionRejected(sid, now, code, alive)
	}
	e.ledger.sessionEnded(sid, now, code)
	return c.login(ctx, e, loginTries)
}

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginAnswer struct {
	AccessToken string `json:"access_token"`
	SessionID   string `json:"session_id"`
	ExpiresIn   int64  `json:"expires_in"`
	// RefreshToken and RefreshExpiresIn come with refresh tokens on (docs/contract.md): the family's
	// token and the session's remaining life.
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

// refresh trades the client's refresh token for a new pair (POST /v1/refresh). It returns the error code
// of a refusal (a 401 or another 4xx), "" when refreshed, or an error when no attempt got an answer.
// Callers hold loginMu.
func (c *Client) refresh(ctx context.Context, e *engine, sid string) (refused string, err error) {
	c.mu.RLock()
	body, err := json.Marshal(refreshBody{RefreshToken: c.refreshTok})
	c.mu.RUnlock()
	if err != nil {
		return "", fmt.Errorf("encode refresh: %w", err)
	}
	// Retried on no answer and 5xx like a login, with the same token: a service with a grace answers a
	// retry of a rotation whose answer was lost with the same pair.
	resp, b, err := e.simplePost(ctx, "/v1/refresh", body, c.Placement, loginTries)
	if err != nil {
		return "", fmt.Errorf("refresh %s: %w", c.Username, err)
	}
	var a loginAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &a) != nil || a.AccessToken == "" || a.RefreshToken == "" {
		code := errorCode(b)
		if code == "" {
			code = "refresh_status_" + strconv.Itoa(resp.StatusCode)
		}
		return code, nil
	}
	c.mu.Lock()
	c.gen++ // concurrent requests that saw the same expiry find it cured
	c.token, c.refreshTok = a.AccessToken, a.RefreshToken
	c.mu.Unlock()
	e.ledger.sessionRefreshed(sid)
	return "", nil
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

// login obtains a fresh session and records it in the ledger. Callers hold
// loginMu (or own the client exclusively during setup).
func (c *Client) login(ctx context.Context, e *engine, tries int) error {
	body, err := json.Marshal(loginBody{Username: c.Username, Password: e.cfg.Password})
	if err != nil {
		return fmt.Errorf("encode login: %w", err)
	}
	resp, b, err := e.simplePost(ctx, "/v1/login", body, c.Placement, tries)
	if err != nil {
		return fmt.Errorf("login %s: %w", c.Username, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login %s: status %d %s", c.Username, resp.StatusCode, errorCode(b))
	}
	var a loginAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("login %s: decode answer: %w", c.Username, err)
	}
	cookie := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "sid" {
			cookie = ck.Value
		}
	}
	if a.AccessToken == "" && cookie == "" {
		return fmt.Errorf("login %s: answer has neither access_token nor sid cookie", c.Username)
	}
	// The ledger keys sessions by id. session_id is optional in the contract: without it, the cookie is
	// the session; an opaque token is named by the client and its login, never by the secret itself.
	sid := a.SessionID
	if sid == "" {
		sid = cookie
	}
	c.mu.RLock()
	gen := c.gen
	c.mu.RUnlock()
	if sid == "" {
		sid = fmt.Sprintf("client-%d-login-%d", c.ID, gen+1)
	}
	now := time.Now()
	var exp time.Time
	life := a.ExpiresIn
	if a.RefreshToken != "" {
		life = a.RefreshExpiresIn // the access token's expiry is the service's to tell (401 token_expired)
	}
	if life > 0 {
		exp = now.Add(time.Duration(life) * time.Second)
	}
	c.mu.Lock()
	c.gen++
	c.token, c.cookie, c.session, c.expiresAt, c.refreshTok = a.AccessToken, cookie, sid, exp, a.RefreshToken
	c.mu.Unlock()
	e.ledger.sessionStarted(c.ID, c.Username, sid, now, exp)
	return nil
}

// signUp creates the user; an existing one (409 username_taken) is fine so a
// run can reuse a store.
func (c *Client) signUp(ctx context.Context, e *engine) error {
	body, err := json.Marshal(loginBody{Username: c.Username, Password: e.cfg.Password})
	if err != nil {
		return fmt.Errorf("encode sign-up: %w", err)
	}
	resp, b, err := e.simplePost(ctx, "/v1/users", body, c.Placement, setupTries)
	if err != nil {
		return fmt.Errorf("sign up %s: %w", c.Username, err)
	}
	if resp.StatusCode == http.StatusCreated ||
		(resp.StatusCode == http.StatusConflict && errorCode(b) == CodeUsernameTaken) {
		return nil
	}
	return fmt.Errorf("sign up %s: status %d %s", c.Username, resp.StatusCode, errorCode(b))
}

// PlacementHeader carries a client's Placement on sign-up and login. A service may ignore it.
const PlacementHeader = "X-Chaosbench-Client"

// Attempts of simplePost, 100 ms, 200 ms, ... apart. Setup (sign-up and the first login, before the
// clock starts) gets setupTries, about 12.7 s in all: a service that has just started may still answer
// 503 for a few seconds (the reference API's breaker opens after three failed Redis calls while Sentinel
// settles, and each reopening holds it a second more), and setup is not measured, so it waits that out
// instead of failing the run, as five tries (1.5 s) once did. A login during the run (a renewed session)
// keeps loginTries: the user waits for it, and a dead node must not hold a request for seconds more.
const (
	setupTries = 8
	loginTries = 5
)

// simplePost is for setup and logins: up to tries attempts on 5xx/transport errors, outside the measured
// retry policy.
func (e *engine) simplePost(ctx context.Context, path string, body []byte, placement string, tries int) (resp *http.Response, b []byte, err error) {
	err = poll.Retry(ctx, tries, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(actx, http.MethodPost, e.base+path, bytes.NewReader(body))
		if err != nil {
			return true, fmt.Errorf("build POST %s: %w", path, err)
		}
		req.Header.Set("Content-Type", "application/json")
		if placement != "" {
			req.Header.Set(PlacementHeader, placement)
		}
		r, err := e.http.Do(req)
		if err != nil {
			return false, err
		}
		rb, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		_ = r.Body.Close()
		switch {
		case err != nil:
			return false, err
		case r.StatusCode >= 500:
			return false, fmt.Errorf("status %d %s", r.StatusCode, errorCode(rb))
		}
		resp, b = r, rb
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return resp, b, nil
}

// setupClients signs up and logs in every client with bounded concurrency, or, with a declared
// client section (Config.Client), renders its variables and runs its setup steps instead.
// Setup is not load: it is neither paced nor measured.
func (e *engine) setupClients(ctx context.Context) error {
	first, n := e.cfg.Segment.Clients(e.cfg.Clients)
	// A worker's users carry its segment in their names: the run id already
	// differs per worker, and the segment says whose a user is in the store.
	prefix := "cb-" + e.runID + "-"
	if e.cfg.Segment.count() > 1 {
		prefix += "s" + strconv.Itoa(e.cfg.Segment.Index) + "of" + strconv.Itoa(e.cfg.Segment.Count) + "-"
	}
	e.clients = make([]*Client, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.SetupConcurrency)
	for i := range e.clients {
		id := first + i
		c := &Client{ID: id, Username: prefix + strconv.Itoa(id),
			Placement: strconv.FormatUint(e.cfg.Seed, 10) + "-" + strconv.Itoa(id)}
		e.clients[i] = c
		g.Go(func() error {
			if e.cfg.Client != nil {
				e.setupDeclared(gctx, c)
				return nil
			}
			if err := c.signUp(gctx, e); err != nil {
				return err
			}
			return c.login(gctx, e, setupTries)
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("setup %d clients: %w", n, err)
	}
	if e.cfg.Client != nil {
		// A client whose setup failed stays in the run: its ops are recorded as setup_failed, so that
		// the report says what was not sent and why instead of skipping it.
		var failed []error
		for _, c := range e.clients {
			if c.setupErr != nil {
				failed = append(failed, c.setupErr)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(failed) == len(e.clients) && len(failed) > 0 {
			return fmt.Errorf("setup %d clients: %w; the first: %w", n, errAllSetupsFailed, failed[0])
		}
		if len(failed) > 0 {
			e.set.logger.Warn("declared setup failed for some clients: their ops are recorded as "+ClassSetupFailed,
				"failed", len(failed), "clients", n, "first", failed[0])
		}
	}
	return nil
}
