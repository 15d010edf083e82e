package target

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/stretchr/testify/require"
)

// refreshOn is a node configuration with refresh tokens: access tokens of 30 s, strict rotation.
func refreshOn(c *Config) { c.AccessTTL = 30 * time.Second }

// pair is what login and refresh hand out in refresh mode.
type pair struct{ access, refresh string }

func (n *node) loginPair(user string) pair {
	n.t.Helper()
	n.signup(user)
	r := n.do("POST", "/v1/login", map[string]string{"username": user, "password": "password-" + user})
	require.Equal(n.t, http.StatusOK, r.Code, "login: %s", r.Body)
	return pairOf(n.t, r)
}

func pairOf(t *testing.T, r resp) pair {
	t.Helper()
	m := r.json(t)
	p := pair{access: m["access_token"].(string), refresh: m["refresh_token"].(string)}
	require.NotEmpty(t, p.refresh, "no refresh token: %s", r.Body)
	return p
}

func (n *node) refresh(token string) resp {
	n.t.Helper()
	return n.do("POST", "/v1/refresh", map[string]string{"refresh_token": token})
}

func (p pair) auth() []string { return []string{"Authorization", "Bearer " + p.access} }

// Rotation and reuse detection: each refresh hands out the family's next token and retires the one
// presented; presenting a retired one revokes the family, and with it every access token of the login.
func TestRefreshRotatesAndReuseRevokesFamily(t *testing.T) {
	rs := redistest.Start(t)
	a, b := startNode(t, rs, "a", refreshOn), startNode(t, rs, "b", refreshOn)
	p0 := a.loginPair("ada")
	r := b.refresh(p0.refresh) // any node refreshes what any node issued
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	p1 := pairOf(t, r)
	require.NotEqual(t, p0.refresh, p1.refresh)
	require.EqualValues(t, 30, r.json(t)["expires_in"], "expires_in is the access token's")
	require.Equal(t, http.StatusOK, a.do("GET", "/v1/profile", nil, p1.auth()...).Code)

	// The retired token presented again: refused, and the family is revoked.
	r = a.refresh(p0.refresh)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeRefreshReused, r.code(t))
	// The newest refresh token died with its family, and so did the session both access tokens name.
	r = b.refresh(p1.refresh)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeSessionNotFound, r.code(t))
	for _, p := range []pair{p0, p1} {
		r = b.do("GET", "/v1/profile", nil, p.auth()...)
		require.Equal(t, http.StatusUnauthorized, r.Code)
		require.Equal(t, CodeSessionNotFound, r.code(t))
	}
	// Another login's family is untouched.
	q := a.loginPair("bob")
	require.Equal(t, http.StatusOK, b.refresh(q.refresh).Code)
}

// What is not a refresh token we issued is refused without touching any family: knowing a sid (every
// access token shows it) must not let anyone log its user out.
func TestRefreshRefusesGarbage(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", refreshOn)
	p := n.loginPair("ada")
	parts := strings.Split(p.refresh, ".") // rt1, sid, gen, mac
	require.Len(t, parts, 4)
	other := startNode(t, rs, "x", func(c *Config) { refreshOn(c); c.JWTSecret = strings.Repeat("z", 32) })
	cases := []struct {
		name, token string
		code        int
	}{
		// Not even the shape of one.
		{"garbage", "not-a-token", http.StatusUnauthorized},
		// The real sid and generation under a forged MAC.
		{"forged mac", strings.Join([]string{parts[0], parts[1], parts[2], "AAAAAAAAAAAAAAAAAAAAAA"}, "."), http.StatusUnauthorized},
		// A generation the MAC does not cover.
		{"changed generation", strings.Join([]string{parts[0], parts[1], "7", parts[3]}, "."), http.StatusUnauthorized},
		// A service with another secret signed it.
		{"other service's", other.loginPair("eve").refresh, http.StatusUnauthorized},
		// The JSON has no token at all.
		{"empty", "", http.StatusBadRequest},
	}
	for _, tc := range cases {
		r := n.refresh(tc.token)
		require.Equal(t, tc.code, r.Code, "%s: %s", tc.name, r.Body)
		if tc.code == http.StatusUnauthorized {
			require.Equal(t, CodeRefreshInvalid, r.code(t), tc.name)
		}
	}
	require.Equal(t, http.StatusOK, n.refresh(p.refresh).Code, "the family survived every garbage token")
}

// An access token past its lifetime is answered 401 token_expired, and a refresh cures it.
func TestRefreshAfterAccessExpires(t *testing.T) {
	rs := redistest.Start(t)
	clk := &clock{t: time.Now()}
	n := startNode(t, rs, "a", func(c *Config) { refreshOn(c); c.TokenLeeway = 0 }, WithClock(clk.now))
	p := n.loginPair("ada")
	clk.advance(31 * time.Second) // past the 30 s access token, far inside the 30 min session
	r := n.do("GET", "/v1/profile", nil, p.auth()...)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeTokenExpired, r.code(t))
	r = n.refresh(p.refresh)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.Equal(t, http.StatusOK, n.do("GET", "/v1/profile", nil, pairOf(t, r).auth()...).Code)
}

