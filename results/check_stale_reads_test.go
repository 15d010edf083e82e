package results_test

import (
	"context"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/require"
)

// TestStaleReadsByMechanism runs the load engine's resource.update against the real reference API
// (STORE=postgres on a real PostgreSQL, a real redis-server) and folds reads.stale over its ledger.
//
// The run is sequential by construction: one client, one resource, MaxInFlight 1 with a fixed cap, so a
// request is only sent when the one before it has its answer (later ones are shed). No two requests
// interleave, which rules out the cache's one race (a fill landing after a concurrent write's DEL), and
// makes every count below follow from the mechanism alone, not from timing:
//   - no cache: every GET reads PostgreSQL, which answers every committed version: 0.
//   - cache, invalidation working: each acknowledged PATCH deleted the copy before its 200, so the next
//     GET (sent after that 200) misses and reads PostgreSQL: 0.
//   - cache, invalidation dropped: Redis refuses DEL to the API (ACL -del, a real refusal by the real
//     server; the Docker fault cache-invalidation-loss drops the same command on the wire instead). The
//     first GET fills the copy at version v, the first PATCH commits v+1 and is acknowledged, its DEL
//     fails and is not retried. The copy lives CACHE_TTL = 10 s, five times the 2 s load, so every later
//     GET answers v while v+1 was acknowledged before it: stale. Each later op reads v, is refused 412
//     (PostgreSQL holds v+1), re-reads v, ... 6 stale reads per op (5 conflicts allowed). Of 20 planned
//     ops, the bound of 10 needs only 2 to run after the first.
func TestStaleReadsByMechanism(t *testing.T) {
	pg := pgtest.Start(t)
	for _, tc := range []struct {
		name      string
		ttl       time.Duration
		dropDel   bool
		wantStale bool
	}{
		// PostgreSQL answers every read: nothing can be stale.
		{name: "no cache", ttl: 0},
		// The copy is deleted before each write's acknowledgment.
		{name: "cache with working invalidation", ttl: 10 * time.Second},
		// The copy outlives the write: every read after it is stale until the TTL.
		{name: "cache with dropped invalidations", ttl: 10 * time.Second, dropDel: true, wantStale: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := refapitest.Start(t, refapitest.WithConfig(func(c *target.Config) {
				c.Store, c.PostgresDSN, c.PostgresPoolSize, c.CacheTTL = target.StorePostgres, pg.DSN, 4, tc.ttl
				c.PostgresTimeout = 10 * time.Second // -race on a shared machine is slow
			}))
			if tc.dropDel {
				require.NoError(t, api.Redis.Client().Do(context.Background(), "ACL", "SETUSER", "default", "-del").Err())
			}
			// The rows share one PostgreSQL, so res-0 starts where the row before left it: the check
			// compares versions with each other, never with 0.
			res, err := load.Run(context.Background(), load.Config{
				BaseURL: api.URL, Clients: 1, Seed: 7, Resources: 1, RunDir: t.TempDir(),
				Mix:         load.Mix{{Op: load.ResourceUpdate{}, Weight: 1}},
				Phases:      []load.Phase{{Name: "steady", Duration: 2 * time.Second, Pacer: load.Constant(10)}},
				MaxInFlight: 1, FixedInFlight: true, MaxLateness: 5 * time.Second,
			}, load.WithoutProgress())
			require.NoError(t, err)
			f, err := results.CheckLedger(context.Background(), nil, res.Ledger)
			require.NoError(t, err)
			stale, longest := f["reads.stale"], f["reads.stale_max_ms"]
			require.Empty(t, stale.NotChecked, "the check needs no store")
			reads := 0
			for _, r := range res.Ledger.Resources {
				reads += len(r.Reads)
			}
			require.Greater(t, reads, 10, "the ledger kept the reads")
			t.Logf("%d reads, reads.stale %d, reads.stale_max_ms %d", reads, stale.Value, longest.Value)
			if !tc.wantStale {
				require.Zero(t, stale.Value, "%+v", stale)
				require.Zero(t, longest.Value)
				return
			}
			require.GreaterOrEqual(t, stale.Value, int64(10), "%d reads", reads)
			require.Equal(t, []string{"res-0"}, stale.Examples)
			// The stalest read began after the first write's ack and within the run (2 s plus grace).
			require.Greater(t, longest.Value, int64(0))
			require.Less(t, longest.Value, int64(10_000))
		})
	}
}
