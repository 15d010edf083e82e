package invariants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/invariants"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shop is the service under test, written here: POST /login {user} gives a token (a new one per login),
// GET /items lists the caller's items a page at a time (cursor = offset), GET /counters/{key} shows a
// counter. A request without a token it handed out is answered 401.
type shop struct {
	mu       sync.Mutex
	base     string              // the server's URL, for absolute links
	items    map[string][]string // user -> the elements its reads list, in order
	pageSize int
	// link: how an answer says where the next page is: "" a cursor in $.next, "path" the next page's path,
	// "url" its absolute URL, "relative" a path relative to the page, "elsewhere" a URL on another host.
	link string
	// fail answers the next fail item reads 503; failAll answers all of them 503.
	fail    int
	failAll bool
	// loginStatus, when set, is the answer to every login (no token).
	loginStatus int
	// refuseAll refuses every token, even a fresh one.
	refuseAll bool
	tokens    map[string]string // token -> user
	logins    map[string]int    // user -> logins
	counters  map[string]any    // key -> what $.count holds
	// itemReads counts item reads; itemTokens are the tokens they carried, in order.
	itemReads  int
	itemTokens []string
	// notArray makes $.items an object.
	notArray bool
	// prefix is where the service is mounted (the target's URL ends with it): its links start with it.
	prefix string
}

func newShop(t *testing.T) (*shop, *httptest.Server) {
	s := &shop{items: map[string][]string{}, pageSize: 100, tokens: map[string]string{}, logins: map[string]int{},
		counters: map[string]any{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.base = srv.URL
	return s, srv
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.URL.Path = strings.TrimPrefix(r.URL.Path, s.prefix)
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/login" && r.Method == http.MethodPost {
		var in struct{ User string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if s.loginStatus != 0 {
			reply(s.loginStatus, map[string]any{"error": "no logins today"})
			return
		}
		s.logins[in.User]++
		tok := fmt.Sprintf("tok-%s-%d", in.User, s.logins[in.User])
		s.tokens[tok] = in.User
		reply(200, map[string]any{"token": tok})
		return
	}
	tok := r.Header.Get("Authorization")
	user, ok := s.tokens[tok]
	if r.URL.Path == "/items" {
		s.itemReads++
		s.itemTokens = append(s.itemTokens, tok)
	}
	if !ok || s.refuseAll {
		reply(401, map[string]any{"error": "who are you"})
		return
	}
	switch {
	case r.URL.Path == "/items":
		if s.failAll || s.fail > 0 {
			s.fail--
			reply(503, map[string]any{"error": "busy"})
			return
		}
		if s.notArray {
			reply(200, map[string]any{"items": map[string]any{"id": "x"}})
			return
		}
		all := s.items[user]
		from, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		to := min(from+s.pageSize, len(all))
		page := []map[string]any{}
		for _, e := range all[from:to] {
			page = append(page, map[string]any{"id": e})
		}
		var next any
		if to < len(all) {
			c := strconv.Itoa(to)
			switch s.link {
			case "":
				next = c
			case "path":
				next = s.prefix + "/items?cursor=" + c
			case "url":
				next = s.base + s.prefix + "/items?cursor=" + c
			case "relative":
				next = "items?cursor=" + c
			case "elsewhere":
				next = "http://elsewhere.invalid/items?cursor=" + c
			}
		}
		reply(200, map[string]any{"items": page, "next": next})
	case strings.HasPrefix(r.URL.Path, "/counters/"):
		v, ok := s.counters[strings.TrimPrefix(r.URL.Path, "/counters/")]
		if !ok {
			reply(404, map[string]any{"error": "no such counter"})
			return
		}
		reply(200, map[string]any{"count": v})
	default:
		reply(404, map[string]any{"error": "not found"})
	}
}

// scenario is a declared scenario with a set (items) and a counter (counters, start 10), whose set
// invariant reads with setRead (the YAML under read:, indented by 6) and per (empty: the default).
const scenario = `name: inv
phases: [{duration: 1s, rate: 1/s}]
client:
  vars: {user: "u{{client.id}}"}
  setup:
    - name: login
      request: {method: POST, path: /login, json: {user: "{{user}}"}}
      expect: {status: [200]}
      capture: {token: {json: "$.token"}}
  session: {token: token, unknown: [401]}
ops:
  item.add:
    idempotency: {header: X-Key}
    steps:
      - request: {method: POST, path: /items, headers: {Authorization: "{{token}}"}}
    record: {set: items}
  counter.bump:
    steps:
      - request: {method: GET, path: /counters/c1, headers: {Authorization: "{{token}}"}}
        capture: {name: {json: $.name}}
      - request: {method: PUT, path: "/counters/{{name}}", headers: {Authorization: "{{token}}"}}
    record: {counter: counters, key: "{{name}}"}
invariants:
  - set: items
%s    read:
%s
  - counter: counters
    start: 10
    read:
      request: {method: GET, path: "/counters/{{counter.key}}", headers: {Authorization: "{{token}}"}}
      value: "$.count"
`

const (
	// readOnePage reads $.items[*].id in one request.
	readOnePage = `      request: {method: GET, path: /items, headers: {Authorization: "{{token}}"}}
      elements: "$.items[*].id"`
	// readByCursor pages with the cursor in the query parameter cursor.
	readByCursor = readOnePage + `
      next: {json: "$.next", query: cursor}`
	// readByLink follows the answer's link.
	readByLink = readOnePage + `
      next: {json: "$.next", link: true}`
)

// load compiles the scenario through scenarios.Load, as a run does; per is "" or a per: line's value.
func loadScenario(t *testing.T, per, setRead string) invariants.Config {
	t.Helper()
	perLine := ""
	if per != "" {
		perLine = "    per: " + per + "\n"
	}
	path := filepath.Join(t.TempDir(), "inv.yaml")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(scenario, perLine, setRead)), 0o644))
	p, err := scenarios.Load(path)
	require.NoError(t, err)
	require.Len(t, p.Invariants, 2)
	return invariants.Config{Client: p.Client, Invariants: p.Invariants, Seed: 1}
}

