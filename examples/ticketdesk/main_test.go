package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// node starts one ticketdesk node named name on the shared Redis rs, as a replica of a stack would be.
func node(t *testing.T, rs *redistest.Server, name string, mode Mode) string {
	t.Helper()
	opt, err := redis.ParseURL(rs.URL())
	require.NoError(t, err)
	opt.DialTimeout, opt.ReadTimeout, opt.MaxRetries = 300*time.Millisecond, 300*time.Millisecond, 0
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	d := newDesk(rdb, config{node: name, mode: mode, sessionTTL: time.Minute, dedupeTTL: time.Hour,
		triage: time.Millisecond})
	hs := httptest.NewServer(d.routes())
	t.Cleanup(hs.Close)
	return hs.URL
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as an object (fails the test if it is not one).
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body %s", a.body)
	return m
}

// call sends one request; headers alternate name, value.
func call(t *testing.T, method, u string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// signIn registers login and opens a session on base; it returns the session token.
func signIn(t *testing.T, base, login string) string {
	t.Helper()
	a := call(t, "POST", base+"/api/v2/accounts", map[string]string{"login": login, "password": "secret-" + login})
	require.Equal(t, http.StatusCreated, a.status, "register: %s", a.body)
	req, err := http.NewRequest("POST", base+"/api/v2/sessions", nil)
	require.NoError(t, err)
	req.SetBasicAuth(login, "secret-"+login)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var s struct {
		Token string `json:"session_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	require.NotEmpty(t, s.Token)
	return s.Token
}

func file(t *testing.T, base, session, requestToken, subject string) answer {
	t.Helper()
	return call(t, "POST", base+"/api/v2/tickets", map[string]any{"subject": subject, "priority": 3},
		"X-Session-Token", session, "X-Request-Token", requestToken)
}

// listAll follows next_cursor from the first page to the last, limit tickets a page.
func listAll(t *testing.T, base, session string, limit int) (tickets []ticket, pages int) {
	t.Helper()
	cursor := ""
	for {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		a := call(t, "GET", base+"/api/v2/tickets?"+q.Encode(), nil, "X-Session-Token", session)
		require.Equal(t, http.StatusOK, a.status, "list: %s", a.body)
		var page struct {
			Tickets []ticket `json:"tickets"`
			Next    *string  `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(a.body, &page))
		require.LessOrEqual(t, len(page.Tickets), limit)
		tickets = append(tickets, page.Tickets...)
		pages++
		require.Less(t, pages, 1000, "pagination does not end")
		if page.Next == nil {
			return tickets, pages
		}
		cursor = *page.Next
	}
}

func TestAccountsAndSessions(t *testing.T) {
	base := node(t, redistest.Start(t), "desk-1", Correct)
	good := signIn(t, base, "ada")
	basic := func(login, pass string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(login, pass)
		return r.Header.Get("Authorization")
	}
	for _, c := range []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		problem string // the problem+json name, "" for a success
	}{
		// A login is taken once.
		{"register twice", "POST", "/api/v2/accounts", map[string]string{"login": "ada", "password": "12345678"}, nil, 409, "login-taken"},
		// Short passwords and logins that could not travel in Basic credentials (':') are refused.
		{"register short password", "POST", "/api/v2/accounts", map[string]string{"login": "bob", "password": "1"}, nil, 400, "bad-account"},
		{"register colon", "POST", "/api/v2/accounts", map[string]string{"login": "b:ob", "password": "12345678"}, nil, 400, "bad-account"},
		{"register not json", "POST", "/api/v2/accounts", "{", nil, 400, "bad-body"},
		// Logging in takes HTTP Basic, not a JSON body.
		{"login without basic", "POST", "/api/v2/sessions", map[string]string{"login": "ada"}, nil, 401, "credentials-required"},
		{"login wrong password", "POST", "/api/v2/sessions", nil, []string{"Authorization", basic("ada", "nope")}, 401, "bad-credentials"},
		{"login unknown account", "POST", "/api/v2/sessions", nil, []string{"Authorization", basic("zed", "secret-zed")}, 401, "bad-credentials"},
		{"login", "POST", "/api/v2/sessions", nil, []string{"Authorization", basic("ada", "secret-ada")}, 201, ""},
		// The session travels as X-Session-Token; a Bearer header is not read.
		{"no session", "GET", "/api/v2/sessions/current", nil, nil, 401, "session-required"},
		{"bearer is not read", "GET", "/api/v2/sessions/current", nil, []string{"Authorization", "Bearer " + good}, 401, "session-required"},
		{"unknown session", "GET", "/api/v2/tickets", nil, []string{"X-Session-Token", "deadbeef"}, 401, "unknown-session"},
		{"known session", "GET", "/api/v2/sessions/current", nil, []string{"X-Session-Token", good}, 200, ""},
		// Errors are problem+json everywhere, unknown routes included.
		{"unknown route", "GET", "/v1/orders", nil, nil, 404, "no-such-route"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, c.method, base+c.path, c.body, c.headers...)
			require.Equal(t, c.status, a.status, "%s", a.body)
			require.Equal(t, "desk-1", a.header.Get("X-Served-By"))
			if c.problem == "" {
				return
			}
			require.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
			require.Equal(t, c.problem, a.json(t)["problem"])
			require.EqualValues(t, c.status, a.json(t)["status"])
		})
	}

	// A closed session is unknown from then on, with exactly the body a scenario's session check expects.
	require.Equal(t, http.StatusNoContent, call(t, "DELETE", base+"/api/v2/sessions/current", nil, "X-Session-Token", good).status)
	a := call(t, "GET", base+"/api/v2/sessions/current", nil, "X-Session-Token", good)
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "unknown-session", a.json(t)["problem"])
}

