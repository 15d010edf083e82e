package load

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startTarget runs the real reference API in-process against a real
// redis-server.
func startTarget(t *testing.T, auth target.AuthMode) string {
	base, _ := startTargetWith(t, auth, nil)
	return base
}

// startTargetWith is startTarget with access to the redis-server (to stop or
// pause it) and an optional wrapper around the API's handler (to observe
// what reaches the server).
func startTargetWith(t *testing.T, auth target.AuthMode, wrap func(http.Handler) http.Handler) (string, *redistest.Server) {
	api := refapitest.Start(t, refapitest.WithHandler(wrap), refapitest.WithConfig(func(c *target.Config) { c.Auth = auth }))
	return api.URL, api.Redis
}

// resourceValue reads a resource as a fresh user.
func resourceValue(t *testing.T, base, id string) int64 {
	body := []byte(`{"username":"checker-` + id + `","password":"checker-password-1"}`)
	post := func(path string) *http.Response {
		r, err := http.Post(base+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		return r
	}
	post("/v1/users").Body.Close()
	lr := post("/v1/login")
	defer lr.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(lr.Body).Decode(&tok))
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/resources/"+id, nil)
	if tok.AccessToken != "" {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	for _, c := range lr.Cookies() {
		req.AddCookie(c)
	}
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, 200, r.StatusCode)
	var v struct {
		Value int64 `json:"value"`
	}
	require.NoError(t, json.NewDecoder(r.Body).Decode(&v))
	return v.Value
}

// TestAgainstReferenceAPI drives the default mix against the real target in
// both auth modes: no errors, no lost sessions, every order acknowledged
// with an id, and every resource's value equal to its acknowledged
// increments (ETag compare-and-set loses none).
func TestAgainstReferenceAPI(t *testing.T) {
	for _, auth := range []target.AuthMode{target.AuthJWT, target.AuthCookie} {
		t.Run(string(auth), func(t *testing.T) {
			base := startTarget(t, auth)
			cfg := Config{BaseURL: base, Clients: 10, Seed: 3, Resources: 4, RunDir: t.TempDir(),
				Phases:      []Phase{{"warm", time.Second, Constant(50)}, {"steady", time.Second, Constant(100)}},
				MaxLateness: 5 * time.Second}
			res, err := Run(context.Background(), cfg, WithoutProgress())
			require.NoError(t, err)
			assert.Greater(t, res.Totals.Completed, int64(140))
			assert.Zero(t, res.Totals.Errors, "%+v", res.Stats)
			assert.Zero(t, res.Totals.LostSessions)
			assert.Len(t, res.Ledger.Sessions, 10)
			byStatus := res.Ledger.OrdersBy()
			orders := allOrders(t, res.Ledger)
			assert.Empty(t, res.Ledger.Orders, "with a RunDir, orders are streamed, not kept")
			assert.Equal(t, len(orders), byStatus[OrderAcknowledged])
			assert.NotEmpty(t, orders)
			for _, r := range res.Ledger.Resources {
				assert.Equal(t, r.Acknowledged, resourceValue(t, base, r.ID), "resource %s", r.ID)
			}
			snap, err := ReadLedger(res.Files.Ledger)
			require.NoError(t, err)
			assert.Equal(t, orders, allOrders(t, snap), "ledger.json and orders.jsonl round-trip")
			require.Len(t, snap.Sessions, len(res.Ledger.Sessions))
			for i, s := range snap.Sessions {
				assert.Equal(t, res.Ledger.Sessions[i].SessionID, s.SessionID)
				assert.True(t, res.Ledger.Sessions[i].StartedAt.Equal(s.StartedAt))
			}
		})
	}
}

// orderAttempts counts what reached the API per Idempotency-Key on
// POST /v1/orders, and the status of each answer.
type orderAttempts struct {
	mu    sync.Mutex
	byKey map[string][]int
}

func (o *orderAttempts) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || r.URL.Path != "/v1/orders" || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		o.mu.Lock()
		o.byKey[key] = append(o.byKey[key], sw.status)
		o.mu.Unlock()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// TestRedisOutageAgainstReferenceAPI freezes the real Redis behind the real
