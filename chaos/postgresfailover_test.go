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
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestPostgresFailover: a stack with a synchronous standby (postgres-2, streaming, which Up waits for)
// loses its primary to SIGKILL and the standby is promoted. Every order acknowledged before the kill is
// on the new primary (sync: each was flushed on the standby before its 201), the API takes writes again
// through the same DSN (its pool drops the dead connections; new ones skip the dead host for the
// read-write one), and the revert re-makes the old primary as a standby instead of a second primary.
func TestPostgresFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := arch.Preset("stateless-postgres")
	require.NoError(t, err)
	a.Name, a.PostgresStandby = "pg-sync", arch.StandbySync
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-pgfo-%d", os.Getpid())),
		stack.WithArchitecture(a), stack.WithReplicas(1))
	sb, ok := s.Lookup(arch.PostgresStandbyName)
	require.True(t, ok, "the stack has its standby")
	require.Equal(t, arch.RolePostgresStandby, sb.Role)

	auth, err := pgtest.Login(s.Entry, "failover-user")
	require.NoError(t, err)
	var keys []string
	for i := range 10 {
		key := fmt.Sprintf("before-%d", i)
		code, _, err := pgtest.Order(s.Entry, auth, key, "r-"+key)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, key)
		keys = append(keys, key)
	}

	in, id := inject(t, s, "postgres-failover", nil, "postgres")
	rec := in.Records()[0]
	t.Log(rec.Mechanism)
	require.Contains(t, rec.Mechanism, "postgres primary postgres killed (docker kill SIGKILL; sync standby postgres-2 streaming")
	require.Contains(t, rec.Mechanism, "postgres-2 promoted (pg_promote)")
	out, err := s.Exec(ctx, arch.PostgresStandbyName, "psql", "-h", "/var/run/postgresql", "-U", "postgres", "-XAtc", "SELECT pg_is_in_recovery()")
	require.NoError(t, err)
	require.Equal(t, "f", out, "postgres-2 is the primary now")

	// The first attempts may fail (a pooled connection to the dead primary waits out POSTGRES_TIMEOUT;
	// a new one waits connect_timeout on the dead host first): the same key is retried until it is stored.
	for {
		code, _, err := pgtest.Order(s.Entry, auth, "after", "r-after")
		if err == nil && code == http.StatusCreated {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no write went through after the failover: %d %v", code, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	keys = append(keys, "after")

	require.NoError(t, in.Revert(ctx, id))
	rec = in.Records()[0]
	t.Log(rec.Mechanism)
	require.Contains(t, rec.Mechanism, "postgres re-made as postgres-2's sync standby (pg_basebackup)")
	out, err = s.Exec(ctx, arch.PostgresName, "psql", "-h", "/var/run/postgresql", "-U", "postgres", "-XAtc", "SELECT pg_is_in_recovery()")
	require.NoError(t, err)
	require.Equal(t, "t", out, "the old primary came back as a standby, not as a second primary")
	code, _, err := pgtest.Order(s.Entry, auth, "rejoined", "r-rejoined")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "writes go on with the old primary back as a synchronous standby")
	keys = append(keys, "rejoined")

	dsn, err := s.PostgresHostDSN(ctx)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	n, err := pgtruth.NewTruth(pool).OrdersByKey(ctx, keys)
	require.NoError(t, err)
	for i, k := range keys {
		require.Equal(t, int64(1), n[i], "order %s on the new primary", k)
	}
}
