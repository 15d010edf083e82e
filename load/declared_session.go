package load

import (
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/flow"
)

// A declared session (flow.Session) lives in the client's variables: the setup's login step captured its
// token. Requests read the variables under c.mu, and a new session replaces the whole map (copy on write),
// so that requests in flight keep reading the one they started with. A refusal with one of the session's
// unknown statuses while the session was promised alive is a lost session in the ledger, as the built-in
// client counts one; the client then runs its login steps again.

// declaredSession is the scenario's declared session, nil for none.
func (e *engine) declaredSession() *flow.Session {
	if e.cfg.Client == nil {
		return nil
	}
	return e.cfg.Client.Session
}

// declaredVars are c's variables and the session generation they belong to (nil before its setup).
func (c *Client) declaredVars() (flow.Vars, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vars, c.gen
}

// declaredSessionID names c's n-th session in the ledger (the token itself is a secret, and long).
func declaredSessionID(c *Client, n uint64) string {
	return "client-" + strconv.Itoa(c.ID) + "/session-" + strconv.FormatUint(n, 10)
}

// startDeclaredSession records the start of c's current session (c.gen's).
func (e *engine) startDeclaredSession(c *Client, now time.Time) {
	var exp time.Time
	if life := e.declaredSession().Lifetime; life > 0 {
		exp = now.Add(life)
	}
	c.mu.Lock()
	c.session, c.expiresAt = declaredSessionID(c, c.gen), exp
	c.mu.Unlock()
	e.ledger.sessionStarted(c.ID, "", c.session, now, exp)
}

// sessionRefused handles an answer that says c's session (of generation gen) is unknown: the ledger
// counts a lost session when it was promised alive, and the client logs in again once (concurrent
// refusals of one session wait for that login instead of each making one). Without login steps (a
// token from client.vars) nothing can make a new session: the refusals are counted against the old one.
func (e *engine) sessionRefused(ctx context.Context, c *Client, gen uint64) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.RLock()
	cur, sid, exp, vars := c.gen, c.session, c.expiresAt, c.vars
	c.mu.RUnlock()
	if cur != gen {
		return // someone already logged in again
	}
	now := time.Now()
	alive := exp.IsZero() || now.Before(exp.Add(-aliveMargin))
	e.ledger.sessionRejected(sid, now, CodeSessionNotFound, alive)
	login := e.declaredSession().Login
	if len(login) == 0 {
		return
	}
	e.ledger.sessionEnded(sid, now, CodeSessionNotFound)
	next := maps.Clone(vars)
	rnd := rand.New(rand.NewPCG(e.cfg.Seed, uint64(c.ID)<<20|gen+1))
	err := e.runSetup(ctx, c, next, rnd, login)
	c.mu.Lock()
	c.gen++
	if err == nil {
		c.vars = next
	}
	c.mu.Unlock()
	if err != nil {
		// The old session is over and no new one was made: the next refusal tries again, counted against
		// a session that does not exist (sessionRejected ignores it).
		c.mu.Lock()
		c.session, c.expiresAt = "", time.Time{}
		c.mu.Unlock()
		return
	}
	e.startDeclaredSession(c, time.Now())
	e.ledger.recordClient(clientEntry(c.ID, next, nil))
}

// clientEntry is c's ledger entry: its variables as JSON, and why its setup failed.
func clientEntry(id int, vars flow.Vars, setupErr error) ClientEntry {
	ce := ClientEntry{ID: id, Vars: make(map[string]json.RawMessage, len(vars))}
	for name, v := range vars {
		ce.Vars[name] = json.RawMessage(v.AppendJSON(nil))
	}
	if setupErr != nil {
		ce.SetupError = setupErr.Error()
	}
	return ce
}
