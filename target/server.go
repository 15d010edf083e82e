// Package target is chaosbench's reference API: the system under test. It
// implements the stateless design faithfully (signed tokens, sessions in
// Redis, idempotency keys, ETag/If-Match) and, by its knobs, the weaker
// designs chaosbench compares it with. The contract is in docs/refapi.md.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"
)

// Server is one node of the reference API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time // the wall clock as the API reads it: clock.now, with its offset
	clock     *skewedClock     // the offset the admin endpoint sets (clock.go)
	st        *store
	pg        *pgStore       // STORE=postgres: orders and resources (pgstore.go); nil with STORE=redis
	rc        *resourceCache // CACHE_TTL > 0: resources read cache-aside (rcache.go); nil when off
	sessions  sessionStore
	tokens    *tokens
	metrics   *metrics
	handler   http.Handler
	dummyHash string
}

// Option customises a Server beyond its Config.
type Option func(*Server)

// WithLogger sets the logger (default: slog JSON to stderr at cfg.LogLevel).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock sets the time source, for tests of expiry.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New validates cfg and builds a node. It does not contact Redis: a node
// starts (and answers /healthz) while Redis is still down, and /readyz says
// when it can serve.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	// Every wall-clock read goes through the offset, which stays 0 unless the admin endpoint sets it.
	s.clock = &skewedClock{base: s.now}
	s.now = s.clock.now
	if s.log == nil {
		s.log = NewLogger(cfg.LogLevel)
	}
	s.log = s.log.With("node", cfg.NodeID)
	s.metrics = newMetrics(cfg.NodeID)
	st, err := newStore(cfg, s.metrics, s.log)
	if err != nil {
		return nil, err
	}
	s.st = st
	if cfg.Store == StorePostgres {
		if s.pg, err = newPGStore(cfg, s.metrics, s.log); err != nil {
			return nil, err
		}
		if cfg.CacheTTL > 0 {
			s.rc = newResourceCache(cfg, st.rdb, s.metrics, s.log)
		}
	}
	if cfg.Auth == AuthJWT {
		if s.tokens, err = newTokens(cfg, s.now); err != nil {
			return nil, err
		}
	}
	if cfg.Sessions == SessionsMemory {
		s.sessions = newMemorySessions(s.now)
	} else {
		s.sessions = redisSessions{st: st}
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("chaosbench-no-such-user"), cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt: %w", err)
	}
	s.dummyHash = string(dummy)
	s.handler = s.routes()
	return s, nil
}

// NewLogger returns the API's structured JSON logger.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(logWriter, &slog.HandlerOptions{Level: l}))
}

// Handler is the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Config returns the configuration the node runs with.
func (s *Server) Config() Config { return s.cfg }

// Close releases Redis connections and background work.
func (s *Server) Close() error {
	s.sessions.close()
	if s.pg != nil {
		s.pg.close()
	}
	return s.st.close()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, s.instrument(pattern, h)) }
	handle("GET /healthz", http.HandlerFunc(s.healthz))
	handle("GET /readyz", http.HandlerFunc(s.readyz))
	handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	handle("POST /v1/users", http.HandlerFunc(s.signup))
	handle("POST /v1/login", http.HandlerFunc(s.login))
	if s.cfg.AccessTTL > 0 {
		handle("POST /v1/refresh", http.HandlerFunc(s.refresh))
	}
	handle("GET /v1/profile", s.authenticated(s.profile))
	handle("PUT /v1/cart", s.authenticated(s.putCart))
	handle("POST /v1/orders", s.authenticated(s.createOrder))
	handle("GET /v1/orders", s.authenticated(s.listOrders))
	handle("GET /v1/resources/{id}", s.authenticated(s.getResource))
	handle("PATCH /v1/resources/{id}", s.authenticated(s.patchResource))
	return s.outer(jsonFallback(mux, s.instrument("unmatched", http.HandlerFunc(writeMiss))))
}

// outer applies to every request: node id, header limit, panic recovery.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node-Id", s.cfg.NodeID)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
			}
		}()
		if headerSize(r) > s.cfg.MaxHeaderBytes {
			writeError(w, http.StatusRequestHeaderFieldsTooLarge, CodeHeadersTooLarge,
				"request headers exceed "+strconv.Itoa(s.cfg.MaxHeaderBytes)+" bytes")
			return
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts and times a route. The route label is the pattern, never
// the raw path, so that metric cardinality stays bounded.
func (s *Server) instrument(route string, next http.Handler) http.Handler {
	lat := s.metrics.latency.WithLabelValues(route)
	var byCode sync.Map // status code -> prometheus.Counter: no label hashing per request
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		lat.Observe(d.Seconds())
		c, ok := byCode.Load(sw.code)
		if !ok {
			c, _ = byCode.LoadOrStore(sw.code, s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.code)))
		}
		c.(prometheus.Counter).Inc()
		if s.log.Enabled(r.Context(), slog.LevelDebug) { // skip building arguments on the hot path
			s.log.Debug("request", "route", route, "code", sw.code, "ms", float64(d.Microseconds())/1000)
		}
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "node_id": s.cfg.NodeID})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.st.ping(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "not_ready", "redis": err.Error(), "breaker": s.st.cb.State().String(),
			"code": CodeStateStore, "error": "redis does not answer",
		})
		return
	}
	body := map[string]string{"status": "ready", "redis": "ok", "breaker": s.st.cb.State().String()}
	if s.pg != nil {
		// STORE=postgres: ready only when PostgreSQL answers and the schema exists; the pool's size is
		// reported here and as refapi_postgres_pool_max_conns.
		body["postgres_pool"] = s.pg.poolText()
		if err := s.pg.ping(r.Context()); err != nil {
			w.Header().Set("Retry-After", "1")
			body["status"], body["postgres"], body["code"], body["error"] = "not_ready", err.Error(), CodeStateStore, "postgres does not answer"
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		body["postgres"] = "ok"
	}
	writeJSON(w, http.StatusOK, body)
}

// storeError answers a failed state-store call: 503 with Retry-After, fast,
// so that clients back off and the balancer can try elsewhere.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client is gone; nobody reads an answer
	}
	s.log.Warn("state store", "route", r.URL.Path, "err", err.Error())
	w.Header().Set("Retry-After", strconv.Itoa(int(breakerOpenFor/time.Second)))
	writeError(w, http.StatusServiceUnavailable, CodeStateStore, "state store unavailable, retry later")
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.Error(what, "route", r.URL.Path, "err", err.Error())
	writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
}

// logWriter is where NewLogger writes; a variable so tests can silence it.
var logWriter io.Writer = os.Stderr

// RedisLogger routes go-redis' own log lines (dial failures during an
// outage) into slog at debug level, so an outage does not flood stderr with
// unstructured lines. go-redis' logger is process-wide: call it from main.
func RedisLogger(l *slog.Logger) redisLogging { return redisLogging{l} }

type redisLogging struct{ l *slog.Logger }

func (r redisLogging) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "go-redis", "msg", fmt.Sprintf(format, v...))
}
