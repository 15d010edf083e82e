package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestPostgresOutage: with PostgreSQL stopped, a new order is refused (503: nothing could commit it),
// while the retry of an order already committed still replays from the Redis cache; once the fault is
// reverted the server is back with what it had committed (its data directory is the container's own),
// the refused order goes through on retry, and each key has exactly one order.
func TestPostgresOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-pgout-%d", os.Getpid())),
		stack.WithArch("stateless-postgres"), stack.WithReplicas(2))
	auth, err := pgtest.Login(s.Entry, "outage-user")
	require.NoError(t, err)
	code, _, err := pgtest.Order(s.Entry, auth, "before", "r-before")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)

	in, id := inject(t, s, "postgres-outage", nil, "postgres")
	require.Equal(t, "postgres docker stop SIGTERM", in.Records()[0].Mechanism)
	code, _, err = pgtest.Order(s.Entry, auth, "during", "r-during")
	require.NoError(t, err)
	// A stopped container's address answers nothing: the node waits out POSTGRES_TIMEOUT (2 s), well inside
	// NGINX's upstream timeout (5 s), and answers 503.
	require.Equal(t, http.StatusServiceUnavailable, code, "no store to commit to")
	code, replayed, err := pgtest.Order(s.Entry, auth, "before", "r-before")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "a committed order's retry replays from the Redis cache")
	require.True(t, replayed)

	require.NoError(t, in.Revert(ctx, id)) // starts it, then waits until every node is ready again
	code, replayed, err = pgtest.Order(s.Entry, auth, "during", "r-during")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	require.False(t, replayed, "the refused attempt committed nothing")

	dsn, err := s.PostgresHostDSN(ctx)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	n, err := pgtruth.NewTruth(pool).OrdersByKey(ctx, []string{"before", "during"})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 1}, n, "the order committed before the outage survived the restart")
}
