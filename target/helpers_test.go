package target

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const testSecret = "test-secret-0123456789abcdef0123456789"

func init() {
	logWriter = io.Discard
	redis.SetLogger(RedisLogger(NewLogger("error")))
}

// node is one API node under test, served over real HTTP on loopback.
type node struct {
	t   *testing.T
	srv *Server
	URL string
}

func testConfig(redisURL, nodeID string) Config {
	cfg := DefaultConfig()
	cfg.RedisURL = redisURL
	cfg.NodeID = nodeID
	cfg.JWTSecret = testSecret
	cfg.BcryptCost = 4 // the minimum: tests exercise logic, not hashing cost
	return cfg
}

// startNode starts a node against rs with cfg adjusted by mutate.
func startNode(t *testing.T, rs *redistest.Server, nodeID string, mutate func(*Config), opts ...Option) *node {
	t.Helper()
	cfg := testConfig(rs.URL(), nodeID)
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &node{t: t, srv: srv, URL: hs.URL}
}

type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

func (r resp) code(t *testing.T) string {
	t.Helper()
	c, _ := r.json(t)["code"].(string)
	return c
}

// do sends one request; body may be a string (sent as is) or a value (JSON).
func (n *node) do(method, path string, body any, headers ...string) resp {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(n.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	require.NoError(n.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(n.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(n.t, err)
	return resp{Code: res.StatusCode, Header: res.Header, Body: raw}
}

// client is a signed-up, logged-in user: auth holds the header pair to send.
type client struct {
	auth    []string
	userID  string
	session string
}

func (n *node) signup(user string) {
	n.t.Helper()
	r := n.do("POST", "/v1/users", map[string]string{"username": user, "password": "password-" + user})
	require.Equal(n.t, http.StatusCreated, r.Code, "signup: %s", r.Body)
}

func (n *node) login(user string) client {
	n.t.Helper()
	r := n.do("POST", "/v1/login", map[string]string{"username": user, "password": "password-" + user})
	require.Equal(n.t, http.StatusOK, r.Code, "login: %s", r.Body)
	m := r.json(n.t)
	c := client{session: m["session_id"].(string)}
	if tok, ok := m["access_token"].(string); ok {
		c.auth = []string{"Authorization", "Bearer " + tok}
	} else {
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "sid" {
				c.auth = []string{"Cookie", "sid=" + ck.Value}
			}
		}
	}
	require.NotEmpty(n.t, c.auth, "login gave no credential: %s", r.Body)
	return c
}

func (n *node) newClient(user string) client {
	n.signup(user)
	return n.login(user)
}

// clock is a settable time source for expiry tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
