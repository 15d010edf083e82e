package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vault is a service with sessions and counters: POST /login {user} hands out a new token per login
// (tok-USER-N), GET /ping answers 200 to a token it knows and 401 to any other. A client's first token
// stops working after firstUses pings, as if the node that held it died; later tokens keep working.
// GET /counters/NAME names a counter, PUT /counters/NAME writes it: the first write of each name is
// refused with 412 (stale), the next accepted; with slow set, every write sleeps slow before answering.
type vault struct {
	mu        sync.Mutex
	firstUses int
	logins    map[string]int            // user -> logins
	uses      map[string]int            // token -> pings it was accepted for
	valid     map[string]bool           // tokens handed out
	pings     map[string]map[string]int // user -> token -> status -> count as "token status"
	writes    map[string]int            // counter -> writes
	slow      time.Duration
	// other counts requests to any other path (otherPaths).
	other      int
	otherPaths []string
}

func newVault(t *testing.T) (*vault, *httptest.Server) {
	v := &vault{logins: map[string]int{}, uses: map[string]int{}, valid: map[string]bool{},
		pings: map[string]map[string]int{}, writes: map[string]int{}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, srv
}

func (v *vault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, body any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Method == http.MethodPut && v.slow > 0 {
		v.writes[strings.TrimPrefix(r.URL.Path, "/counters/")]++
		v.mu.Unlock()
		time.Sleep(v.slow) // outside the lock: the other requests go on
		v.mu.Lock()
		reply(200, map[string]any{})
		return
	}
	switch {
	case r.URL.Path == "/login":
		var in struct{ User string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		v.logins[in.User]++
		tok := fmt.Sprintf("tok-%s-%d", in.User, v.logins[in.User])
		v.valid[tok] = true
		reply(200, map[string]any{"token": tok})
	case r.URL.Path == "/ping":
		tok := r.Header.Get("Authorization")
		user := strings.Split(tok, "-")[1]
		status := 200
		if !v.valid[tok] || (strings.HasSuffix(tok, "-1") && v.uses[tok] >= v.firstUses) {
			status = 401
		} else {
			v.uses[tok]++
		}
		if v.pings[user] == nil {
			v.pings[user] = map[string]int{}
		}
		v.pings[user][fmt.Sprintf("%s %d", tok, status)]++
		reply(status, map[string]any{})
	case strings.HasPrefix(r.URL.Path, "/counters/") && r.Method == http.MethodGet:
		reply(200, map[string]any{"name": strings.TrimPrefix(r.URL.Path, "/counters/")})
	case strings.HasPrefix(r.URL.Path, "/counters/") && r.Method == http.MethodPut:
		name := strings.TrimPrefix(r.URL.Path, "/counters/")
		v.writes[name]++
		if v.writes[name] == 1 {
			reply(412, map[string]any{"code": "stale"})
			return
		}
		reply(200, map[string]any{})
	case r.URL.Path == "/healthz":
		reply(200, map[string]any{}) // the engine's probe
	default:
		v.other++
		v.otherPaths = append(v.otherPaths, r.Method+" "+r.URL.Path)
		reply(404, map[string]any{})
	}
}

const sessionScenario = `name: sessions
phases: [{duration: 1s, rate: 40/s}]
clients: 2
client:
  vars: {user: "u{{client.id}}"}
  setup:
    - name: login
      request: {method: POST, path: /login, json: {user: "{{user}}"}}
      capture: {token: {json: "$.token"}}
  session: {token: token, unknown: [401]%s}
ops:
  ping:
    steps:
      - request: {method: GET, path: /ping, headers: {Authorization: "{{token}}"}}
        expect: {status: [200]}
mix: {ping: 1}
`

func runDeclared(t *testing.T, y, base string, timeout time.Duration) *load.Result {
	t.Helper()
	plan, err := scenarios.Parse("s.yaml", []byte(y))
	require.NoError(t, err)
	cfg := load.Config{BaseURL: base, Clients: plan.Clients, Seed: 7, Client: plan.EngineClient(), Mix: plan.EngineMix(),
		Phases:  []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(40)}},
		Retry:   load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
		Timeout: timeout, MaxLateness: 5 * time.Second}
	res, err := load.Run(context.Background(), cfg, load.WithoutProgress())
	require.NoError(t, err)
	return res
}

