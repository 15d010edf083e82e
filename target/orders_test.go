package target

import (
	"context"
	"fmt"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

func orderBody(rid string) map[string]any {
	return map[string]any{"request_id": rid, "items": []map[string]any{{"sku": "tea", "qty": 2}}}
}

// ordersFor reads ground truth the way the checker will: the key index.
func ordersFor(t *testing.T, rs *redistest.Server, key string) int64 {
	t.Helper()
	n, err := rs.Client().LLen(context.Background(), keyspace.OrderByKey+key).Result()
	require.NoError(t, err)
	return n
}

func TestIdempotentReplayIsByteIdentical(t *testing.T) {
	rs := redistest.Start(t)
	a := startNode(t, rs, "a", nil)
	b := startNode(t, rs, "b", nil) // a retry may land on another node
	c := a.newClient("ada")

	first := a.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k1")...)
	require.Equal(t, http.StatusCreated, first.Code, "%s", first.Body)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))

	// The same key via the alternative header name, on another node.
	replay := b.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "X-Idempotency-Key", "k1")...)
	require.Equal(t, first.Code, replay.Code)
	require.Equal(t, string(first.Body), string(replay.Body))
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	require.Equal(t, "b", replay.Header.Get("X-Node-Id"))
	require.EqualValues(t, 1, ordersFor(t, rs, "k1"))

	// Another payload under the same key is refused and creates nothing.
	mismatch := a.do("POST", "/v1/orders", orderBody("r2"), append(c.auth, "Idempotency-Key", "k1")...)
	require.Equal(t, http.StatusUnprocessableEntity, mismatch.Code)
	require.Equal(t, CodeIdempotencyReused, mismatch.code(t))
	require.EqualValues(t, 1, ordersFor(t, rs, "k1"))

	// Missing key while idempotency is on.
	missing := a.do("POST", "/v1/orders", orderBody("r3"), c.auth...)
	require.Equal(t, http.StatusBadRequest, missing.Code)
	require.Equal(t, CodeIdempotencyMissing, missing.code(t))

	// Listing shows exactly the one order.
	list := a.do("GET", "/v1/orders", nil, c.auth...)
	require.Equal(t, http.StatusOK, list.Code)
	require.Len(t, list.json(t)["orders"], 1)
}

func TestConcurrentRequestsWithOneKeyCreateOneOrder(t *testing.T) {
	rs := redistest.Start(t)
	nodes := []*node{startNode(t, rs, "a", nil), startNode(t, rs, "b", nil), startNode(t, rs, "c", nil)}
	c := nodes[0].newClient("ada")

	const n = 30
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := nodes[i%3].do("POST", "/v1/orders", orderBody("same"), append(c.auth, "Idempotency-Key", "burst")...)
			codes[i], bodies[i] = r.Code, string(r.Body)
		}()
	}
	close(start)
	wg.Wait()

	require.EqualValues(t, 1, ordersFor(t, rs, "burst"), "exactly one order for one key")
	var created []string
	for i, code := range codes {
		// Each racer either won/replayed (201, same body) or saw the key in flight (409).
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, code, "response %d: %s", i, bodies[i])
		if code == http.StatusCreated {
			created = append(created, bodies[i])
		}
	}
	require.NotEmpty(t, created)
	for _, b := range created {
		require.Equal(t, created[0], b, "every 201 carries the one order")
	}
}

func TestIdempotencyOffCreatesDuplicates(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", func(c *Config) { c.Idempotency = false })
	c := n.newClient("ada")
	for range 3 {
		r := n.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k1")...)
		require.Equal(t, http.StatusCreated, r.Code)
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	}
	// Without idempotency every retry is a new order: the violation that the
	// checker must catch, recorded under both indexes.
	require.EqualValues(t, 3, ordersFor(t, rs, "k1"))
	n2, err := rs.Client().LLen(context.Background(), keyspace.OrderByRequest+"r1").Result()
	require.NoError(t, err)
	require.EqualValues(t, 3, n2)
	// And a missing key is allowed in this mode.
	r := n.do("POST", "/v1/orders", orderBody("r2"), c.auth...)
	require.Equal(t, http.StatusCreated, r.Code)
}

// A node that claimed a key and died before committing leaves a
// "processing" marker. Retries get 409 until the lease ends, then exactly
// one order is created.
func TestCrashAfterClaimRecoversWithOneOrder(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", func(c *Config) { c.IdempotencyLease = 300 * time.Millisecond })
	c := n.newClient("ada")
	userID := n.do("GET", "/v1/profile", nil, c.auth...).json(t)["user_id"].(string)

	// The dead node's claim, made exactly as a live node makes it.
	ctx := context.Background()
	req, _ := http.NewRequest("POST", "/v1/orders", nil)
	var in orderRequest
	require.NoError(t, jsonUnmarshal(jsonMarshal(t, orderBody("r1")), &in))
	_, err := claimScript.Run(ctx, rs.Client(), []string{keyspace.Idempotency + userID + ":crash"}, "dead-owner", fingerprint(req, in), 300).Result()
	require.NoError(t, err)

	r := n.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "crash")...)
	require.Equal(t, http.StatusConflict, r.Code)
	require.Equal(t, CodeIdempotencyInFlight, r.code(t))
	require.Equal(t, "1", r.Header.Get("Retry-After"))

	require.Eventually(t, func() bool {
		return n.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "crash")...).Code == http.StatusCreated
	}, 5*time.Second, 50*time.Millisecond)
	require.EqualValues(t, 1, ordersFor(t, rs, "crash"))

	// A commit by the dead owner arriving late must not create a second order.
	got, err := commitScript.Run(ctx, rs.Client(), []string{
		keyspace.Idempotency + userID + ":crash", keyspace.Order + "late", keyspace.UserOrders + userID, keyspace.OrderByRequest + "r1", keyspace.OrderByKey + "crash",
	}, "dead-owner", "{}", "late", 201, "{}", 1000).Int64()
	require.NoError(t, err)
	require.Zero(t, got)
	require.EqualValues(t, 1, ordersFor(t, rs, "crash"))
}

func TestOrderValidation(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", nil)
	c := n.newClient("ada")
	cases := []struct {
		name string
		body any
		hdr  []string
		want int
	}{
		// No request_id: the checker could not count this order.
		{"no request_id", map[string]any{"items": []map[string]any{{"sku": "a", "qty": 1}}}, nil, http.StatusBadRequest},
		// An order of nothing.
		{"no items", map[string]any{"request_id": "r"}, nil, http.StatusBadRequest},
		// A quantity that makes no sense.
		{"zero qty", map[string]any{"request_id": "r", "items": []map[string]any{{"sku": "a", "qty": 0}}}, nil, http.StatusBadRequest},
		// Control characters in a key could break logs and headers downstream.
		{"bad key", orderBody("r"), []string{"Idempotency-Key", "a b"}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := append(append([]string{}, c.auth...), "Idempotency-Key", fmt.Sprintf("k-%s", tc.name[:2]))
			hdr = append(hdr, tc.hdr...)
			r := n.do("POST", "/v1/orders", tc.body, hdr...)
			require.Equal(t, tc.want, r.Code, "%s", r.Body)
		})
	}
}
