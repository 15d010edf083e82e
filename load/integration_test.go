package load

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startTarget runs the real reference API in-process against a real
// redis-server.
func startTarget(t *testing.T, auth target.AuthMode) string {
	rs := redistest.Start(t)
	cfg := target.DefaultConfig()
	cfg.RedisURL = rs.URL()
	cfg.NodeID = "api-test"
	cfg.JWTSecret = "load-test-secret-0123456789abcdef0123"
	cfg.BcryptCost = 4 // the minimum: the test exercises the engine, not hashing
	cfg.LogLevel = "error"
	cfg.Auth = auth
	srv, err := target.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// resourceValue reads a resource as a fresh user.
func resourceValue(t *testing.T, base, id string) int64 {
	body := []byte(`{"username":"checker-` + id + `","password":"checker-password-1"}`)
	post := func(path string) *http.Response {
		r, err := http.Post(base+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		return r
	}
	post("/v1/users").Body.Close()
	lr := post("/v1/login")
	defer lr.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(lr.Body).Decode(&tok))
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/resources/"+id, nil)
	if tok.AccessToken != "" {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	for _, c := range lr.Cookies() {
		req.AddCookie(c)
	}
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, 200, r.StatusCode)
	var v struct {
		Value int64 `json:"value"`
	}
	require.NoError(t, json.NewDecoder(r.Body).Decode(&v))
	return v.Value
}

// TestAgainstReferenceAPI drives the default mix against the real target in
// both auth modes: no errors, no lost sessions, every order acknowledged
// with an id, and every resource's value equal to its acknowledged
// increments (ETag compare-and-set loses none).
func TestAgainstReferenceAPI(t *testing.T) {
	for _, auth := range []target.AuthMode{target.AuthJWT, target.AuthCookie} {
		t.Run(string(auth), func(t *testing.T) {
			base := startTarget(t, auth)
			cfg := Config{BaseURL: base, Clients: 10, Seed: 3, Resources: 4, RunDir: t.TempDir(),
				Phases:      []Phase{{"warm", time.Second, Constant(50)}, {"steady", time.Second, Constant(100)}},
				MaxLateness: 5 * time.Second}
			res, err := Run(context.Background(), cfg, WithoutProgress())
			require.NoError(t, err)
			assert.Greater(t, res.Totals.Completed, int64(140))
			assert.Zero(t, res.Totals.Errors, "%+v", res.Stats)
			assert.Zero(t, res.Totals.LostSessions)
			assert.Len(t, res.Ledger.Sessions, 10)
			byStatus := res.Ledger.OrdersBy()
			assert.Equal(t, len(res.Ledger.Orders), byStatus[OrderAcknowledged])
			assert.NotEmpty(t, res.Ledger.Orders)
			for _, r := range res.Ledger.Resources {
				assert.Equal(t, r.Acknowledged, resourceValue(t, base, r.ID), "resource %s", r.ID)
			}
			snap, err := ReadLedger(res.Files.Ledger)
			require.NoError(t, err)
			assert.Equal(t, res.Ledger.Orders, snap.Orders, "ledger.json round-trips")
		})
	}
}