// Two nodes given the same refresh token at once: exactly one rotates. The race is made certain, not
// hoped for: Redis is told to hold every write command (CLIENT PAUSE WRITE), both nodes' scripts are seen
// waiting in CLIENT LIST, each carrying generation 0, and only then is Redis let go. The script's
// atomicity is all that decides: the first to run rotates, the second finds the generation moved on
// and, under strict rotation, takes it for a reuse.
func TestRefreshConcurrentOnlyOneWins(t *testing.T) {
	rs := redistest.Start(t)
	slow := func(c *Config) { refreshOn(c); c.RedisTimeout = 20 * time.Second } // outlasts the pause
	a, b := startNode(t, rs, "a", slow), startNode(t, rs, "b", slow)
	p := a.loginPair("ada")
	// Load the script first, so that each node waits on one EVALSHA, not a NOSCRIPT and an EVAL.
	require.Equal(t, http.StatusOK, a.refresh(a.loginPair("warm").refresh).Code)

	ctx := context.Background()
	rdb := rs.Client()
	require.NoError(t, rdb.Do(ctx, "CLIENT", "PAUSE", 15000, "WRITE").Err())
	unpaused := false
	defer func() {
		if !unpaused {
			_ = rdb.Do(ctx, "CLIENT", "UNPAUSE").Err()
		}
	}()
	var wg sync.WaitGroup
	answers := make([]resp, 2)
	for i, n := range []*node{a, b} {
		wg.Go(func() { answers[i] = n.refresh(p.refresh) })
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := poll.Until(wctx, 10*time.Millisecond, func(ctx context.Context) error {
		list, err := rdb.ClientList(ctx).Result()
		if err == nil && strings.Count(list, "cmd=evalsha") < 2 {
			err = errors.New("fewer than two scripts waiting:\n" + list)
		}
		return err
	})
	require.NoError(t, err, "both nodes' scripts should be waiting in Redis")
	require.NoError(t, rdb.Do(ctx, "CLIENT", "UNPAUSE").Err())
	unpaused = true
	wg.Wait()

	var won, reused int
	for _, r := range answers {
		switch {
		case r.Code == http.StatusOK:
			won++
		case r.Code == http.StatusUnauthorized && r.code(t) == CodeRefreshReused:
			reused++
		}
	}
	require.Equal(t, 1, won, "exactly one node rotates: %s | %s", answers[0].Body, answers[1].Body)
	require.Equal(t, 1, reused, "the other sees an ancestor")
}

// With a grace, the token just rotated away is answered again with the same pair, once rotation has not
// moved on: the client whose answer was lost retries and is not logged out. A grandparent is still a reuse.
func TestRefreshGraceReplaysTheSamePair(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", func(c *Config) { refreshOn(c); c.RefreshGrace = time.Minute })
	p0 := n.loginPair("ada")
	r1 := n.refresh(p0.refresh)
	require.Equal(t, http.StatusOK, r1.Code)
	again := n.refresh(p0.refresh) // the retry of a client that never saw r1's answer
	require.Equal(t, http.StatusOK, again.Code, "%s", again.Body)
	require.Equal(t, pairOf(t, r1).refresh, pairOf(t, again).refresh, "one rotation, answered twice")
	r2 := n.refresh(pairOf(t, r1).refresh)
	require.Equal(t, http.StatusOK, r2.Code)
	r := n.refresh(p0.refresh) // two generations back: no grace covers it
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Equal(t, CodeRefreshReused, r.code(t))
}

// A rotation that an asynchronous failover lost: Redis is back at generation 0 while the client holds
// generation 1, which only we could have signed. It is taken as current, and the client stays logged in.
func TestRefreshSurvivesALostRotation(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", refreshOn)
	p0 := n.loginPair("ada")
	r := n.refresh(p0.refresh)
	require.Equal(t, http.StatusOK, r.Code)
	sid := r.json(t)["session_id"].(string)
	// What a promoted replica that never received the rotation holds.
	require.NoError(t, rs.Client().HSet(context.Background(), keyspace.Session+sid, "refresh_gen", 0).Err())
	r = n.refresh(pairOf(t, r).refresh)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
}

// The knob's rules: refresh needs jwt and Redis sessions, and replaces TOKEN_TTL.
func TestRefreshConfig(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // "" valid
	}{
		// The scenario's setting.
		{"on", refreshOn, ""},
		// Cookies carry no access token.
		{"cookie", func(c *Config) { refreshOn(c); c.Auth = AuthCookie }, "ACCESS_TTL: refresh tokens need AUTH=jwt"},
		// The family lives in the Redis session.
		{"memory", func(c *Config) { refreshOn(c); c.Sessions = SessionsMemory }, "ACCESS_TTL: refresh tokens need SESSIONS=redis"},
		// Two knobs for one lifetime.
		{"with token ttl", func(c *Config) { refreshOn(c); c.TokenTTL = time.Minute }, "ACCESS_TTL: replaces TOKEN_TTL"},
		// Nothing to refresh.
		{"longer than session", func(c *Config) { c.AccessTTL = time.Hour }, "is not shorter than SESSION_TTL"},
		// A grace of hours would undo reuse detection.
		{"grace too long", func(c *Config) { refreshOn(c); c.RefreshGrace = time.Hour }, "REFRESH_GRACE: 1h0m0s is outside 0..1m"},
	}
	for _, tc := range cases {
		cfg := testConfig("redis://x", "n")
		tc.mutate(&cfg)
		err := cfg.Validate()
		if tc.want == "" {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorContains(t, err, tc.want, tc.name)
		}
	}
}