// clientEntry is client id's ledger entry with its user and token.
func clientEntry(id int, user, token string) load.ClientEntry {
	q := func(s string) json.RawMessage { return json.RawMessage(strconv.Quote(s)) }
	return load.ClientEntry{ID: id, Vars: map[string]json.RawMessage{"user": q(user), "token": q(token), "client.id": json.RawMessage(strconv.Itoa(id))}}
}

// counts asks truth how many times each key is there.
func counts(t *testing.T, truth *invariants.Truth, keys ...string) (map[string]int64, error) {
	t.Helper()
	n, err := truth.OrdersByKey(context.Background(), keys)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for i, k := range keys {
		out[k] = n[i]
	}
	return out, nil
}

func TestReadSet(t *testing.T) {
	cases := []struct {
		name    string
		per     string
		read    string
		prepare func(s *shop)
		clients []load.ClientEntry
		// want is each element's count; wantErr, when set, a part of why the set is not checked.
		want     map[string]int64
		wantErr  string
		requests int // the set read's requests (0: not asserted)
		// wait bounds each read (default 300ms: long enough for a read that holds at once, short for one
		// that never will).
		wait time.Duration
		// check looks at the service afterwards.
		check func(t *testing.T, s *shop)
	}{
		// Three pages by a cursor in the query (3+3+1 elements): every page's elements are pooled, and an
		// element listed twice counts twice (a duplicate write).
		{name: "cursor, three pages", read: readByCursor,
			prepare: func(s *shop) { s.pageSize = 3; s.items["u1"] = []string{"a", "b", "c", "d", "b", "e", "f"} },
			want:    map[string]int64{"a": 1, "b": 2, "c": 1, "d": 1, "e": 1, "f": 1, "zz": 0}, requests: 3},
		// The answer gives the next page's path.
		{name: "link, a path", read: readByLink,
			prepare: func(s *shop) { s.pageSize = 2; s.link = "path"; s.items["u1"] = []string{"a", "b", "c", "d", "e"} },
			want:    map[string]int64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, requests: 3},
		// The answer gives the next page's absolute URL on the target's host: followed.
		{name: "link, a URL on the same host", read: readByLink,
			prepare: func(s *shop) { s.pageSize = 2; s.link = "url"; s.items["u1"] = []string{"a", "b", "c", "d", "e"} },
			want:    map[string]int64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, requests: 3},
		// The target's URL has a path (http://host/api, as load.Config.BaseURL may): the links, which start
		// with it, are followed under it, not under /api/api.
		{name: "link, a path under the target's path", read: readByLink,
			prepare: func(s *shop) {
				s.prefix, s.pageSize, s.link = "/api", 2, "path"
				s.items["u1"] = []string{"a", "b", "c"}
			},
			want: map[string]int64{"a": 1, "b": 1, "c": 1}, requests: 2},
		{name: "link, a URL under the target's path", read: readByLink,
			prepare: func(s *shop) {
				s.prefix, s.pageSize, s.link = "/api", 2, "url"
				s.items["u1"] = []string{"a", "b", "c"}
			},
			want: map[string]int64{"a": 1, "b": 1, "c": 1}, requests: 2},
		// A link relative to the page (no leading /) is not followed: not checked, saying why.
		{name: "link relative to the page", read: readByLink,
			prepare: func(s *shop) { s.pageSize = 2; s.link = "relative"; s.items["u1"] = []string{"a", "b", "c"} },
			wantErr: "want a path from the root", requests: 1},
		// A link to another host is not followed: the set is not checked (reads go only where the load went).
		{name: "link to another host", read: readByLink,
			prepare: func(s *shop) { s.pageSize = 2; s.link = "elsewhere"; s.items["u1"] = []string{"a", "b", "c"} },
			wantErr: "leaves the target", requests: 1},
		// Per client (the default for a set): each client reads as itself (its token: the service lists its
		// own items, and answers 401 to another's) and the elements are pooled.
		{name: "per client, pooled", read: readOnePage,
			prepare: func(s *shop) {
				s.tokens["tok-u2-0"] = "u2"
				s.items["u1"], s.items["u2"] = []string{"a", "b"}, []string{"c", "a"}
			},
			clients: []load.ClientEntry{clientEntry(1, "u1", "tok-u1-0"), clientEntry(2, "u2", "tok-u2-0")},
			want:    map[string]int64{"a": 2, "b": 1, "c": 1}, requests: 2,
			check: func(t *testing.T, s *shop) {
				assert.ElementsMatch(t, []string{"tok-u1-0", "tok-u2-0"}, s.itemTokens)
				assert.Empty(t, s.logins, "no session was refused: no login")
			}},
		// per: run reads once, as the first client.
		{name: "per run", per: "run", read: readOnePage,
			prepare: func(s *shop) {
				s.tokens["tok-u2-0"] = "u2"
				s.items["u1"], s.items["u2"] = []string{"a", "b"}, []string{"c"}
			},
			clients: []load.ClientEntry{clientEntry(2, "u2", "tok-u2-0"), clientEntry(1, "u1", "tok-u1-0")},
			want:    map[string]int64{"a": 1, "b": 1, "c": 0}, requests: 1},
		// A client whose setup failed is not read as.
		{name: "a client without setup is skipped", read: readOnePage,
			prepare: func(s *shop) { s.items["u1"] = []string{"a"} },
			clients: []load.ClientEntry{clientEntry(1, "u1", "tok-u1-0"), {ID: 2, SetupError: "login refused"}},
			want:    map[string]int64{"a": 1}, requests: 1},
		// No client finished its setup: nobody to read as.
		{name: "no client", read: readOnePage,
			clients: []load.ClientEntry{{ID: 1, SetupError: "login refused"}},
			wantErr: "nobody to read as"},
		// Two 503s, then the answer: the read holds, and took three requests (backing off 100ms then 200ms:
		// a wait that has room for both).
		{name: "503 twice then 200", read: readOnePage, wait: 5 * time.Second,
			prepare: func(s *shop) { s.fail = 2; s.items["u1"] = []string{"a"} },
			want:    map[string]int64{"a": 1}, requests: 3},
		// Always 503: not checked once the read's wait is over, with the last status.
		{name: "always 503", read: readOnePage,
			prepare: func(s *shop) { s.failAll = true },
			wantErr: "status 503"},
		// The session is refused (401): the client logs in again with its own variables (user u1), and
		// the read is sent again with the new token.
		{name: "session refused, a new one", read: readOnePage,
			prepare: func(s *shop) { s.items["u1"] = []string{"a", "b"} },
			clients: []load.ClientEntry{clientEntry(1, "u1", "tok-gone")},
			want:    map[string]int64{"a": 1, "b": 1}, requests: 2,
			check: func(t *testing.T, s *shop) {
				assert.Equal(t, map[string]int{"u1": 1}, s.logins)
				assert.Equal(t, []string{"tok-gone", "tok-u1-1"}, s.itemTokens)
			}},
		// The session is refused and the login fails: not checked, saying why.
		{name: "login fails", read: readOnePage,
			prepare: func(s *shop) { s.loginStatus = 403 },
			clients: []load.ClientEntry{clientEntry(1, "u1", "tok-gone")},
			wantErr: "a new session: setup step 0"},
		// Every token is refused, even a fresh one: not checked, and the reader backs off between new
		// sessions instead of logging in as fast as the service answers.
		{name: "refused after every login", read: readOnePage,
			prepare: func(s *shop) { s.refuseAll = true },
			wantErr: "the session is refused",
			check: func(t *testing.T, s *shop) {
				assert.LessOrEqual(t, s.logins["u1"], 6, "logins within a 300ms wait")
			}},
		// elements is not an array in the answer: not checked.
		{name: "elements not an array", read: readOnePage,
			prepare: func(s *shop) { s.notArray = true },
			wantErr: "no JSON array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, srv := newShop(t)
			s.tokens["tok-u1-0"] = "u1"
			if c.prepare != nil {
				c.prepare(s)
			}
			cfg := loadScenario(t, c.per, c.read)
			cfg.Base = srv.URL + s.prefix
			clients := c.clients
			if clients == nil {
				clients = []load.ClientEntry{clientEntry(1, "u1", "tok-u1-0")}
			}
			wait := c.wait
			if wait == 0 {
				wait = 300 * time.Millisecond
			}
			truth, err := invariants.Read(context.Background(), cfg, load.LedgerSnapshot{Clients: clients},
				invariants.WithWait(wait))
			require.NoError(t, err)
			require.Len(t, truth.Reads, 2)
			sum := truth.Reads[0]
			assert.Equal(t, "items", sum.Name)
			assert.Equal(t, "set", sum.Kind)
			got, err := counts(t, truth, keys(c.want)...)
			if c.wantErr != "" {
				require.ErrorIs(t, err, results.ErrUnanswerable)
				require.ErrorContains(t, err, c.wantErr)
				require.Contains(t, sum.Error, c.wantErr)
				_, err = truth.StoredRequestIDs(context.Background())
				require.ErrorIs(t, err, results.ErrUnanswerable, "the unexpected check is not checked either")
			} else {
				require.NoError(t, err)
				require.Empty(t, sum.Error)
				assert.Equal(t, c.want, got)
				var n int64
				for _, v := range c.want {
					n += v
				}
				assert.EqualValues(t, n, sum.Values)
			}
			if c.requests > 0 {
				assert.Equal(t, c.requests, sum.Requests)
			}
			if c.check != nil {
				s.mu.Lock()
				defer s.mu.Unlock()
				c.check(t, s)
			}
		})
	}
}

