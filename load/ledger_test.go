package load

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allOrders reads every order of a ledger, streamed or in memory.
func allOrders(t *testing.T, s LedgerSnapshot) []OrderEntry {
	t.Helper()
	var out []OrderEntry
	require.NoError(t, s.EachOrder(func(o OrderEntry) error { out = append(out, o); return nil }))
	return out
}

// TestLedgerStreamsOrders: with a RunDir, orders go to orders.jsonl while
// the run goes (flushed every second, like records), none stay in memory,
// and ledger.json (version 2) names the file and counts them.
func TestLedgerStreamsOrders(t *testing.T) {
	_, srv := newStub(t)
	dir := t.TempDir()
	cfg := quick(srv.URL, 100, 2500*time.Millisecond)
	cfg.Mix = Mix{{OrderCreate{}, 1}}
	cfg.RunDir = dir
	watch := watchLines(filepath.Join(dir, runfolder.OrdersFile))
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	midLines := watch()
	assert.Greater(t, midLines, 50, "orders must reach the file while the run goes")

	assert.Empty(t, res.Ledger.Orders)
	assert.Equal(t, filepath.Join(dir, runfolder.OrdersFile), res.Ledger.OrdersFile)
	assert.Equal(t, res.Files.Orders, res.Ledger.OrdersFile)
	orders := allOrders(t, res.Ledger)
	assert.Len(t, orders, int(res.Totals.Completed), "one entry per order request")
	assert.Equal(t, len(orders), res.Ledger.OrderCount())
	assert.Equal(t, len(orders), res.Ledger.OrdersBy()[OrderAcknowledged])
	keys := map[string]bool{}
	for _, o := range orders {
		assert.False(t, keys[o.Key], "key %s recorded twice", o.Key)
		keys[o.Key] = true
		assert.NotEmpty(t, o.OrderID)
	}

	// ledger.json names the file relative to itself: the folder can move.
	b, err := os.ReadFile(res.Files.Ledger)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	assert.EqualValues(t, 2, raw["version"])
	assert.Equal(t, runfolder.OrdersFile, raw["orders_file"])
	assert.NotContains(t, raw, "orders")
	moved := filepath.Join(t.TempDir(), "moved")
	require.NoError(t, os.Rename(dir, moved))
	snap, err := ReadLedger(filepath.Join(moved, runfolder.LedgerFile))
	require.NoError(t, err)
	assert.Equal(t, orders, allOrders(t, snap))
	assert.Equal(t, res.Ledger.OrderCounts, snap.OrderCounts)
}

// TestOrderBatches: batches never exceed their size, cover every order once,
// and a version 1 ledger.json (orders inline) still reads.
func TestOrderBatches(t *testing.T) {
	dir := t.TempDir()
	l := newLedger()
	require.NoError(t, l.stream(filepath.Join(dir, runfolder.OrdersFile)))
	statuses := []OrderStatus{OrderAcknowledged, OrderUnknown, OrderRejected}
	for i := range 1234 {
		// A varying optional field: a reused batch slot must not keep the
		// previous order's OrderID.
		o := OrderEntry{Key: "k-" + strconv.Itoa(i), Status: statuses[i%3]}
		if i%2 == 0 {
			o.OrderID = "o-" + strconv.Itoa(i)
		}
		l.RecordOrder(o)
	}
	require.NoError(t, l.close())
	snap := l.Snapshot("run", time.Now())
	seen, batches := 0, 0
	require.NoError(t, snap.OrderBatches(500, func(b []OrderEntry) error {
		batches++
		assert.LessOrEqual(t, len(b), 500)
		for _, o := range b {
			assert.Equal(t, seen%2 == 0, o.OrderID != "", "order %d: %+v", seen, o)
			seen++
		}
		return nil
	}))
	assert.Equal(t, 1234, seen)
	assert.Equal(t, 3, batches)
	assert.Equal(t, map[OrderStatus]int{OrderAcknowledged: 412, OrderUnknown: 411, OrderRejected: 411}, snap.OrdersBy())

	v1 := `{"version": 1, "run_id": "r", "orders": [{"key": "a", "status": "acknowledged"}, {"key": "b", "status": "unknown"}], "resources": [], "sessions": []}`
	p := filepath.Join(dir, "v1.json")
	require.NoError(t, os.WriteFile(p, []byte(v1), 0o644))
	old, err := ReadLedger(p)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, []string{allOrders(t, old)[0].Key, allOrders(t, old)[1].Key})
	assert.Equal(t, map[OrderStatus]int{OrderAcknowledged: 1, OrderUnknown: 1}, old.OrdersBy())
}