// TestDeclaredSessionLost: a client's session refused (401, one of session.unknown) while it had no
// declared end is a lost session in the ledger; the client logs in again (its login step, with its own
// variables), a second session starts, and its later requests carry the new token. Concurrent refusals
// of one session make one new login.
func TestDeclaredSessionLost(t *testing.T) {
	v, srv := newVault(t)
	v.firstUses = 5
	res := runDeclared(t, fmt.Sprintf(sessionScenario, ""), srv.URL, 2*time.Second)

	v.mu.Lock()
	defer v.mu.Unlock()
	byClient := map[int][]load.SessionEntry{}
	for _, s := range res.Ledger.Sessions {
		byClient[s.Client] = append(byClient[s.Client], s)
	}
	require.Len(t, byClient, 2, "%+v", res.Ledger.Sessions)
	for id, ss := range byClient {
		user := fmt.Sprintf("u%d", id)
		require.Len(t, ss, 2, "client %d: its first session and the one after the refusal: %+v", id, ss)
		first, second := ss[0], ss[1]
		assert.Equal(t, fmt.Sprintf("client-%d/session-0", id), first.SessionID)
		assert.True(t, first.Lost, "refused while alive: %+v", first)
		assert.Positive(t, first.RejectedAlive)
		assert.Equal(t, load.CodeSessionNotFound, first.EndReason)
		assert.False(t, first.EndedAt.IsZero())
		assert.False(t, second.Lost, "%+v", second)
		assert.Zero(t, second.Rejections)
		assert.True(t, second.EndedAt.IsZero(), "still in use at the end")
		assert.False(t, second.StartedAt.Before(first.EndedAt))

		assert.Equal(t, 2, v.logins[user], "the setup's login, and one more after the refusal")
		newTok := fmt.Sprintf("tok-%s-2", user)
		assert.Positive(t, v.pings[user][newTok+" 200"], "later requests carry the new token: %v", v.pings[user])
		assert.Zero(t, v.pings[user][newTok+" 401"])
		assert.Equal(t, 5, v.pings[user][fmt.Sprintf("tok-%s-1 200", user)])
	}
	// The ledger keeps each client's variables as its last session left them: the invariants read with them.
	require.Len(t, res.Ledger.Clients, 2)
	for _, c := range res.Ledger.Clients {
		assert.JSONEq(t, fmt.Sprintf(`"tok-u%d-2"`, c.ID), string(c.Vars["token"]))
	}
	assert.Equal(t, 2, res.Ledger.LostSessions())
}

// TestDeclaredSessionPastLifetime: a session refused once its declared lifetime is over (1s, less the
// second of margin the client keeps: from its start) is counted as refused, not lost; the client logs in
// again all the same.
func TestDeclaredSessionPastLifetime(t *testing.T) {
	v, srv := newVault(t)
	v.firstUses = 3
	res := runDeclared(t, fmt.Sprintf(sessionScenario, ", lifetime: 1s"), srv.URL, 2*time.Second)
	require.NotEmpty(t, res.Ledger.Sessions)
	refused := 0
	for _, s := range res.Ledger.Sessions {
		assert.False(t, s.Lost, "%+v", s)
		assert.Zero(t, s.RejectedAlive, "%+v", s)
		assert.False(t, s.ExpiresAt.IsZero(), "the lifetime is kept: %+v", s)
		refused += s.Rejections
	}
	assert.Positive(t, refused)
	assert.Zero(t, res.Ledger.LostSessions())
	v.mu.Lock()
	defer v.mu.Unlock()
	assert.Equal(t, map[string]int{"u0": 2, "u1": 2}, v.logins)
}

