package keyspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/target"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/stretchr/testify/require"
)

// The checker's tests: results' checks over the ledger, with ground truth
// read by RedisTruth from a real redis-server that the reference API (in
// process) wrote. A check is trusted once it catches its violation on a
// design that has it and reports zero on one that does not.

var _ results.Truth = (*keyspace.RedisTruth)(nil)

// check runs every registered check with RedisTruth, as the runner does, and
// returns the findings and the summary fields they fill.
func check(t *testing.T, rs *redistest.Server, ledger load.LedgerSnapshot) (results.Findings, results.Arch) {
	t.Helper()
	f, err := results.CheckLedger(context.Background(), keyspace.NewRedisTruth(rs.Client()), ledger)
	require.NoError(t, err)
	var a results.Arch
	f.Fill(&a)
	return f, a
}

// api is the reference API in-process on a real redis-server.
type api struct {
	t    *testing.T
	url  string
	auth string
}

func startAPI(t *testing.T, rs *redistest.Server, idempotency bool) *api {
	srv := refapitest.Start(t, refapitest.WithRedis(rs), refapitest.WithConfig(func(c *target.Config) { c.Idempotency = idempotency }))
	a := &api{t: t, url: srv.URL}
	body := `{"username":"ada","password":"password-ada"}`
	a.post("/v1/users", body, "")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(a.post("/v1/login", body, ""), &out))
	a.auth = "Bearer " + out.AccessToken
	return a
}

