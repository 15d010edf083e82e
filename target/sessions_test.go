package target

import (
	"context"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

// The stateless claim, shown: a session created on one node is served by
// any other, cart included.
func TestRedisSessionsAreSharedAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	a, b := startNode(t, rs, "a", nil), startNode(t, rs, "b", nil)
	c := a.newClient("ada")
	r := a.do("PUT", "/v1/cart", map[string]any{"items": []map[string]any{{"sku": "tea", "qty": 3}}}, c.auth...)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.EqualValues(t, 1, r.json(t)["cart_version"])

	p := b.do("GET", "/v1/profile", nil, c.auth...)
	require.Equal(t, http.StatusOK, p.Code)
	require.Equal(t, "b", p.Header.Get("X-Node-Id"))
	require.Equal(t, "ada", p.json(t)["username"])
	require.Len(t, p.json(t)["cart"], 1)
}

func TestRedisSessionTTL(t *testing.T) {
	rs := redistest.Start(t)
	// The token outlives the session, so the rejection must be the session's.
	n := startNode(t, rs, "a", func(c *Config) { c.SessionTTL = time.Second; c.TokenTTL = time.Hour })
	c := n.newClient("ada")
	ttl, err := rs.Client().PTTL(context.Background(), keyspace.Session+c.session).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 500*time.Millisecond)
	require.LessOrEqual(t, ttl, time.Second)

	// A cart write keeps the expiry fixed (it does not extend the session).
	require.Equal(t, http.StatusOK, n.do("PUT", "/v1/cart", map[string]any{"items": []any{}}, c.auth...).Code)
	ttl2, err := rs.Client().PTTL(context.Background(), keyspace.Session+c.session).Result()
	require.NoError(t, err)
	require.LessOrEqual(t, ttl2, ttl)

	require.Eventually(t, func() bool {
		r := n.do("GET", "/v1/profile", nil, c.auth...)
		return r.Code == http.StatusUnauthorized && r.code(t) == CodeSessionNotFound
	}, 5*time.Second, 50*time.Millisecond)
	// And the cart write on an expired session does not resurrect it.
	r := n.do("PUT", "/v1/cart", map[string]any{"items": []any{}}, c.auth...)
	require.Equal(t, CodeSessionNotFound, r.code(t))
	exists, err := rs.Client().Exists(context.Background(), keyspace.Session+c.session).Result()
	require.NoError(t, err)
	require.Zero(t, exists)
}

func TestTokenExpiredOverHTTP(t *testing.T) {
	rs := redistest.Start(t)
	clk := &clock{t: time.Now()}
	n := startNode(t, rs, "a", func(c *Config) { c.TokenTTL = time.Minute }, WithClock(clk.now))
	c := n.newClient("ada")
	require.Equal(t, http.StatusOK, n.do("GET", "/v1/profile", nil, c.auth...).Code)
	clk.advance(2 * time.Minute)
	r := n.do("GET", "/v1/profile", nil, c.auth...)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeTokenExpired, r.code(t))

	// A session that was never created (valid signature, unknown sid).
	tok, err := n.srv.tokens.issue("u1", "no-such-session")
	require.NoError(t, err)
	r = n.do("GET", "/v1/profile", nil, "Authorization", "Bearer "+tok)
	require.Equal(t, CodeSessionNotFound, r.code(t))
	// No credential at all.
	require.Equal(t, CodeCredentialsMissing, n.do("GET", "/v1/profile", nil).code(t))
}

// The stateful design: a cookie session lives in one node's memory. Another
// node does not know it: that is the lost session the checker counts.
func TestCookieMemorySessionsArePerNode(t *testing.T) {
	rs := redistest.Start(t)
	stateful := func(c *Config) {
		c.Auth, c.Sessions, c.JWTSecret = AuthCookie, SessionsMemory, ""
		c.Idempotency, c.Concurrency = false, ConcurrencyNone
	}
	a, b := startNode(t, rs, "a", stateful), startNode(t, rs, "b", stateful)
	a.signup("ada")
	r := a.do("POST", "/v1/login", map[string]string{"username": "ada", "password": "password-ada"})
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, r.json(t), "access_token")
	setCookie := r.Header.Get("Set-Cookie")
	require.True(t, strings.HasPrefix(setCookie, "sid="), setCookie)
	require.Contains(t, strings.Split(setCookie, ";")[0], ".a", "the session id names its node, for sticky routing")
	require.Contains(t, setCookie, "HttpOnly")
	require.Contains(t, setCookie, "Path=/")
	c := a.login("ada")

	require.Equal(t, http.StatusOK, a.do("GET", "/v1/profile", nil, c.auth...).Code)
	other := b.do("GET", "/v1/profile", nil, c.auth...)
	require.Equal(t, http.StatusUnauthorized, other.Code)
	require.Equal(t, CodeSessionNotFound, other.code(t))
	// Nothing of the session reached Redis.
	n, err := rs.Client().Exists(context.Background(), keyspace.Session+c.session).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	// Orders still work in this mode (they are persistent state, in Redis).
	o := a.do("POST", "/v1/orders", orderBody("r1"), c.auth...)
	require.Equal(t, http.StatusCreated, o.Code, "%s", o.Body)
}

func TestMemorySessionsExpire(t *testing.T) {
	rs := redistest.Start(t)
	clk := &clock{t: time.Now()}
	n := startNode(t, rs, "a", func(c *Config) { c.Sessions = SessionsMemory; c.SessionTTL = time.Minute; c.TokenTTL = time.Hour }, WithClock(clk.now))
	c := n.newClient("ada")
	require.Equal(t, http.StatusOK, n.do("GET", "/v1/profile", nil, c.auth...).Code)
	clk.advance(61 * time.Second)
	require.Equal(t, CodeSessionNotFound, n.do("GET", "/v1/profile", nil, c.auth...).code(t))
}

func TestSignupAndLogin(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", nil)
	n.signup("ada")
	cases := []struct {
		name     string
		path     string
		body     map[string]string
		wantCode int
		wantErr  string
	}{
		// A username is unique.
		{"taken", "/v1/users", map[string]string{"username": "ada", "password": "whatever1"}, 409, CodeUsernameTaken},
		// bcrypt truncates at 72 bytes: refuse rather than silently truncate.
		{"password too long", "/v1/users", map[string]string{"username": "bob", "password": strings.Repeat("x", 73)}, 400, CodeBadRequest},
		{"password too short", "/v1/users", map[string]string{"username": "bob", "password": "short"}, 400, CodeBadRequest},
		{"bad username", "/v1/users", map[string]string{"username": "a b", "password": "whatever1"}, 400, CodeBadRequest},
		// Wrong password and unknown user look the same to the caller.
		{"wrong password", "/v1/login", map[string]string{"username": "ada", "password": "wrong-pass"}, 401, CodeInvalidCredentials},
		{"unknown user", "/v1/login", map[string]string{"username": "nobody", "password": "wrong-pass"}, 401, CodeInvalidCredentials},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.do("POST", tc.path, tc.body)
			require.Equal(t, tc.wantCode, r.Code, "%s", r.Body)
			require.Equal(t, tc.wantErr, r.code(t))
		})
	}
	// The stored password is a bcrypt hash, never the password.
	raw, err := rs.Client().Get(context.Background(), keyspace.User+"ada").Result()
	require.NoError(t, err)
	require.NotContains(t, raw, "password-ada")
	require.Contains(t, raw, "$2a$04$")
}
