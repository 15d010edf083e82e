package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestPostgresStack: a stateless-postgres stack runs a labelled PostgreSQL beside Redis, its nodes serve
// orders from it (a retry with the same key replays, through another node or the same), the ground-truth
// reader counts exactly what was stored, each node reports its pool (max_connections shared by two
// nodes), and Down leaves nothing.
func TestPostgresStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-pg-%d", os.Getpid())
	s := stacktest.Up(t, ctx, stack.WithRunID(runID), stack.WithArch("stateless-postgres"), stack.WithReplicas(2))
	pg, ok := s.Lookup(arch.PostgresName)
	require.True(t, ok, "the stack has its postgres container")
	require.Equal(t, arch.RolePostgres, pg.Role)

	res, err := http.Get(s.Entry + "/_chaosbench/node/api-1/readyz")
	require.NoError(t, err)
	var ready map[string]string
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ready))
	_ = res.Body.Close()
	require.Equal(t, "ok", ready["postgres"])
	require.Contains(t, ready["postgres_pool"], fmt.Sprintf("max %d,", arch.PostgresPoolSize(2)))

	auth, err := pgtest.Login(s.Entry, "pg-user")
	require.NoError(t, err)
	for i, tc := range []struct {
		key, rid string
		replay   bool
	}{
		{"k1", "r1", false}, // stored
		{"k1", "r1", true},  // the retry replays (round-robin: the other node)
		{"k1", "r1", true},  // and again
		{"k2", "r2", false}, // another order
	} {
		code, replayed, err := pgtest.Order(s.Entry, auth, tc.key, tc.rid)
		require.NoError(t, err, "order %d", i)
		require.Equal(t, http.StatusCreated, code, "order %d", i)
		require.Equal(t, tc.replay, replayed, "order %d", i)
	}

	dsn, err := s.PostgresHostDSN(ctx)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	truth := pgtruth.NewTruth(pool)
	n, err := truth.OrdersByKey(ctx, []string{"k1", "k2", "k3"})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 1, 0}, n)
	ids, err := truth.StoredRequestIDs(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"r1", "r2"}, ids)

	require.NoError(t, s.Down(ctx))
	stacktest.RequireNoRuns(t, runID)
}