// API for 2 s while orders are placed at 40/s. The API answers 503
// state_store_unavailable (first after its Redis timeout, then fast once its
// breaker opens); the engine must retry those with the same Idempotency-Key
// (every attempt it counts reached the API with the order's key), never
// create an order twice (the API's own index per key holds at most one
// order id), and mark orders that got no success within the retry budget
// unknown in the ledger, acknowledged ones present exactly once.
//
// Pause (SIGSTOP) rather than Stop: the server keeps its data (Stop loses
// users and sessions: the test server does not persist) and commands sent
// before the freeze run when it resumes, after the API gave up on them: the
// case where a retry could create a duplicate.
func TestRedisOutageAgainstReferenceAPI(t *testing.T) {
	seen := &orderAttempts{byKey: map[string][]int{}}
	base, rs := startTargetWith(t, target.AuthJWT, seen.wrap)
	const outageAt, outageFor = 1500 * time.Millisecond, 2 * time.Second
	var resumed sync.WaitGroup
	resumed.Add(1)
	outage := OnStart(func(start time.Time) {
		go func() {
			defer resumed.Done()
			time.Sleep(time.Until(start.Add(outageAt)))
			rs.Pause()
			time.Sleep(outageFor)
			rs.Resume()
		}()
	})
	// Two attempts 1 s apart (the API's Retry-After) within a 1.5 s budget:
	// an order placed early in the outage gets both answers during it.
	cfg := Config{BaseURL: base, Clients: 5, Seed: 11, RunDir: t.TempDir(),
		Mix:   Mix{{OrderCreate{}, 1}},
		Retry: RetryPolicy{Attempts: 2, Base: 50 * time.Millisecond, Max: 200 * time.Millisecond, Budget: 1500 * time.Millisecond},
		Phases: []Phase{
			{"before", outageAt, Constant(40)},
			{"outage", outageFor, Constant(40)},
			{"after", 1500 * time.Millisecond, Constant(40)},
		}}
	res, err := Run(context.Background(), cfg, WithoutProgress(), outage)
	resumed.Wait()
	require.NoError(t, err)

	tot := res.Totals
	assert.Equal(t, tot.Planned, tot.Sent+tot.Dropped)
	assert.Equal(t, tot.Sent, tot.Completed)
	assert.Positive(t, tot.Retries, "503s during the outage must be retried")
	assert.Positive(t, tot.Errors, "orders that failed through the outage are errors")

	// Every attempt the engine counted reached the API with the order's key,
	// and some keys were answered 503 first and tried again.
	seen.mu.Lock()
	defer seen.mu.Unlock()
	retriedAfter503 := 0
	orders := allOrders(t, res.Ledger)
	for _, o := range orders {
		statuses := seen.byKey[o.Key]
		assert.Len(t, statuses, o.Attempts, "order %s: attempts counted vs reaching the API with its key", o.Key)
		if len(statuses) > 1 && statuses[0] == http.StatusServiceUnavailable {
			retriedAfter503++
		}
	}
	assert.Positive(t, retriedAfter503, "a 503 must be retried with the same Idempotency-Key")

	// The ledger against the API's own index in Redis.
	rdb := rs.Client()
	ctx := context.Background()
	by := map[OrderStatus]int{}
	unknown503, unknownStored := 0, 0
	for _, o := range orders {
		by[o.Status]++
		n, err := rdb.LLen(ctx, "v1:order-index:key:"+o.Key).Result()
		require.NoError(t, err)
		switch o.Status {
		case OrderAcknowledged:
			assert.EqualValues(t, 1, n, "acknowledged order %s must exist exactly once", o.Key)
		case OrderUnknown:
			assert.LessOrEqual(t, n, int64(1), "unknown order %s must not exist twice", o.Key)
			unknownStored += int(n)
			if o.HTTPStatus == http.StatusServiceUnavailable && o.Code == target.CodeStateStore {
				unknown503++
			}
		default:
			assert.LessOrEqual(t, n, int64(1), "order %s (%s) duplicated", o.Key, o.Status)
		}
	}
	t.Logf("orders by status %v; unknown after 503 state_store_unavailable: %d (stored anyway: %d); retried after a 503: %d; totals %+v",
		by, unknown503, unknownStored, retriedAfter503, tot)
	assert.Positive(t, by[OrderAcknowledged], "orders before and after the outage are acknowledged")
	assert.Positive(t, by[OrderUnknown], "orders without an answer through the outage are unknown")
	assert.Positive(t, unknown503, "unknown orders carry the API's last answer: 503 state_store_unavailable")
	assert.Equal(t, len(orders), by[OrderAcknowledged]+by[OrderUnknown]+by[OrderRejected])
	assert.Equal(t, by, res.Ledger.OrdersBy())
}