// A request token sent again, to the same node or another, gives the first answer in the correct build and
// stores one ticket; in the flawed build only the node that saw it first remembers it.
func TestRequestTokenDedupe(t *testing.T) {
	for _, c := range []struct {
		mode    Mode
		via     []int // which node each send of the one token goes to
		tickets int   // tickets stored in the end
		replays int   // answers marked X-Request-Replayed
	}{
		// The correct build: a retry on the same node, then on the other, replays the first answer.
		{Correct, []int{0, 0, 1}, 1, 2},
		// The flawed build's memory serves a retry on the same node...
		{Flawed, []int{0, 0}, 1, 1},
		// ...but node B never saw the token: a second ticket. A's memory still replays afterwards.
		{Flawed, []int{0, 1, 0}, 2, 1},
	} {
		t.Run(fmt.Sprintf("%s/%v", c.mode, c.via), func(t *testing.T) {
			rs := redistest.Start(t)
			nodes := []string{node(t, rs, "desk-a", c.mode), node(t, rs, "desk-b", c.mode)}
			s := signIn(t, nodes[0], "ada")
			var first map[string]any
			replays := 0
			for i, n := range c.via {
				a := file(t, nodes[n], s, "tok-1", "printer on fire")
				require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
				require.Equal(t, []string{"desk-a", "desk-b"}[n], a.header.Get("X-Served-By"))
				if a.header.Get("X-Request-Replayed") == "true" {
					replays++
					require.Equal(t, first, a.json(t), "a replay is the first answer")
				}
				if i == 0 {
					first = a.json(t)
				}
			}
			require.Equal(t, c.replays, replays)
			got, _ := listAll(t, nodes[1], s, 10)
			require.Len(t, got, c.tickets)
			for _, tk := range got {
				require.Equal(t, "tok-1", tk.RequestToken, "each ticket carries its token")
			}
		})
	}
}

// The token is stored with the ticket in one step: 20 concurrent sends of one token (half on each node)
// file one ticket in the correct build. A token reused for another ticket is refused.
func TestRequestTokenConcurrentAndReused(t *testing.T) {
	rs := redistest.Start(t)
	nodes := []string{node(t, rs, "desk-a", Correct), node(t, rs, "desk-b", Correct)}
	s := signIn(t, nodes[0], "ada")
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", nodes[i%2]+"/api/v2/tickets", strings.NewReader(`{"subject":"vpn","priority":2}`))
			req.Header.Set("X-Session-Token", s)
			req.Header.Set("X-Request-Token", "same")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	for _, st := range statuses {
		require.Equal(t, http.StatusCreated, st)
	}
	got, _ := listAll(t, nodes[0], s, 50)
	require.Len(t, got, 1)

	a := call(t, "POST", nodes[1]+"/api/v2/tickets", map[string]any{"subject": "another", "priority": 2},
		"X-Session-Token", s, "X-Request-Token", "same")
	require.Equal(t, http.StatusUnprocessableEntity, a.status)
	require.Equal(t, "request-token-reused", a.json(t)["problem"])
	a = call(t, "POST", nodes[1]+"/api/v2/tickets", map[string]any{"subject": "x", "priority": 2}, "X-Session-Token", s)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "request-token-required", a.json(t)["problem"])
}

