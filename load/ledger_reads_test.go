package load

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The resource reads and writes are additive to ledger.json: they round-trip sorted (reads by start,
// writes by ack), and an entry without them (a ledger written before, or a declared counter) has none.
func TestLedgerKeepsVersions(t *testing.T) {
	l := newLedger()
	l.recordRead("res-1", VersionRead{Version: 2, Client: 1, StartUs: 300, EndUs: 350})
	l.recordRead("res-1", VersionRead{Version: 1, Client: 2, StartUs: 100, EndUs: 400})
	l.recordWrite("res-1", VersionWrite{Version: 2, Client: 1, AckUs: 250})
	l.RecordResourceUpdate("res-1", true, 0, 0)
	l.RecordCounter("likes", "k", 1, true, 0, 0)
	path := filepath.Join(t.TempDir(), "ledger.json")
	require.NoError(t, l.Snapshot("r", time.Now()).WriteFile(path))
	back, err := ReadLedger(path)
	require.NoError(t, err)
	require.Len(t, back.Resources, 2)
	counter, res := back.Resources[0], back.Resources[1]
	require.Equal(t, "likes/k", counter.ID)
	require.Nil(t, counter.Reads, "a declared counter keeps no versions")
	require.Equal(t, []VersionRead{{1, 2, 100, 400}, {2, 1, 300, 350}}, res.Reads)
	require.Equal(t, []VersionWrite{{2, 1, 250}}, res.Writes)
	require.Equal(t, int64(1), res.Acknowledged)
	old, err := ReadLedger(writeOld(t))
	require.NoError(t, err, "a ledger without reads and writes still reads")
	require.Nil(t, old.Resources[0].Reads)
}

func writeOld(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.json")
	old := `{"version": 2, "run_id": "x", "start": "2026-12-07T00:00:00Z", "order_counts": {},
 "resources": [{"id": "res-2", "acknowledged": 41, "uncertain": 1, "failed": 0, "conflicts": 9}], "sessions": []}`
	require.NoError(t, os.WriteFile(path, []byte(old), 0o644))
	return path
}
