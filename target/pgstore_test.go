package target

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// pgNodes starts n nodes with STORE=postgres against one real PostgreSQL and one real Redis, and a
// pgtruth reader over the same database.
func pgNodes(t *testing.T, n int) ([]*node, *pgtruth.Truth, *pgxpool.Pool) {
	t.Helper()
	pg := pgtest.Start(t)
	rs := redistest.Start(t)
	var nodes []*node
	for i := range n {
		nodes = append(nodes, startNode(t, rs, string(rune('a'+i)), func(c *Config) {
			c.Store, c.PostgresDSN, c.PostgresPoolSize = StorePostgres, pg.DSN, 4
			// Generous: the concurrency test holds a transaction open on purpose, and -race is slow.
			c.PostgresTimeout = 20 * time.Second
		}))
	}
	pool, err := pgxpool.New(context.Background(), pg.DSN)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return nodes, pgtruth.NewTruth(pool), pool
}

func TestPostgresOrdersIdempotent(t *testing.T) {
	nodes, truth, _ := pgNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ready := a.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, ready.Code, "%s", ready.Body)
	require.Contains(t, ready.json(t)["postgres_pool"], "max 4,", "the pool's size is reported in /readyz")
	c := a.newClient("ada")
	ctx := context.Background()

	first := a.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k1")...)
	require.Equal(t, http.StatusCreated, first.Code, "%s", first.Body)
	// A retry on another node replays the stored answer byte for byte.
	replay := b.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k1")...)
	require.Equal(t, string(first.Body), string(replay.Body))
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	mismatch := a.do("POST", "/v1/orders", orderBody("r2"), append(c.auth, "Idempotency-Key", "k1")...)
	require.Equal(t, http.StatusUnprocessableEntity, mismatch.Code)
	missing := a.do("POST", "/v1/orders", orderBody("r3"), c.auth...)
	require.Equal(t, http.StatusBadRequest, missing.Code)
	require.Equal(t, CodeIdempotencyMissing, missing.code(t))

	list := b.do("GET", "/v1/orders", nil, c.auth...)
	require.Equal(t, http.StatusOK, list.Code)
	require.Len(t, list.json(t)["orders"], 1)
	byKey, err := truth.OrdersByKey(ctx, []string{"k1", "never"})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 0}, byKey)
	byReq, err := truth.OrdersByRequestID(ctx, []string{"r1", "r2"})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 0}, byReq)
	ids, err := truth.StoredRequestIDs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"r1"}, ids)
}

// Two requests with one key at once create one order, and it is the primary key that decides, not
// timing: the test itself holds the key's idempotency row in an open transaction, waits until both
// requests' transactions are blocked on that row in PostgreSQL (pg_locks: not granted), then rolls back.
// One request's INSERT then takes the row; the other waits for that transaction, finds the row and
// replays its answer.
func TestPostgresConcurrentDuplicatesCreateOneOrder(t *testing.T) {
	nodes, truth, pool := pgNodes(t, 2)
	c := nodes[0].newClient("bob")
	userID := nodes[0].do("GET", "/v1/profile", nil, c.auth...).json(t)["user_id"].(string)
	ctx := context.Background()
	require.Equal(t, http.StatusOK, nodes[0].do("GET", "/readyz", nil).Code) // the schema exists

	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = blocker.Exec(ctx, "INSERT INTO "+pgtruth.Idempotency+
		" (user_id, idem_key, fingerprint, order_id, status, body) VALUES ($1, 'dup', 'x', 'x', 201, '{}')", userID)
	require.NoError(t, err)

	var wg sync.WaitGroup
	answers := make([]resp, 2)
	for i, n := range nodes {
		wg.Go(func() {
			answers[i] = n.do("POST", "/v1/orders", orderBody("rdup"), append(c.auth, "Idempotency-Key", "dup")...)
		})
	}
	// Both requests are inside PostgreSQL, waiting on the row the blocker holds.
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, poll.Until(wctx, 20*time.Millisecond, func(ctx context.Context) error {
		var waiting int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&waiting); err != nil {
			return err
		}
		if waiting < 2 {
			return fmt.Errorf("%d transaction(s) waiting on the key's row, want 2", waiting)
		}
		return nil
	}))
	require.NoError(t, blocker.Rollback(ctx))
	wg.Wait()

	replayed := 0
	for _, a := range answers {
		require.Equal(t, http.StatusCreated, a.Code, "%s", a.Body)
		if a.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	require.Equal(t, 1, replayed, "one request created the order, the other replayed it")
	require.Equal(t, string(answers[0].Body), string(answers[1].Body))
	n, err := truth.OrdersByKey(ctx, []string{"dup"})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, n)
}

func TestPostgresResourcesETag(t *testing.T) {
	nodes, truth, _ := pgNodes(t, 1)
	n := nodes[0]
	c := n.newClient("cy")
	patch := func(ifMatch string, v int) resp {
		return n.do("PATCH", "/v1/resources/r1", map[string]int{"value": v}, append(c.auth, "If-Match", ifMatch)...)
	}
	get := n.do("GET", "/v1/resources/r1", nil, c.auth...)
	require.Equal(t, `"0"`, get.Header.Get("ETag"), "never written: version 0")
	for _, tc := range []struct {
		ifMatch  string
		value    int
		code     int
		wantETag string
	}{
		{`*`, 5, http.StatusPreconditionFailed, `"0"`},   // * needs an existing resource
		{`"0"`, 5, http.StatusOK, `"1"`},                 // the first write creates it
		{`"0"`, 6, http.StatusPreconditionFailed, `"1"`}, // stale: answers the current version
		{`"1"`, 7, http.StatusOK, `"2"`},                 // current
		{`*`, 8, http.StatusOK, `"3"`},                   // any existing version
	} {
		r := patch(tc.ifMatch, tc.value)
		require.Equal(t, tc.code, r.Code, "If-Match %s: %s", tc.ifMatch, r.Body)
		require.Equal(t, tc.wantETag, r.Header.Get("ETag"), "If-Match %s", tc.ifMatch)
	}
	require.Equal(t, http.StatusPreconditionRequired, n.do("PATCH", "/v1/resources/r1", map[string]int{"value": 1}, c.auth...).Code)
	vals, err := truth.ResourceValues(context.Background(), []string{"r1", "none"})
	require.NoError(t, err)
	require.Equal(t, []int64{8, 0}, vals)
}

func TestPostgresConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		// postgres without a DSN has nowhere to store orders
		{"no dsn", func(c *Config) { c.Store = StorePostgres }, "POSTGRES_DSN: is required"},
		// a pool of 0 could never serve a request
		{"no pool", func(c *Config) { c.Store, c.PostgresDSN, c.PostgresPoolSize = StorePostgres, "postgres://x@y/z", 0 }, "POSTGRES_POOL_SIZE: 0 is outside"},
		// an unknown store is refused, not defaulted
		{"unknown", func(c *Config) { c.Store = "mysql" }, `STORE: "mysql" is not redis or postgres`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("redis://127.0.0.1:1/0", "n")
			tc.mutate(&cfg)
			require.ErrorContains(t, cfg.Validate(), tc.want)
		})
	}
}
