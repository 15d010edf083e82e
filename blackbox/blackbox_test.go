package blackbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/blackbox"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/stretchr/testify/require"
)

// run drives a short load of every op against the reference API in-process (idempotency and ETag as
// edit sets them) and returns the API's URL, its Redis and the ledger.
func run(t *testing.T, edit func(*target.Config), wrap func(http.Handler) http.Handler) (string, *redistest.Server, load.LedgerSnapshot) {
	opts := []refapitest.Option{refapitest.WithHandler(wrap)}
	if edit != nil {
		opts = append(opts, refapitest.WithConfig(edit))
	}
	api := refapitest.Start(t, opts...)
	// Orders and updates of one hot resource, from many clients at once: last-write-wins loses some.
	var mix load.Mix
	for _, name := range []string{"order.create", "resource.update"} {
		op, err := load.LookupOp(name)
		require.NoError(t, err)
		mix = append(mix, load.Weighted{Op: op, Weight: 1})
	}
	res, err := load.Run(context.Background(), load.Config{BaseURL: api.URL, Clients: 16, Resources: 1, Seed: 3, Mix: mix,
		Phases: []load.Phase{{Name: "load", Duration: 2 * time.Second, Pacer: load.Constant(400)}}, RunDir: t.TempDir()}, load.WithoutProgress())
	require.NoError(t, err)
	return api.URL, api.Redis, res.Ledger
}

func values(f results.Findings) map[string]int64 {
	m := map[string]int64{}
	for k, v := range f {
		m[k] = v.Value
	}
	return m
}

// Read through the API, the checks find what they find reading Redis: on the reference API, and on its
// last-write-wins design, which does lose updates (so that the agreement is not 0 = 0 alone).
func TestAgreesWithRedis(t *testing.T) {
	// slow widens every read-modify-write to a few milliseconds, as a network would.
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(3 * time.Millisecond)
			next.ServeHTTP(w, r)
		})
	}
	for _, tc := range []struct {
		name     string
		edit     func(*target.Config)
		lossless bool
	}{
		{"stateless", nil, true},
		{"last write wins", func(c *target.Config) { c.Concurrency = target.ConcurrencyNone }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, rs, ledger := run(t, tc.edit, slow)
			ctx := context.Background()
			// One order that no client of the load attempted: both readers must call it unexpected.
			plantOrder(t, url, ledger.Sessions[0].User, "req-planted")
			fromRedis, err := results.CheckLedger(ctx, keyspace.NewRedisTruth(rs.Client()), ledger)
			require.NoError(t, err)
			truth, err := blackbox.Read(ctx, url, load.DefaultPassword, ledger, blackbox.WithSettle(0))
			require.NoError(t, err)
			fromAPI, err := results.CheckLedger(ctx, truth, ledger)
			require.NoError(t, err)
			require.Equal(t, values(fromRedis), values(fromAPI))
			for name, r := range fromAPI {
				require.Empty(t, r.NotChecked, name)
			}
			require.Positive(t, fromAPI["writes.acknowledged"].Value)
			if tc.lossless {
				require.Zero(t, fromAPI["updates.lost"].Value)
			} else {
				require.Positive(t, fromAPI["updates.lost"].Value, "both readers catch the lost updates")
			}
			require.Equal(t, []string{"req-planted"}, truth.Unexpected)
			require.EqualValues(t, 1, fromAPI["writes.unexpected"].Value)
			require.Equal(t, []string{"req-planted"}, fromAPI["writes.unexpected"].Examples)
		})
	}
}

// plantOrder places an order as user, outside the load and its ledger.
func plantOrder(t *testing.T, url, user, reqID string) {
	post := func(path, body string, h http.Header) *http.Response {
		req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header = h.Clone()
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := post("/v1/login", `{"username":"`+user+`","password":"`+load.DefaultPassword+`"}`, http.Header{})
	require.Equal(t, http.StatusOK, res.StatusCode)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&login))
	res = post("/v1/orders", `{"request_id":"`+reqID+`","items":[{"sku":"tea","qty":1}]}`,
		http.Header{"Authorization": {"Bearer " + login.AccessToken}, "Idempotency-Key": {"planted-key"}})
	require.Equal(t, http.StatusCreated, res.StatusCode)
}

