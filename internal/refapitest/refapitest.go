// Package refapitest starts the reference API in-process on a real redis-server, for the tests of the
// packages that talk to it (load, blackbox, conform, keyspace, the CLI). It is written once here so that
// those tests start the same service the same way: bcrypt at its minimum cost (the tests exercise the
// callers, not hashing), quiet logs, and a real Redis (never a mock).
package refapitest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/target"
)

// Secret is the JWT secret of every API this package starts: the tests that forge or tamper with tokens
// (conform's JWT rules) need it.
const Secret = "refapitest-secret-0123456789abcdef0123"

// API is a running reference API.
type API struct {
	URL    string            // the API's base URL (httptest, loopback)
	Redis  *redistest.Server // its Redis, to stop, pause or read
	Config target.Config     // the configuration it runs with
}

type options struct {
	redis *redistest.Server
	edit  []func(*target.Config)
	wrap  func(http.Handler) http.Handler
}

// Option configures Start.
type Option func(*options)

// WithRedis runs the API on rs instead of a redis-server of its own (several nodes on one store).
func WithRedis(rs *redistest.Server) Option { return func(o *options) { o.redis = rs } }

// WithConfig edits the API's configuration after the defaults are set.
func WithConfig(edit func(*target.Config)) Option {
	return func(o *options) { o.edit = append(o.edit, edit) }
}

// WithHandler wraps the API's handler (to observe or slow down what reaches it).
func WithHandler(wrap func(http.Handler) http.Handler) Option {
	return func(o *options) { o.wrap = wrap }
}

// Start starts the API and registers its shutdown with t.
func Start(t testing.TB, opts ...Option) *API {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.redis == nil {
		o.redis = redistest.Start(t)
	}
	cfg := target.DefaultConfig()
	cfg.RedisURL, cfg.NodeID, cfg.BcryptCost, cfg.JWTSecret = o.redis.URL(), "n1", 4, Secret
	cfg.LogLevel = "error"
	for _, e := range o.edit {
		e(&cfg)
	}
	srv, err := target.New(cfg, target.WithLogger(target.NewLogger(cfg.LogLevel)))
	if err != nil {
		t.Fatalf("start the reference API: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &API{URL: hs.URL, Redis: o.redis, Config: cfg}
}