// Following next_cursor returns every ticket exactly once, in filing order, whatever the page size; tickets
// of another account never show.
func TestPagination(t *testing.T) {
	rs := redistest.Start(t)
	base := node(t, rs, "desk-1", Correct)
	ada, bob := signIn(t, base, "ada"), signIn(t, base, "bob")
	const n = 23
	want := make([]string, n)
	for i := range want {
		a := file(t, base, ada, fmt.Sprintf("tok-%02d", i), fmt.Sprintf("ticket %d", i))
		require.Equal(t, http.StatusCreated, a.status)
		want[i] = a.json(t)["id"].(string)
	}
	require.Equal(t, http.StatusCreated, file(t, base, bob, "tok-00", "bob's own").status)
	for _, c := range []struct {
		limit, pages int
	}{
		{1, n},   // one a page
		{5, 5},   // a short last page
		{23, 1},  // exactly one full page: next_cursor is null at once
		{100, 1}, // the largest page
		{22, 2},  // the last page holds one
	} {
		t.Run(fmt.Sprint("limit=", c.limit), func(t *testing.T) {
			got, pages := listAll(t, base, ada, c.limit)
			ids := make([]string, len(got))
			for i, tk := range got {
				ids[i] = tk.ID
				require.Equal(t, fmt.Sprintf("tok-%02d", i), tk.RequestToken)
				require.Equal(t, "ada", tk.Account)
			}
			require.Equal(t, want, ids)
			require.Equal(t, c.pages, pages)
		})
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!"} {
		a := call(t, "GET", base+"/api/v2/tickets?"+q, nil, "X-Session-Token", ada)
		require.Equal(t, http.StatusBadRequest, a.status, q)
	}
}

// readCounter returns a counter's count and ETag.
func readCounter(t *testing.T, base, session, name string) (int64, string) {
	t.Helper()
	a := call(t, "GET", base+"/api/v2/counters/"+name, nil, "X-Session-Token", session)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var c counter
	require.NoError(t, json.Unmarshal(a.body, &c))
	require.Equal(t, etag(c.Revision), a.header.Get("ETag"))
	return c.Count, a.header.Get("ETag")
}

func putCounter(t *testing.T, base, session, name string, count int64, ifMatch string) answer {
	t.Helper()
	h := []string{"X-Session-Token", session}
	if ifMatch != "" {
		h = append(h, "If-Match", ifMatch)
	}
	return call(t, "PUT", base+"/api/v2/counters/"+name, map[string]int64{"count": count}, h...)
}

func TestCounterPreconditions(t *testing.T) {
	rs := redistest.Start(t)
	for _, c := range []struct {
		name    string
		mode    Mode
		ifMatch string // "" sends none; "fresh" sends the ETag just read
		status  int
		problem string
	}{
		// The correct build needs If-Match and refuses a stale or foreign one.
		{"correct fresh", Correct, "fresh", 200, ""},
		{"correct missing", Correct, "", 428, "if-match-required"},
		{"correct stale", Correct, `"r0"`, 412, "stale-revision"},
		{"correct garbage", Correct, `W/"r1"`, 412, "stale-revision"},
		// The flawed build takes any of them, or none: last write wins.
		{"flawed missing", Flawed, "", 200, ""},
		{"flawed stale", Flawed, `"r0"`, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := node(t, rs, "desk-1", c.mode)
			s := signIn(t, base, strings.ReplaceAll(c.name, " ", "-"))
			name := "c-" + strings.ReplaceAll(c.name, " ", "-")
			// One write first, so that revision 0 is stale.
			_, tag := readCounter(t, base, s, name)
			require.Equal(t, http.StatusOK, putCounter(t, base, s, name, 1, tag).status)
			n, tag := readCounter(t, base, s, name)
			ifMatch := c.ifMatch
			if ifMatch == "fresh" {
				ifMatch = tag
			}
			a := putCounter(t, base, s, name, n+1, ifMatch)
			require.Equal(t, c.status, a.status, "%s", a.body)
			if c.problem != "" {
				require.Equal(t, c.problem, a.json(t)["problem"])
				got, _ := readCounter(t, base, s, name)
				require.Equal(t, n, got, "a refused write changes nothing")
				return
			}
			got, after := readCounter(t, base, s, name)
			require.Equal(t, n+1, got)
			require.Equal(t, a.header.Get("ETag"), after)
			require.NotEqual(t, tag, after)
		})
	}
}

