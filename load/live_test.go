package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOnLive: a watcher gets the run so far once a second, consistent with itself and with the result:
// a second per entry, counts that only grow, the scheduler's per-second counts summing to its totals,
// and the failed requests by kind as the report names them.
func TestOnLive(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%10 == 0 { // one request in ten fails, for good (no retry makes it succeed)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	var lives []Live
	cfg := Config{BaseURL: srv.URL, Mix: getMix(), Seed: 1, MaxLateness: time.Second, Retry: NoRetry(),
		Phases: []Phase{{"c", 3 * time.Second, Constant(100)}}}
	res, err := Run(context.Background(), cfg, WithoutProgress(), OnLive(func(l Live) { lives = append(lives, l) }))
	require.NoError(t, err)
	require.NotEmpty(t, lives, "a 3 s run has ticks")
	var last Live
	for _, l := range lives {
		require.GreaterOrEqual(t, l.Totals.Completed, last.Totals.Completed, "counts only grow")
		require.LessOrEqual(t, l.Final, len(l.Timeline))
		var planned int64
		for i, s := range l.Timeline {
			require.Equal(t, i, s.Second)
			planned += s.Planned
		}
		require.Equal(t, l.Totals.Planned, planned, "every planned request is in some second")
		last = l
	}
	require.LessOrEqual(t, last.Totals.Completed, res.Totals.Completed)
	require.Positive(t, last.Errors["http_503"], "failures by kind, the report's names")
	require.LessOrEqual(t, last.Errors["http_503"], res.Totals.Errors)
	var p50 bool
	for _, s := range last.Timeline {
		p50 = p50 || s.P50 > 0
		require.GreaterOrEqual(t, s.P99, s.P95)
		require.GreaterOrEqual(t, s.P95, s.P50)
	}
	require.True(t, p50, "percentiles from the live windows")
}
