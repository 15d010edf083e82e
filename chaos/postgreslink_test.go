package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestPostgresLinkDelaysOrders: a 50 ms delay on api-2's link to PostgreSQL makes every order through
// api-2 take at least 400 ms, and after the revert no rule is left and orders go through directly.
//
// Margin: an order is four sequential round trips to PostgreSQL (BEGIN, the idempotency record's INSERT,
// the order's INSERT, COMMIT), each passing the proxy twice, held with time.Sleep until arrival + delay,
// which never returns early: 4 × 2 × 50 ms = 400 ms is a hard lower bound, however noisy the machine. The
// first order after the injection may meet a pooled connection the fault closed (503, retried with the
// same key, as a client would).
func TestPostgresLinkDelaysOrders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-pglink-%d", os.Getpid())),
		stack.WithArch("stateless-postgres"), stack.WithReplicas(2))
	auth, err := pgtest.Login(s.Entry, "link-user")
	require.NoError(t, err)
	api2 := s.Entry + "/_chaosbench/node/api-2"

	in, id := inject(t, s, "postgres-link", chaos.Params{"delay": "50ms"}, "api-2")
	require.Contains(t, in.Records()[0].Mechanism, "on api-2 -> postgres:5432")
	for i := range 4 {
		key := fmt.Sprintf("slow-%d", i)
		start := time.Now()
		code, _, err := pgtest.Order(api2, auth, key, key)
		require.NoError(t, err)
		if code == http.StatusServiceUnavailable && i == 0 {
			start = time.Now()
			code, _, err = pgtest.Order(api2, auth, key, key)
			require.NoError(t, err)
		}
		require.Equal(t, http.StatusCreated, code, "order %d", i)
		require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "order %d: four round trips through the proxy", i)
	}
	require.NoError(t, in.Revert(ctx, id))
	out, err := s.Sidecar(ctx, "api-2", "iptables-save")
	require.NoError(t, err)
	require.NotContains(t, out, "5432", "revert left a rule in api-2's namespace")
	code, _, err := pgtest.Order(api2, auth, "after", "after")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
}