func keys(m map[string]int64) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestStoredRequestIDs: the elements read, each once, for the unexpected check; a set is never looked up by
// request id.
func TestStoredRequestIDs(t *testing.T) {
	s, srv := newShop(t)
	s.tokens["tok-u1-0"] = "u1"
	s.items["u1"] = []string{"b", "a", "b"}
	cfg := loadScenario(t, "", readOnePage)
	cfg.Base = srv.URL
	truth, err := invariants.Read(context.Background(), cfg, load.LedgerSnapshot{Clients: []load.ClientEntry{clientEntry(1, "u1", "tok-u1-0")}})
	require.NoError(t, err)
	ids, err := truth.StoredRequestIDs(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids)
	_, err = truth.OrdersByRequestID(context.Background(), []string{"a"})
	require.ErrorIs(t, err, results.ErrUnanswerable)
}

func TestReadCounter(t *testing.T) {
	entry := func(key string, acked int64) load.ResourceEntry {
		return load.ResourceEntry{ID: "counters/" + key, Counter: "counters", Key: key, Acknowledged: acked}
	}
	cases := []struct {
		name     string
		counters map[string]any
		ledger   []load.ResourceEntry
		want     map[string]int64 // by ledger id
		wantErr  string
		// token is the client's token in the ledger (default: one the service knows); logins, when set, how
		// many logins the reads made.
		token  string
		logins map[string]int
	}{
		// Each key the ledger recorded is read ({{counter.key}} in the path), less the invariant's start (10).
		{name: "values less start", counters: map[string]any{"c1": 13, "c2": 10, "c3": 99},
			ledger: []load.ResourceEntry{entry("c1", 3), entry("c2", 0)},
			want:   map[string]int64{"counters/c1": 3, "counters/c2": 0}},
		// The session is refused to every key's read at once: one new login serves them all (the others see
		// it was made), and every read then holds.
		{name: "session refused to concurrent reads", counters: map[string]any{"c1": 11, "c2": 12, "c3": 13},
			ledger: []load.ResourceEntry{entry("c1", 1), entry("c2", 2), entry("c3", 3)},
			want:   map[string]int64{"counters/c1": 1, "counters/c2": 2, "counters/c3": 3},
			token:  "tok-gone", logins: map[string]int{"u1": 1}},
		// Resources of another counter (or the contract's) are not read.
		{name: "other resources", counters: map[string]any{"c1": 11},
			ledger: []load.ResourceEntry{entry("c1", 1), {ID: "r1", Acknowledged: 4}},
			want:   map[string]int64{"counters/c1": 1}},
		// A value that is a string: not checked.
		{name: "a string", counters: map[string]any{"c1": "13"},
			ledger: []load.ResourceEntry{entry("c1", 3)}, wantErr: "no integer"},
		// A value that is not an integer: not checked.
		{name: "a fraction", counters: map[string]any{"c1": 12.5},
			ledger: []load.ResourceEntry{entry("c1", 3)}, wantErr: "no integer"},
		// The read's expect refuses the answer (404, no such counter): not checked, not a 0.
		{name: "no such counter", counters: map[string]any{},
			ledger: []load.ResourceEntry{entry("c1", 3)}, wantErr: "key c1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, srv := newShop(t)
			s.tokens["tok-u1-0"] = "u1"
			s.counters = c.counters
			cfg := loadScenario(t, "", readOnePage)
			cfg.Base = srv.URL
			token := c.token
			if token == "" {
				token = "tok-u1-0"
			}
			truth, err := invariants.Read(context.Background(), cfg,
				load.LedgerSnapshot{Clients: []load.ClientEntry{clientEntry(1, "u1", token)}, Resources: c.ledger},
				invariants.WithWait(300*time.Millisecond))
			require.NoError(t, err)
			ids := keys(c.want)
			if c.wantErr != "" {
				ids = []string{c.ledger[0].ID}
			}
			got, err := truth.ResourceValues(context.Background(), ids)
			if c.wantErr != "" {
				require.ErrorIs(t, err, results.ErrUnanswerable)
				require.ErrorContains(t, err, c.wantErr)
				require.NotEmpty(t, truth.Reads[1].Error)
				return
			}
			require.NoError(t, err)
			byID := map[string]int64{}
			for i, id := range ids {
				byID[id] = got[i]
			}
			assert.Equal(t, c.want, byID)
			assert.Equal(t, len(c.want), truth.Reads[1].Values)
			if c.logins != nil {
				s.mu.Lock()
				assert.Equal(t, c.logins, s.logins)
				s.mu.Unlock()
			}
			// A counter the ledger does not have was not read.
			_, err = truth.ResourceValues(context.Background(), []string{"counters/c9"})
			require.ErrorIs(t, err, results.ErrUnanswerable)
		})
	}
}