// Two read-modify-write increments interleaved by hand (both read, then both write): the flawed build
// keeps one of them; the correct build refuses the second with 412, and its client reads again and
// succeeds, so both increments count.
func TestLostIncrement(t *testing.T) {
	rs := redistest.Start(t)
	for _, c := range []struct {
		mode   Mode
		second int   // the status of the second, interleaved write
		final  int64 // the count after both clients are done
	}{
		{Flawed, 200, 1},  // lost update: two acknowledged increments, count 1
		{Correct, 412, 2}, // the stale write is refused, re-read and re-applied
	} {
		t.Run(string(c.mode), func(t *testing.T) {
			a, b := node(t, rs, "desk-a", c.mode), node(t, rs, "desk-b", c.mode)
			sa, sb := signIn(t, a, "ada-"+string(c.mode)), signIn(t, b, "bob-"+string(c.mode))
			name := "visits-" + string(c.mode)
			na, ta := readCounter(t, a, sa, name)
			nb, tb := readCounter(t, b, sb, name)
			require.Equal(t, http.StatusOK, putCounter(t, a, sa, name, na+1, ta).status)
			second := putCounter(t, b, sb, name, nb+1, tb)
			require.Equal(t, c.second, second.status, "%s", second.body)
			if second.status == http.StatusPreconditionFailed {
				nb, tb = readCounter(t, b, sb, name)
				require.Equal(t, http.StatusOK, putCounter(t, b, sb, name, nb+1, tb).status)
			}
			final, _ := readCounter(t, a, sa, name)
			require.Equal(t, c.final, final)
		})
	}
}

// /health answers for Redis: 200 while it is up, a fast 503 with Retry-After while it is down.
func TestHealth(t *testing.T) {
	rs := redistest.Start(t)
	base := node(t, rs, "desk-1", Flawed)
	a := call(t, "GET", base+"/health", nil)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, map[string]any{"status": "ready", "node": "desk-1", "mode": "flawed"}, a.json(t))
	rs.Stop()
	start := time.Now()
	a = call(t, "GET", base+"/health", nil)
	require.Equal(t, http.StatusServiceUnavailable, a.status)
	require.Equal(t, "store-unavailable", a.json(t)["problem"])
	require.Equal(t, "1", a.header.Get("Retry-After"))
	require.Less(t, time.Since(start), 2*time.Second)
	rs.Start()
	require.Eventually(t, func() bool { return call(t, "GET", base+"/health", nil).status == http.StatusOK },
		5*time.Second, 50*time.Millisecond)
}

func TestLoadConfig(t *testing.T) {
	for _, c := range []struct {
		env map[string]string
		err string // "" when valid
	}{
		{map[string]string{}, ""},                                           // every default
		{map[string]string{"TICKETDESK_MODE": "flawed"}, ""},                // the flawed build
		{map[string]string{"TICKETDESK_MODE": "sloppy"}, "TICKETDESK_MODE"}, // a typo is not the correct build
		{map[string]string{"TICKETDESK_TRIAGE_DELAY": "-1s"}, "TICKETDESK_TRIAGE_DELAY"},
		{map[string]string{"TICKETDESK_SESSION_TTL": "10ms"}, "at least 1s"},
	} {
		for _, k := range []string{"TICKETDESK_MODE", "TICKETDESK_TRIAGE_DELAY", "TICKETDESK_SESSION_TTL", "TICKETDESK_DEDUPE_TTL"} {
			t.Setenv(k, c.env[k])
		}
		_, err := loadConfig()
		if c.err == "" {
			require.NoError(t, err, "%v", c.env)
		} else {
			require.ErrorContains(t, err, c.err)
		}
	}
}
