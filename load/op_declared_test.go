package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deskAPI is a service of another shape than the contract: /signup and /login with a Token header,
// tickets deduplicated by X-Dedupe. The first attempt of every key answers 503 (the key is kept, as a
// server that crashed after storing it would), so every create is retried once.
type deskAPI struct {
	mu       sync.Mutex
	signups  map[string]int      // user -> sign-ups
	tokens   map[string]bool     // tokens handed out
	attempts map[string][]string // key -> each attempt's Content-Type|body
	tickets  map[string]string   // key -> ticket id
	gets     map[string]int      // ticket id -> reads
	badGets  int                 // reads of a ticket that does not exist
	badAuth  int
	// refuse, when set, refuses the login of users with this prefix (403); stale counts If-Match
	// mismatches on /counter.
	refuse  string
	counter int
	stale   int
	// lossySignup stores each user's first sign-up and answers it 503 (as a server that crashed after
	// storing it); a later sign-up of that user is 409 taken.
	lossySignup bool
}

func newDesk(t *testing.T) (*deskAPI, *httptest.Server) {
	d := &deskAPI{signups: map[string]int{}, tokens: map[string]bool{}, attempts: map[string][]string{},
		tickets: map[string]string{}, gets: map[string]int{}}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

func (d *deskAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	d.mu.Lock()
	defer d.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/healthz":
		reply(200, map[string]any{})
		return
	case r.URL.Path == "/signup" && r.Method == http.MethodPost:
		user := fmt.Sprint(in["user"])
		d.signups[user]++
		switch {
		case d.lossySignup && d.signups[user] == 1:
			reply(503, map[string]any{"code": "crashed"})
		case d.lossySignup:
			reply(409, map[string]any{"code": "taken"})
		default:
			reply(201, map[string]any{})
		}
		return
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		if d.refuse != "" && strings.HasPrefix(fmt.Sprint(in["user"]), d.refuse) {
			reply(403, map[string]any{"code": "locked"})
			return
		}
		tok := "t-" + fmt.Sprint(in["user"])
		d.tokens[tok] = true
		reply(200, map[string]any{"token": tok})
		return
	}
	if !d.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Token ")] {
		d.badAuth++
		reply(401, map[string]any{"code": "who"})
		return
	}
	switch {
	case r.URL.Path == "/counter" && r.Method == http.MethodGet:
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, d.counter))
		reply(200, map[string]any{"n": d.counter})
	case r.URL.Path == "/counter" && r.Method == http.MethodPut:
		// Every other read is stale on purpose: the first PUT after a read is refused with 412 when
		// the counter is odd, as if another client had written in between.
		if r.Header.Get("If-Match") != fmt.Sprintf(`"%d"`, d.counter) || (d.counter%2 == 1 && d.stale%2 == 0) {
			d.stale++
			reply(412, map[string]any{"code": "stale"})
			return
		}
		n, _ := in["n"].(float64)
		d.counter = int(n)
		reply(200, map[string]any{"n": d.counter})
	case r.URL.Path == "/tickets" && r.Method == http.MethodPost:
		key := r.Header.Get("X-Dedupe")
		d.attempts[key] = append(d.attempts[key], r.Header.Get("Content-Type")+"|"+fmt.Sprint(in["title"]))
		if len(d.attempts[key]) == 1 {
			reply(503, map[string]any{"code": "busy"})
			return
		}
		id, ok := d.tickets[key]
		if !ok {
			id = fmt.Sprintf("tk-%d", len(d.tickets)+1)
			d.tickets[key] = id
		}
		reply(201, map[string]any{"id": id, "n": len(d.tickets)})
	case strings.HasPrefix(r.URL.Path, "/tickets/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(r.URL.Path, "/tickets/")
		found := false
		for _, v := range d.tickets {
			found = found || v == id
		}
		if !found {
			d.badGets++
			reply(404, map[string]any{"code": "no such ticket"})
			return
		}
		d.gets[id]++
		reply(200, map[string]any{"id": id, "state": "open"})
	default:
		reply(404, map[string]any{"code": "not found"})
	}
}

const deskScenario = `name: desk
phases: [{duration: 1s, rate: 60/s}]
clients: 3
client:
  vars: {user: "u{{client.id}}-{{run.id}}"}
  setup:
    - {name: signup, request: {method: POST, path: /signup, json: {user: "{{user}}"}}, expect: {status: [201]}}
    - name: login
      request: {method: POST, path: /login, json: {user: "{{user}}"}}
      capture: {token: {json: "$.token"}}
ops:
  ticket.open:
    idempotency: {header: X-Dedupe}
    steps:
      - request: {method: POST, path: /tickets, headers: {Authorization: "Token {{token}}"}, json: {title: "t {{seq}}"}}
        expect: {status: [201]}
        capture: {id: {json: "$.id"}}
      - request: {method: GET, path: "/tickets/{{id}}", headers: {Authorization: "Token {{token}}"}}
        expect: {status: [200], json: {"$.state": "open"}}
  ticket.peek:
    steps:
      - request: {method: GET, path: /tickets/tk-1, headers: {Authorization: "Token {{token}}"}}
        capture: {owner: {json: "$.owner"}}
mix: {ticket.open: 3, ticket.peek: 1}
`

