package load_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExpiredSessionRenewFails: a built-in client whose session expired and whose new login is refused
// sends nothing; its op is a failed request (class setup, the renewal's error), never an ok one.
func TestExpiredSessionRenewFails(t *testing.T) {
	var logins, echoes atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/users", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("POST /v1/login", func(w http.ResponseWriter, r *http.Request) {
		if logins.Add(1) > 1 { // the first login's session lasts a second; no other login is let in
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"tok","session_id":"s-1","expires_in":1}`))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /v1/echo", func(w http.ResponseWriter, r *http.Request) {
		echoes.Add(1)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := load.Config{BaseURL: srv.URL, Clients: 1, Seed: 7, Mix: load.Mix{{Op: echoOp{}, Weight: 1}},
		Phases:  []load.Phase{{Name: "steady", Duration: 2 * time.Second, Pacer: load.Constant(20)}},
		Retry:   load.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: time.Second},
		Timeout: time.Second, MaxLateness: 5 * time.Second}
	res, err := load.Run(context.Background(), cfg, load.WithoutProgress())
	require.NoError(t, err)
	require.Greater(t, logins.Load(), int64(1), "the session expired and a new login was tried")
	require.Less(t, echoes.Load(), res.Totals.Completed, "some ops had no session to send with")
	assert.Equal(t, res.Totals.Completed-echoes.Load(), res.Totals.Errors, "every op that sent nothing is an error")
}
