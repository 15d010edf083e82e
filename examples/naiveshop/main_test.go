package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/conform"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T) string {
	rs := redistest.Start(t)
	opt, err := redis.ParseURL(rs.URL())
	require.NoError(t, err)
	s := &shop{rdb: redis.NewClient(opt), node: "n1", seen: map[string]stored{}, payment: 20 * time.Millisecond}
	hs := httptest.NewServer(s.routes())
	t.Cleanup(hs.Close)
	return hs.URL
}

// The conformance suite finds the naive design's flaws, and only those: the check-then-set idempotency,
// last-write-wins updates, and the defaults it never thought about (limits, error bodies of unknown paths).
func TestConformFindsTheNaiveFlaws(t *testing.T) {
	rep, err := conform.Run(context.Background(), start(t))
	require.NoError(t, err)
	var failed []string
	for _, x := range rep.Results {
		if x.Status == conform.Failed {
			failed = append(failed, x.Rule)
		}
	}
	require.ElementsMatch(t, []string{
		"idempotency.payload-mismatch", // no payload fingerprint
		"idempotency.concurrent",       // check-then-set lets racing sends through
		"etag.if-match-required",       // If-Match is ignored...
		"etag.stale",                   // ...so a stale one wins too
		"errors.shape",                 // the mux's text 404
		"limits.body",                  // a 400 decode error, not 413
		"limits.headers",               // Go's 1 MiB default header limit
	}, failed)
	require.NotZero(t, rep.Failed())
}