// TestDeclaredOpsUnderLoad runs a declared scenario through the engine at a constant rate, on the wire
// client and on net/http: each client's setup runs once, a step's capture goes into the next step's path,
// the idempotency key of a retried attempt is the first attempt's, a capture that matches nothing is a
// failed request of class capture_failed, and each idempotent op is in the ledger.
func TestDeclaredOpsUnderLoad(t *testing.T) {
	for _, mode := range []string{"wire", "net/http"} {
		t.Run(mode, func(t *testing.T) {
			plan, err := scenarios.Parse("desk.yaml", []byte(deskScenario))
			require.NoError(t, err)
			d, srv := newDesk(t)
			cfg := load.Config{BaseURL: srv.URL, Clients: plan.Clients, Seed: 7, Client: plan.EngineClient(),
				Mix:         plan.EngineMix(),
				Phases:      []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(60)}},
				Retry:       load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
				Timeout:     2 * time.Second,
				MaxLateness: 5 * time.Second,
				RunDir:      t.TempDir(),
			}
			opts := []load.Option{load.WithoutProgress()}
			if mode == "net/http" {
				opts = append(opts, load.WithHTTPClient(&http.Client{}))
			}
			res, err := load.Run(context.Background(), cfg, opts...)
			require.NoError(t, err)

			classes := map[string]map[string]int{}
			f, err := os.Open(filepath.Join(cfg.RunDir, runfolder.RecordsFile))
			require.NoError(t, err)
			defer f.Close()
			require.NoError(t, load.ReadRecords(f, func(r load.Record) error {
				if classes[r.Op] == nil {
					classes[r.Op] = map[string]int{}
				}
				classes[r.Op][r.Class]++
				return nil
			}))
			d.mu.Lock()
			defer d.mu.Unlock()
			require.Len(t, d.signups, 3, "one user per client")
			for u, n := range d.signups {
				assert.Equal(t, 1, n, "setup runs once per client: %s", u)
			}
			assert.Zero(t, d.badAuth, "every op carries its client's captured token")
			assert.Zero(t, d.badGets, "the captured id goes into the next step's path")

			opened := classes["ticket.open"]
			require.Positive(t, opened[load.ClassOK], "%v", classes)
			assert.Len(t, opened, 1, "every ticket.open ends ok: %v", classes)
			assert.Equal(t, opened[load.ClassOK], len(d.tickets))
			for key, as := range d.attempts {
				// The key is sent on both attempts (the 503 and its retry), with the same body and type.
				require.Len(t, as, 2, key)
				assert.Equal(t, as[0], as[1], key)
				assert.True(t, strings.HasPrefix(as[0], "application/json|t "), as[0])
			}
			peeks := classes["ticket.peek"]
			require.Positive(t, peeks[load.ClassCaptureFailed], "%v", classes)
			// The first peek may come before any ticket exists: a 404, not a capture failure.
			assert.Equal(t, peeks[load.ClassCaptureFailed]+peeks[load.Class4xx], sum(peeks), "%v", peeks)

			var acked int
			require.NoError(t, res.Ledger.EachOrder(func(o load.OrderEntry) error {
				assert.Equal(t, "ticket.open", o.Op)
				assert.Contains(t, d.tickets, o.Key)
				if o.Status == load.OrderAcknowledged {
					acked++
				}
				return nil
			}))
			assert.Equal(t, len(d.tickets), acked)
			assert.Equal(t, int64(sum(peeks)), res.Totals.Errors-int64(sum(opened)-opened[load.ClassOK]))
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestDeclaredSetupFailureIsRecorded: a client whose setup fails stays in the run and its ops are recorded
// as setup_failed, while the other clients' ops run; when every client's setup fails the run is an error.
func TestDeclaredSetupFailureIsRecorded(t *testing.T) {
	plan, err := scenarios.Parse("desk.yaml", []byte(deskScenario))
	require.NoError(t, err)
	d, srv := newDesk(t)
	d.refuse = "u2-"
	cfg := load.Config{BaseURL: srv.URL, Clients: 3, Seed: 7, Client: plan.EngineClient(), Mix: plan.EngineMix(),
		Phases:  []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(60)}},
		Retry:   load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
		Timeout: 2 * time.Second, MaxLateness: 5 * time.Second, RunDir: t.TempDir()}
	_, err = load.Run(context.Background(), cfg, load.WithoutProgress())
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(cfg.RunDir, runfolder.RecordsFile))
	require.NoError(t, err)
	defer f.Close()
	byClient := map[int]map[string]int{}
	require.NoError(t, load.ReadRecords(f, func(r load.Record) error {
		if byClient[r.Client] == nil {
			byClient[r.Client] = map[string]int{}
		}
		byClient[r.Client][r.Class]++
		return nil
	}))
	require.Contains(t, byClient, 2)
	assert.Equal(t, sum(byClient[2]), byClient[2][load.ClassSetupFailed], "client 2's ops: %v", byClient[2])
	assert.Positive(t, byClient[1][load.ClassOK]+byClient[3][load.ClassOK], "%v", byClient)

	d.refuse = "u"
	_, err = load.Run(context.Background(), cfg, load.WithoutProgress())
	require.ErrorContains(t, err, "every client's declared setup failed")
	require.ErrorContains(t, err, "setup/login")
}

