package target

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

// setOffset moves n's clock through its admin endpoint, as the clock-skew fault does.
func setOffset(t *testing.T, n *node, offset string) resp {
	t.Helper()
	admin := httptest.NewServer(n.srv.AdminHandler())
	defer admin.Close()
	req, err := http.NewRequest("PUT", admin.URL+"/admin/clock", bytes.NewReader([]byte(`{"offset":"`+offset+`"}`)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return resp{Code: res.StatusCode, Header: res.Header, Body: buf.Bytes()}
}

// TestClockOffsetAgainstTheLeeway: two nodes share Redis, one logs a user in and the other verifies the
// token, each with its own clock offset. The clocks are real (sessions expire in Redis by its own clock),
// so every edge is at least a second from the row's outcome: NumericDate claims are whole seconds.
func TestClockOffsetAgainstTheLeeway(t *testing.T) {
	rs := redistest.Start(t)
	tests := []struct {
		name             string
		issuer, verifier string        // clock offsets of the node that logs in and the node that verifies
		leeway           time.Duration // 0: the default 5 s
		tokenTTL         time.Duration // 0: the session's (30 min)
		want             string        // "" accepted, else the 401 code
	}{
		// No offset anywhere: the baseline.
		{"no offset", "0s", "0s", 0, 0, ""},
		// 3 s of drift is inside the 5 s leeway, either way round.
		{"issuer 3s ahead", "3s", "0s", 0, 0, ""},
		{"verifier 3s behind", "0s", "-3s", 0, 0, ""},
		// The skewed node issues: iat and nbf are 10 s in the others' future, past the leeway. jwt calls it
		// "not valid yet" (and "used before issued"), not expired: token_invalid, which a client cannot cure
		// by logging in again (the load engine keeps the 401 as the answer).
		{"issuer 10s ahead", "10s", "0s", 0, 0, CodeTokenInvalid},
		{"issuer 60s ahead", "60s", "0s", 0, 0, CodeTokenInvalid},
		// The reverse: a node 10 s behind sees a token from a node with no offset as not valid yet.
		{"verifier 10s behind", "0s", "-10s", 0, 0, CodeTokenInvalid},
		// A token from a node behind only looks older, and a node ahead only sees it older: accepted while
		// far from its expiry.
		{"issuer 60s behind", "-60s", "0s", 0, 0, ""},
		{"verifier 60s ahead", "0s", "60s", 0, 0, ""},
		// Near its expiry the node ahead sees the token expired: token_expired (a client logs in again).
		// Here the token lives 2 s and the verifier is 10 s ahead, past exp plus the 5 s leeway.
		{"verifier ahead past exp", "0s", "10s", 0, 2 * time.Second, CodeTokenExpired},
		// The leeway knob moves the edge: with 15 s, 10 s of drift is tolerated.
		{"issuer 10s ahead, leeway 15s", "10s", "0s", 15 * time.Second, 0, ""},
		// And with no leeway, 3 s of drift is refused.
		{"issuer 3s ahead, leeway 0", "3s", "0s", -1, 0, CodeTokenInvalid},
		// The skewed node accepts its own tokens: the refusals above are between nodes.
		{"own token, 60s ahead", "60s", "60s", 0, 0, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mutate := func(c *Config) {
				switch {
				case tt.leeway > 0:
					c.TokenLeeway = tt.leeway
				case tt.leeway < 0:
					c.TokenLeeway = 0
				}
				c.TokenTTL = tt.tokenTTL
			}
			issuer := startNode(t, rs, "issuer", mutate)
			verifier := startNode(t, rs, "verifier", mutate)
			require.Equal(t, http.StatusOK, setOffset(t, issuer, tt.issuer).Code)
			require.Equal(t, http.StatusOK, setOffset(t, verifier, tt.verifier).Code)
			user := "skew-" + string(rune('a'+i))
			issuer.signup(user)
			c := issuer.login(user)
			r := verifier.do("GET", "/v1/profile", nil, c.auth...)
			if tt.want == "" {
				require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
				return
			}
			require.Equal(t, http.StatusUnauthorized, r.Code, "%s", r.Body)
			require.Equal(t, tt.want, r.code(t))
		})
	}
}

// TestClockOffsetRevert: setting the offset back to 0 makes the same token acceptable again, cache or
// not (a cached verdict re-checks exp and nbf on the node's clock of the moment).
func TestClockOffsetRevert(t *testing.T) {
	rs := redistest.Start(t)
	a := startNode(t, rs, "a", nil)
	b := startNode(t, rs, "b", nil)
	a.signup("revert")
	c := a.login("revert")
	require.Equal(t, http.StatusOK, b.do("GET", "/v1/profile", nil, c.auth...).Code, "cached on b")
	require.Equal(t, http.StatusOK, setOffset(t, b, "-30s").Code)
	r := b.do("GET", "/v1/profile", nil, c.auth...)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeTokenInvalid, r.code(t), "nbf is 30 s in b's future, even for a cached token")
	require.Equal(t, http.StatusOK, setOffset(t, b, "0s").Code)
	require.Equal(t, http.StatusOK, b.do("GET", "/v1/profile", nil, c.auth...).Code)
}

func TestAdminClockEndpoint(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "api-2", nil)
	tests := []struct {
		offset string
		code   int
		want   string // the offset the node reports after the call
	}{
		{"30s", http.StatusOK, "30s"},             // set
		{"-90s", http.StatusOK, "-1m30s"},         // negative: behind
		{"soon", http.StatusBadRequest, "-1m30s"}, // not a duration: refused, unchanged
		{"48h", http.StatusBadRequest, "-1m30s"},  // beyond MaxClockOffset
		{"0s", http.StatusOK, "0s"},               // the revert
	}
	for _, tt := range tests {
		r := setOffset(t, n, tt.offset)
		require.Equal(t, tt.code, r.Code, "%s: %s", tt.offset, r.Body)
		require.Equal(t, tt.want, n.srv.ClockOffset().String(), tt.offset)
	}
	admin := httptest.NewServer(n.srv.AdminHandler())
	defer admin.Close()
	res, err := http.Get(admin.URL + "/admin/clock")
	require.NoError(t, err)
	defer res.Body.Close()
	var st clockState
	require.NoError(t, json.NewDecoder(res.Body).Decode(&st))
	require.Equal(t, clockState{Offset: "0s", OffsetMS: 0, Leeway: "5s", NodeID: "api-2"}, st)
	// The admin endpoints are not on the API's handler: the balancer, which routes only the API's port,
	// never reaches them.
	require.Equal(t, http.StatusNotFound, n.do("GET", "/admin/clock", nil).Code)
}
