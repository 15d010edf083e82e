package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refreshRun drives 10 clients against the real reference API with access tokens of 2 s (leeway 0) for
// 5 s: every client's token expires at least once (2 s, plus at most 1 s that the token's whole-second
// expiry takes off, is well inside 5 s), so every client refreshes by mechanism, not by luck.
func refreshRun(t *testing.T, grace time.Duration, wrap func(http.Handler) http.Handler) *Result {
	t.Helper()
	api := refapitest.Start(t, refapitest.WithHandler(wrap), refapitest.WithConfig(func(c *target.Config) {
		c.AccessTTL, c.RefreshGrace, c.TokenLeeway = 2*time.Second, grace, 0
	}))
	cfg := Config{BaseURL: api.URL, Clients: 10, Seed: 5, Resources: 4, RunDir: t.TempDir(),
		Mix:         Mix{{Op: ProfileRead{}, Weight: 1}},
		Phases:      []Phase{{"steady", 5 * time.Second, Constant(40)}},
		MaxLateness: 5 * time.Second}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	return res
}

func refreshes(res *Result) (n int) {
	for _, s := range res.Ledger.Sessions {
		n += s.Refreshes
	}
	return n
}

// A client told 401 token_expired refreshes instead of logging in again: one session per client all run
// long, each refreshed, no error and nothing lost.
func TestClientRefreshesOnTokenExpired(t *testing.T) {
	res := refreshRun(t, 0, nil)
	assert.Zero(t, res.Totals.Errors, "%+v", res.Stats)
	assert.Zero(t, res.Totals.LostSessions)
	require.Len(t, res.Ledger.Sessions, 10, "a refresh keeps the session: no client logged in again")
	for _, s := range res.Ledger.Sessions {
		assert.Positive(t, s.Refreshes, "client %d", s.Client)
		assert.Zero(t, s.Rejections, "client %d: an expired access token is not a rejected session", s.Client)
	}
}

// loseFirstRefreshAnswer lets the first POST /v1/refresh reach the API (which rotates the family) and
// answers 502 instead of its answer: a node killed after the commit. The client retries with the token
// it holds, now retired.
func loseFirstRefreshAnswer(lost *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/refresh" && lost.CompareAndSwap(false, true) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				if rec.Code == http.StatusOK {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				lost.Store(false) // not a rotation: lose the next one instead
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Strict rotation: the retry is taken for a reuse, the family is revoked, and the client, which did
// nothing but retry, falls back to a new login: one lost session, counted. With a grace, the retry gets
// the same pair and nobody is logged out.
func TestClientRefreshAfterLostAnswer(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		lost  int64
	}{
		// The retry presents a retired token: refresh_token_reused, a new login, a lost session.
		{"strict", 0, 1},
		// The retry is answered with the rotation it lost.
		{"grace", 5 * time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lost atomic.Bool
			res := refreshRun(t, tc.grace, loseFirstRefreshAnswer(&lost))
			require.True(t, lost.Load(), "an answer was lost")
			assert.Equal(t, tc.lost, res.Totals.LostSessions)
			assert.Len(t, res.Ledger.Sessions, 10+int(tc.lost), "a lost session means one new login")
			assert.Positive(t, refreshes(res))
			if tc.lost > 0 {
				var ended []string
				for _, s := range res.Ledger.Sessions {
					if s.Lost {
						ended = append(ended, s.EndReason)
					}
				}
				assert.Equal(t, []string{target.CodeRefreshReused}, ended)
			}
		})
	}
}