// TestDeclaredSetupAlreadyDone: a sign-up whose first answer was lost (a 503 after the server stored it)
// meets 409 taken on its retry: a setup failure for every client, unless the step says 409 is
// already_done, when every client goes on to run its ops.
func TestDeclaredSetupAlreadyDone(t *testing.T) {
	for _, tc := range []struct {
		expect string
		ok     bool
	}{
		// 409 on the retry is a mismatch: no client gets through its setup.
		{expect: "{status: [201]}", ok: false},
		// 409 on the retry is the lost attempt's own work.
		{expect: "{status: [201], already_done: [409]}", ok: true},
	} {
		y := strings.Replace(deskScenario, "expect: {status: [201]}}", "expect: "+tc.expect+"}", 1)
		plan, err := scenarios.Parse("desk.yaml", []byte(y))
		require.NoError(t, err)
		d, srv := newDesk(t)
		d.lossySignup = true
		cfg := load.Config{BaseURL: srv.URL, Clients: 3, Seed: 7, Client: plan.EngineClient(), Mix: plan.EngineMix(),
			Phases:  []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(30)}},
			Retry:   load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
			Timeout: 2 * time.Second, MaxLateness: 5 * time.Second}
		res, err := load.Run(context.Background(), cfg, load.WithoutProgress())
		if !tc.ok {
			require.ErrorContains(t, err, "setup/signup: status 409")
			continue
		}
		require.NoError(t, err)
		require.Positive(t, res.Totals.OK())
		d.mu.Lock()
		for user, n := range d.signups {
			require.Equal(t, 2, n, "%s: the lost sign-up and its retry", user)
		}
		require.Len(t, d.signups, 3)
		d.mu.Unlock()
	}
}

const counterScenario = `name: counter
phases: [{duration: 1s, rate: 20/s}]
clients: 1
ops:
  counter.bump:
    restart_on: [412]
    steps:
      - request: {method: GET, path: /counter, headers: {Authorization: "Token t-x"}}
        capture: {n: {json: "$.n"}, etag: {header: ETag}}
      - request: {method: PUT, path: /counter, headers: {Authorization: "Token t-x", If-Match: "{{etag}}"}, json: {n: "{{add n 1}}"}}
        expect: {status: [200]}
`

// TestDeclaredRestartOn: a 412 on the write restarts the op from its read, so that every bump ends ok
// and the counter counts them all (a typed JSON number from a capture plus one).
func TestDeclaredRestartOn(t *testing.T) {
	// The second scenario also accepts 412 in expect: restart_on wins, as in chaosbench try.
	for _, y := range []string{counterScenario, strings.Replace(counterScenario, "status: [200]", "status: [200, 412]", 1)} {
		plan, err := scenarios.Parse("counter.yaml", []byte(y))
		require.NoError(t, err)
		d, srv := newDesk(t)
		d.tokens["t-x"] = true
		cfg := load.Config{BaseURL: srv.URL, Clients: 1, Seed: 7, Client: plan.EngineClient(), Mix: plan.EngineMix(),
			Phases:  []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(20)}},
			Retry:   load.RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: 3 * time.Second},
			Timeout: 2 * time.Second, MaxLateness: 5 * time.Second, MaxInFlight: 1, FixedInFlight: true}
		res, err := load.Run(context.Background(), cfg, load.WithoutProgress())
		require.NoError(t, err)
		d.mu.Lock()
		assert.Zero(t, res.Totals.Errors)
		assert.Positive(t, d.stale, "some writes were refused and restarted")
		assert.EqualValues(t, res.Totals.Completed, d.counter, "every bump landed once")
		d.mu.Unlock()
	}
}

// TestDeclaredWithoutSteps: an op built in Go with no steps is a failed request of class setup, not a panic.
func TestDeclaredWithoutSteps(t *testing.T) {
	_, srv := newDesk(t)
	cfg := load.Config{BaseURL: srv.URL, Seed: 7, Mix: load.Mix{{Op: load.NewDeclared(flow.Op{Name: "x.empty"}), Weight: 1}},
		Phases: []load.Phase{{Name: "steady", Duration: 200 * time.Millisecond, Pacer: load.Constant(20)}}}
	res, err := load.Run(context.Background(), cfg, load.WithoutProgress())
	require.NoError(t, err)
	require.Positive(t, res.Totals.Completed)
	assert.Equal(t, res.Totals.Completed, res.Totals.Errors)
}