const bumpScenario = `name: bumps
phases: [{duration: 1s, rate: 40/s}]
clients: 1
ops:
  bump:
    restart_on: [412]
    steps:
      - request: {method: GET, path: "/counters/k{{seq}}"}
        capture: {name: {json: $.name}}
      - request: {method: PUT, path: "/counters/{{name}}"}
        expect: {status: [200]}
    record: {counter: c, key: "{{name}}"}
invariants:
  - counter: c
    read: {request: {method: GET, path: "/counters/{{counter.key}}"}, value: $.n}
mix: {bump: 1}
`

// TestDeclaredCounterConflict: a counter op (a counter of its own per op) whose write is refused 412 once
// restarts and is answered 200: the counter's entry holds one acknowledged increment and one conflict,
// nothing uncertain.
func TestDeclaredCounterConflict(t *testing.T) {
	v, srv := newVault(t)
	res := runDeclared(t, bumpScenario, srv.URL, 2*time.Second)
	require.Positive(t, res.Totals.Completed)
	assert.Zero(t, res.Totals.Errors)
	require.Len(t, res.Ledger.Resources, int(res.Totals.Completed), "one counter per op")
	for _, r := range res.Ledger.Resources {
		assert.Equal(t, load.ResourceEntry{ID: "c/" + r.Key, Counter: "c", Key: r.Key, Acknowledged: 1, Conflicts: 1}, r)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for name, n := range v.writes {
		assert.Equal(t, 2, n, name)
	}
}

// TestDeclaredCounterTimeout: a counter write whose answer never comes within the timeout (the service
// sleeps past it, and may well apply it) is uncertain, once per attempt, and not acknowledged.
func TestDeclaredCounterTimeout(t *testing.T) {
	v, srv := newVault(t)
	v.slow = 400 * time.Millisecond // set before any request
	res := runDeclared(t, bumpScenario, srv.URL, 100*time.Millisecond)
	require.Positive(t, res.Totals.Completed)
	require.NotEmpty(t, res.Ledger.Resources)
	for _, r := range res.Ledger.Resources {
		assert.Zero(t, r.Acknowledged, "%+v", r)
		assert.EqualValues(t, 1, r.Failed, "%+v", r)
		assert.Positive(t, r.Uncertain, "%+v", r)
		assert.Zero(t, r.Conflicts, "%+v", r)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var uncertain int64
	for _, r := range res.Ledger.Resources {
		uncertain += r.Uncertain
	}
	writes := 0
	for _, n := range v.writes {
		writes += n
	}
	assert.LessOrEqual(t, uncertain, int64(writes), "an uncertain write is one the service received")
}

// TestDeclaredSessionOutlivesLifetime: a declared session's lifetime only says whether a refusal is a lost
// session; past it the client keeps its token (nothing refused it) and never logs in by the built-in
// contract's /v1/login, which the service does not have.
func TestDeclaredSessionOutlivesLifetime(t *testing.T) {
	v, srv := newVault(t)
	v.firstUses = 1 << 30 // never refused
	res := runDeclared(t, fmt.Sprintf(sessionScenario, ", lifetime: 200ms"), srv.URL, 2*time.Second)
	require.Positive(t, res.Totals.Completed)
	assert.Zero(t, res.Totals.Errors, "every ping answered 200 with the first token")
	for _, s := range res.Ledger.Sessions {
		assert.Zero(t, s.Rejections, "%+v", s)
		assert.True(t, s.EndedAt.IsZero(), "%+v", s)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	assert.Equal(t, map[string]int{"u0": 1, "u1": 1}, v.logins, "one login each, in the setup")
	assert.Zero(t, v.other, "no request but the scenario's: %v", v.otherPaths)
}