// A service without an order listing or resources has those checks "not checked", never 0, and says why.
func TestWhatTheServiceCannotAnswerIsNotChecked(t *testing.T) {
	hide := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The load may write; the checker cannot read back.
			if r.Method == http.MethodGet && (r.URL.Path == "/v1/orders" || strings.HasPrefix(r.URL.Path, "/v1/resources/")) &&
				isReader(r) {
				http.NotFound(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	url, _, ledger := run(t, nil, hide)
	f := readMarked(t, url, ledger)
	require.Contains(t, f["writes.duplicates"].NotChecked, "404")
	require.Contains(t, f["updates.lost"].NotChecked, "404")
	require.Empty(t, f["sessions.lost"].NotChecked, "sessions come from the clients' own view")
}

// readMarked reads the ground truth through the API with the checker's requests marked (readerMark), and
// checks the ledger against it.
func readMarked(t *testing.T, url string, ledger load.LedgerSnapshot, opts ...blackbox.Option) results.Findings {
	t.Helper()
	ctx := context.Background()
	// A generous timeout: a login is a bcrypt check, and eight at once under -race on a busy 2-core CI
	// machine took over 5 s once; the reader then retried the login, which TestLogsInOncePerUser counts.
	truth, err := blackbox.Read(ctx, url, load.DefaultPassword, ledger, append([]blackbox.Option{blackbox.WithSettle(0),
		blackbox.WithHTTPClient(&http.Client{Timeout: time.Minute, Transport: readerMark{}})}, opts...)...)
	require.NoError(t, err)
	f, err := results.CheckLedger(ctx, truth, ledger)
	require.NoError(t, err)
	return f
}

// readerMark tags the checker's requests, so that the test server hides its reads from it alone.
type readerMark struct{}

func (readerMark) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Reader", "blackbox")
	return http.DefaultTransport.RoundTrip(r)
}

func isReader(r *http.Request) bool { return r.Header.Get("X-Reader") == "blackbox" }

// The reader logs in once per user and keeps that session for every read as that user; a refused session
// (401) costs one more login, not a failed read. Logins are bcrypt checks: one per read would be a load of
// its own on a service that just went through faults.
func TestLogsInOncePerUser(t *testing.T) {
	var (
		mu      sync.Mutex
		logins  = map[string]int{}
		refused bool
	)
	watch := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isReader(r) {
				next.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			if r.URL.Path == "/v1/login" {
				var b struct{ Username string }
				body, _ := io.ReadAll(r.Body)
				_ = json.Unmarshal(body, &b)
				r.Body = io.NopCloser(bytes.NewReader(body))
				logins[b.Username]++
			}
			// The first read of the run is refused once, as a restarted node refuses a session.
			refuse := r.Method == http.MethodGet && !refused
			refused = refused || refuse
			mu.Unlock()
			if refuse {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	url, rs, ledger := run(t, nil, watch)
	fromAPI := readMarked(t, url, ledger)
	fromRedis, err := results.CheckLedger(context.Background(), keyspace.NewRedisTruth(rs.Client()), ledger)
	require.NoError(t, err)
	require.Equal(t, values(fromRedis), values(fromAPI), "the refused read was read again")

	require.True(t, refused)
	twice := 0
	for user, n := range logins {
		require.LessOrEqual(t, n, 2, user)
		if n == 2 {
			twice++
		}
	}
	require.Equal(t, 1, twice, "exactly the refused user logged in again: %v", logins)
}

// stickyFront is the stateful architecture's sticky NGINX in front of three reference API nodes that keep
// sessions in memory: a request without a credential (sign-up, login) goes to a node by its
// X-Chaosbench-Client header (at random without one), a cookie session to the node its sid names
// (<id>.<node>), as target/stack's $chaosbench_pool does.
//
// restart models the moment the black box reads in a run that killed api-1: api-1 is back (a new process,
// its sessions gone) and already takes logins, but NGINX's passive health check (max_fails=1
// fail_timeout=10s) still holds it out of its own sid route, route_api-1, whose backup api-2 answers
// instead and does not know the session: a fresh login's first GET is refused with 401
// session_not_found until the failure window closes. Every login lands on api-1 here; NGINX's hash puts 1
// in 3 there, and a reader whose few tries all landed there failed the run's check.
type stickyFront struct {
	t     *testing.T
	redis *redistest.Server

	mu        sync.Mutex
	nodes     map[string]http.Handler // by node id
	restarted bool
	downUntil time.Time // route_api-1 sends to its backup until then
	refused   int       // GETs the backup refused
}

var stickyNodes = []string{"api-1", "api-2", "api-3"}

func newStickyFront(t *testing.T) (*stickyFront, string) {
	f := &stickyFront{t: t, redis: redistest.Start(t), nodes: map[string]http.Handler{}}
	for _, n := range stickyNodes {
		f.nodes[n] = f.startNode(n)
	}
	front := httptest.NewServer(f)
	t.Cleanup(front.Close)
	return f, front.URL
}

// startNode starts one node of the stateful architecture (cookie sessions in memory) on the shared Redis.
func (f *stickyFront) startNode(id string) http.Handler {
	api := refapitest.Start(f.t, refapitest.WithRedis(f.redis), refapitest.WithConfig(func(c *target.Config) {
		c.NodeID, c.Auth, c.Sessions = id, target.AuthCookie, target.SessionsMemory
		c.Idempotency, c.Concurrency = false, target.ConcurrencyNone
	}))
	u, err := url.Parse(api.URL)
	require.NoError(f.t, err)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorLog = log.New(io.Discard, "", 0) // the load's last requests, cancelled as it ends
	return p
}

// restart starts api-1 again with no sessions, and keeps it out of its sid route for window.
func (f *stickyFront) restart(window time.Duration) {
	h := f.startNode("api-1")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes["api-1"], f.restarted, f.downUntil = h, true, time.Now().Add(window)
}

func (f *stickyFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	node := ""
	if c, err := r.Cookie("sid"); err == nil {
		node = c.Value[strings.LastIndexByte(c.Value, '.')+1:]
		if node == "api-1" && time.Now().Before(f.downUntil) {
			node = "api-2" // the backup of route_api-1
			if r.Method == http.MethodGet {
				f.refused++
			}
		}
	} else if f.restarted {
		node = "api-1"
	} else {
		h := fnv.New32a()
		_, _ = io.WriteString(h, r.Header.Get(load.PlacementHeader))
		if r.Header.Get(load.PlacementHeader) == "" {
			_, _ = io.WriteString(h, strconv.FormatInt(time.Now().UnixNano(), 10))
		}
		node = stickyNodes[h.Sum32()%uint32(len(stickyNodes))]
	}
	next := f.nodes[node]
	f.mu.Unlock()
	next.ServeHTTP(w, r)
}

// After a run that killed a node of the stateful architecture, the balancer refuses a fresh login's
// session for a while (its sid route still falls to a backup that does not hold it). The reader logs in
// again until the session holds and reads every order and resource as Redis has them; a reader that
// tried again only at once used its tries up in milliseconds and called the orders not checked. When the
// sessions never hold, the checks that need them are still not checked, within the reader's bound.
func TestReadsOnAfterTheBalancerRefusedFreshSessions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration // how long route_api-1 falls to its backup
		opts   []blackbox.Option
		holds  bool
	}{
		// NGINX's fail_timeout, shortened: the reader waits it out with its default bound.
		{"window closes", 2 * time.Second, nil, true},
		// A service whose sessions never hold for the reader: not checked after the reader's bound, never 0.
		{"never holds", time.Hour, []blackbox.Option{blackbox.WithSessionWait(time.Second)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, url := newStickyFront(t)
			var mix load.Mix
			for _, name := range []string{"order.create", "resource.update"} {
				op, err := load.LookupOp(name)
				require.NoError(t, err)
				mix = append(mix, load.Weighted{Op: op, Weight: 1})
			}
			// Four resources: the reader reads them at once as one user, sharing its session.
			res, err := load.Run(context.Background(), load.Config{BaseURL: url, Clients: 12, Resources: 4, Seed: 5, Mix: mix,
				Phases: []load.Phase{{Name: "load", Duration: time.Second, Pacer: load.Constant(200)}}, RunDir: t.TempDir()},
				load.WithoutProgress())
			require.NoError(t, err)
			ledger := res.Ledger

			f.restart(tc.window)
			start := time.Now()
			fromAPI := readMarked(t, url, ledger, tc.opts...)
			took := time.Since(start)
			f.mu.Lock()
			refused := f.refused
			f.mu.Unlock()
			require.Positive(t, refused, "the front did refuse fresh sessions")
			if !tc.holds {
				require.Contains(t, fromAPI["writes.lost"].NotChecked, "401")
				require.Contains(t, fromAPI["updates.lost"].NotChecked, "401")
				require.Less(t, took, 5*time.Second, "bounded by WithSessionWait")
				return
			}
			fromRedis, err := results.CheckLedger(context.Background(), keyspace.NewRedisTruth(f.redis.Client()), ledger)
			require.NoError(t, err)
			for name, r := range fromAPI {
				require.Empty(t, r.NotChecked, name)
			}
			require.Equal(t, values(fromRedis), values(fromAPI))
			require.Positive(t, fromAPI["writes.acknowledged"].Value)
			require.GreaterOrEqual(t, took, tc.window, "read once the sessions held")
		})
	}
}
