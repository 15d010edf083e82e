package load

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGate: three workers arriving one by one all get the same start instant, decided when the last
// arrives and GateLead ahead of it; a segment asking twice counts once; the coordinator's Wait sees the
// same instant. Ordered by the gate's own state (the third arrives only after the first two are counted),
// never by sleeps.
func TestGate(t *testing.T) {
	g := NewGate(3)
	srv := httptest.NewServer(g)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	got := make([]time.Time, 4)
	ask := func(i int, seg Segment) {
		defer wg.Done()
		at, err := AskGate(srv.URL, seg)(ctx)
		assert.NoError(t, err)
		got[i] = at
	}
	counted := func(n int) func() bool {
		return func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.ready) == n }
	}
	wg.Add(3)
	go ask(0, Segment{Index: 0, Count: 3})
	go ask(1, Segment{Index: 1, Count: 3})
	go ask(2, Segment{Index: 1, Count: 3}) // segment 1 again: a retried request
	require.Eventually(t, counted(2), 5*time.Second, time.Millisecond, "two distinct segments counted")
	select {
	case <-g.open:
		t.Fatal("the gate opened before every worker was ready")
	default:
	}
	before := time.Now()
	wg.Add(1)
	go ask(3, Segment{Index: 2, Count: 3})
	wg.Wait()
	at, err := g.Wait(ctx)
	require.NoError(t, err)
	for i, x := range got {
		require.True(t, at.Equal(x), "worker %d got the shared instant: %s, not %s", i, x, at)
	}
	require.False(t, at.Before(before.Add(GateLead)), "GateLead after the last arrival")
}

// TestGateNotReady: a gate short of workers says how many were ready when its wait ends.
func TestGateNotReady(t *testing.T) {
	g := NewGate(2)
	g.arrive("0/2")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Wait(ctx)
	require.ErrorContains(t, err, "1 of 2 workers ready")
}