// TestCheckLedgerDeclared: the checks judge a declared scenario's ledger against what its invariants read,
// by the rules of results/check_*.go: per set entry, a count above 1 is duplicates (the extras), an
// acknowledged one absent is lost, an unknown one present is indeterminate applied, an element nobody sent is
// unexpected; per counter, a value below the acknowledged increments is lost updates, above them extra.
func TestCheckLedgerDeclared(t *testing.T) {
	s, srv := newShop(t)
	s.tokens["tok-u1-0"] = "u1"
	s.pageSize = 2
	// k-dup twice, k-ok once, k-unknown (the client never learnt) once, zz that nobody sent; k-lost and
	// k-rejected absent.
	s.items["u1"] = []string{"k-ok", "k-dup", "k-dup", "k-unknown", "zz"}
	s.counters = map[string]any{"c1": 13, "c2": 16} // start 10: c1 holds 3, c2 6
	cfg := loadScenario(t, "", readByCursor)
	cfg.Base = srv.URL
	ledger := load.LedgerSnapshot{
		Clients: []load.ClientEntry{clientEntry(1, "u1", "tok-u1-0")},
		Orders: []load.OrderEntry{
			{Key: "k-ok", Op: "item.add", Set: "items", Status: load.OrderAcknowledged},
			{Key: "k-dup", Op: "item.add", Set: "items", Status: load.OrderAcknowledged},
			{Key: "k-lost", Op: "item.add", Set: "items", Status: load.OrderAcknowledged},
			{Key: "k-unknown", Op: "item.add", Set: "items", Status: load.OrderUnknown},
			{Key: "k-rejected", Op: "item.add", Set: "items", Status: load.OrderRejected},
			// An op that records into no set: not judged, not counted.
			{Key: "k-other", Op: "other.op", Status: load.OrderAcknowledged},
		},
		Resources: []load.ResourceEntry{
			{ID: "counters/c1", Counter: "counters", Key: "c1", Acknowledged: 5},               // 3 read: 2 lost
			{ID: "counters/c2", Counter: "counters", Key: "c2", Acknowledged: 2, Uncertain: 3}, // 6 read: 4 extra
		},
		Sessions: []load.SessionEntry{{SessionID: "client-1/session-0", Lost: true}},
	}
	truth, err := invariants.Read(context.Background(), cfg, ledger)
	require.NoError(t, err)
	f, err := results.CheckLedger(context.Background(), truth, ledger, results.DeclaredWrites())
	require.NoError(t, err)
	want := map[string]results.CheckResult{
		"writes.acknowledged":          {Value: 3},
		"writes.rejected":              {Value: 1},
		"writes.indeterminate":         {Value: 1},
		"writes.duplicates":            {Value: 1, Examples: []string{"k-dup"}},
		"writes.lost":                  {Value: 1, Examples: []string{"k-lost"}},
		"writes.unexpected":            {Value: 1, Examples: []string{"zz"}},
		"writes.indeterminate_applied": {Value: 1},
		"updates.acknowledged":         {Value: 7},
		"updates.lost":                 {Value: 2, Examples: []string{"counters/c1"}},
		"updates.extra":                {Value: 4},
		"sessions.total":               {Value: 1},
		"sessions.lost":                {Value: 1, Examples: []string{"client-1/session-0"}},
	}
	for name, w := range want {
		assert.Equal(t, w, f[name], name)
	}

	// Without sessions the ledger could follow, the session checks are not checked (never 0); the rest
	// is unchanged.
	f, err = results.CheckLedger(context.Background(), truth, ledger, results.DeclaredWrites(), results.NoSessions("no session declared"))
	require.NoError(t, err)
	for _, name := range []string{"sessions.total", "sessions.lost"} {
		assert.Equal(t, results.CheckResult{NotChecked: "no session declared"}, f[name], name)
	}
	assert.Equal(t, want["writes.duplicates"], f["writes.duplicates"])

	// A set that could not be read: every check that needs it is not checked, the ledger's own counts stand.
	s.mu.Lock()
	s.failAll = true
	s.mu.Unlock()
	blind, err := invariants.Read(context.Background(), cfg, ledger, invariants.WithWait(300*time.Millisecond))
	require.NoError(t, err)
	f, err = results.CheckLedger(context.Background(), blind, ledger, results.DeclaredWrites())
	require.NoError(t, err)
	for _, name := range []string{"writes.duplicates", "writes.lost", "writes.unexpected", "writes.indeterminate_applied"} {
		assert.Contains(t, f[name].NotChecked, "invariant items", name)
		assert.Zero(t, f[name].Value, name)
	}
	assert.Equal(t, want["writes.acknowledged"], f["writes.acknowledged"])
	assert.Equal(t, want["updates.lost"], f["updates.lost"], "the counters were read")
	require.NotEmpty(t, blind.Reads[0].Error)
}