func (a *api) post(path, body, key string) []byte {
	req, _ := http.NewRequest("POST", a.url+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if a.auth != "" {
		req.Header.Set("Authorization", a.auth)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	require.Less(a.t, res.StatusCode, 300, "%s %s: %s", path, key, b.String())
	return b.Bytes()
}

// order sends one logical order `sends` times with the same key and request
// id, as a client whose answers got lost would, and returns its ledger entry.
func (a *api) order(key string, sends int) load.OrderEntry {
	var last []byte
	for range sends {
		last = a.post("/v1/orders", fmt.Sprintf(`{"request_id":"req-%s","items":[{"sku":"tea","qty":1}]}`, key), key)
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	require.NoError(a.t, json.Unmarshal(last, &out))
	return load.OrderEntry{Key: key, RequestID: "req-" + key, OrderID: out.OrderID, Status: load.OrderAcknowledged, HTTPStatus: 201, Attempts: sends}
}

func TestCheckerCatchesDuplicatesOnlyWithoutIdempotency(t *testing.T) {
	for _, tc := range []struct {
		name        string
		idempotency bool
		want        int64
	}{
		// Retries of 5 orders (3 sends each) create 2 extra orders each when nothing deduplicates.
		{"idempotency off", false, 10},
		// The same retries replay the stored answer: no extra order.
		{"idempotency on", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Start(t)
			a := startAPI(t, rs, tc.idempotency)
			var ledger load.LedgerSnapshot
			for i := range 5 {
				ledger.Orders = append(ledger.Orders, a.order(fmt.Sprintf("k%d", i), 3))
			}
			f, c := check(t, rs, ledger)
			require.Equal(t, tc.want, c.Count("writes.duplicates"))
			require.EqualValues(t, 5, c.Count("writes.acknowledged"))
			require.Zero(t, c.Count("writes.lost"))
			if tc.want > 0 {
				require.NotEmpty(t, f["writes.duplicates"].Examples)
			}
		})
	}
}

func TestCheckerCatchesLostWritesUpdatesAndSessions(t *testing.T) {
	rs := redistest.Start(t)
	a := startAPI(t, rs, true)
	ctx := context.Background()
	kept, gone := a.order("kept", 1), a.order("gone", 1)
	// An order that was acknowledged and then vanished (as after a Redis
	// restart without persistence): the checker must see it missing.
	require.NoError(t, rs.Client().Del(ctx, keyspace.OrderByKey+"gone", keyspace.OrderByRequest+"req-gone").Err())
	unknownApplied := a.order("maybe", 1)
	unknownApplied.Status, unknownApplied.OrderID = load.OrderUnknown, ""
	unknownAbsent := load.OrderEntry{Key: "never", RequestID: "req-never", Status: load.OrderUnknown}

	// Resources: r1 has all 3 acknowledged increments, r2 lost 2 of 5, r3
	// has one more than acknowledged (an answer lost after it applied).
	require.NoError(t, rs.Client().HSet(ctx, keyspace.Resource+"r1", "value", 3, "version", 3).Err())
	require.NoError(t, rs.Client().HSet(ctx, keyspace.Resource+"r2", "value", 3, "version", 3).Err())
	require.NoError(t, rs.Client().HSet(ctx, keyspace.Resource+"r3", "value", 2, "version", 2).Err())

	ledger := load.LedgerSnapshot{
		Orders: []load.OrderEntry{kept, gone, unknownApplied, unknownAbsent},
		Resources: []load.ResourceEntry{
			{ID: "r1", Acknowledged: 3}, {ID: "r2", Acknowledged: 5}, {ID: "r3", Acknowledged: 1, Uncertain: 1},
		},
		Sessions: []load.SessionEntry{{SessionID: "s1"}, {SessionID: "s2", Lost: true, RejectedAlive: 1}},
	}
	f, c := check(t, rs, ledger)
	for name, want := range map[string]int64{"writes.acknowledged": 2, "writes.lost": 1, "writes.indeterminate": 2,
		"writes.indeterminate_applied": 1, "writes.duplicates": 0, "updates.acknowledged": 9, "updates.lost": 2,
		"updates.extra": 1, "sessions.total": 2, "sessions.lost": 1} {
		require.Equal(t, want, c.Count(name), name)
	}
	require.Equal(t, []string{"gone"}, f["writes.lost"].Examples)
	require.Equal(t, []string{"r2"}, f["updates.lost"].Examples)
	require.Equal(t, []string{"s2"}, f["sessions.lost"].Examples)
	for name, r := range f {
		require.Empty(t, r.NotChecked, "%s: Redis answers every check", name)
	}
}

// TestCheckerReadsStreamedOrders: a real load run (orders only) against the
// reference API on a real redis-server streams its orders to orders.jsonl;
// the checker reads them back in batches (more orders than one batch) and
// finds every acknowledged order exactly once. From the run folder alone
// (ReadLedger), an acknowledged order deleted from Redis afterwards is lost.
func TestCheckerReadsStreamedOrders(t *testing.T) {
	rs := redistest.Start(t)
	a := startAPI(t, rs, true)
	ctx := context.Background()
	dir := t.TempDir()
	lr, err := load.Run(ctx, load.Config{BaseURL: a.url, Clients: 4, Seed: 5, RunDir: dir,
		Mix:         load.Mix{{Op: load.OrderCreate{}, Weight: 1}},
		MaxLateness: 5 * time.Second,
		Phases:      []load.Phase{{Name: "orders", Duration: 3 * time.Second, Pacer: load.Constant(400)}}},
		load.WithoutProgress())
	require.NoError(t, err)
	require.Empty(t, lr.Ledger.Orders, "streamed, not in memory")
	acked := lr.Ledger.OrdersBy()[load.OrderAcknowledged]
	require.Greater(t, lr.Ledger.OrderCount(), 500, "more than one batch of orders")
	require.Positive(t, acked)

	_, c := check(t, rs, lr.Ledger)
	require.EqualValues(t, acked, c.Count("writes.acknowledged"))
	require.Zero(t, c.Count("writes.lost"))
	require.Zero(t, c.Count("writes.duplicates"))
	require.EqualValues(t, lr.Ledger.OrderCount(), c.Count("writes.acknowledged")+c.Count("writes.rejected")+c.Count("writes.indeterminate"))

	var gone load.OrderEntry
	require.NoError(t, lr.Ledger.EachOrder(func(o load.OrderEntry) error {
		if o.Status == load.OrderAcknowledged {
			gone = o // the last one: it sits in the last batch
		}
		return nil
	}))
	require.NoError(t, rs.Client().Del(ctx, keyspace.OrderByKey+gone.Key, keyspace.OrderByRequest+gone.RequestID).Err())
	snap, err := load.ReadLedger(filepath.Join(dir, runfolder.LedgerFile))
	require.NoError(t, err)
	f, c := check(t, rs, snap)
	require.EqualValues(t, 1, c.Count("writes.lost"))
	require.Equal(t, []string{gone.Key}, f["writes.lost"].Examples)
}
