// Command ticketdesk is a small help-desk service whose API is shaped unlike chaosbench's contract
// (docs/contract.md), on purpose: it is the example that a scenario's declared requests and invariants must
// drive and check with no Go written for it (issue 19, examples/README.md).
//
// Where the contract has /v1/users, /v1/login (JWT or cookie), Idempotency-Key and PATCH with If-Match, this
// service has:
//
//   - POST /api/v2/accounts to register, POST /api/v2/sessions to log in with HTTP Basic credentials; the
//     opaque token it returns is sent after as X-Session-Token (not Bearer, not a cookie);
//   - POST /api/v2/tickets deduplicated by its own header, X-Request-Token, and a listing that paginates
//     with a cursor (next_cursor), each ticket carrying the request token it was created with;
//   - counters updated by read-modify-write: GET gives an ETag, PUT needs If-Match (428 without, 412 stale);
//   - errors as problem+json bodies ({"problem": "unknown-session", ...}), readiness at /health, and the
//     node's name in X-Served-By on every response.
//
// TICKETDESK_MODE=flawed (default correct) turns on two flaws many real services have: the request token
// is remembered in the node's own memory (a retry that lands on another node opens a second ticket), and
// PUT ignores If-Match (last write wins: one of two interleaved increments is lost).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mode names the two builds of the service: the same binary, chosen by TICKETDESK_MODE.
type Mode string

const (
	// Correct keeps request tokens in Redis, atomically with the ticket, and honours If-Match.
	Correct Mode = "correct"
	// Flawed keeps request tokens in the node's memory and ignores If-Match.
	Flawed Mode = "flawed"
)

// config is everything the environment chooses.
type config struct {
	addr       string
	node       string
	mode       Mode
	redisURL   string
	sessionTTL time.Duration
	dedupeTTL  time.Duration
	// triage is how long filing a ticket takes between deciding it is new and storing it (a downstream
	// call a real service makes): it widens the window in which the flawed mode's check-then-remember races.
	triage time.Duration
}

func loadConfig() (config, error) {
	c := config{
		addr:     env("ADDR", ":8080"),
		node:     env("NODE_ID", hostname()),
		mode:     Mode(env("TICKETDESK_MODE", string(Correct))),
		redisURL: env("REDIS_URL", "redis://127.0.0.1:6379/0"),
	}
	if c.mode != Correct && c.mode != Flawed {
		return c, fmt.Errorf("TICKETDESK_MODE=%q: want %q or %q", c.mode, Correct, Flawed)
	}
	for _, d := range []struct {
		name, def string
		dst       *time.Duration
	}{
		{"TICKETDESK_SESSION_TTL", "30m", &c.sessionTTL},
		{"TICKETDESK_DEDUPE_TTL", "24h", &c.dedupeTTL},
		{"TICKETDESK_TRIAGE_DELAY", "10ms", &c.triage},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v < 0 {
			return c, fmt.Errorf("%s: want a duration >= 0, got %q", d.name, env(d.name, d.def))
		}
		*d.dst = v
	}
	if c.sessionTTL < time.Second || c.dedupeTTL < time.Second {
		return c, errors.New("TICKETDESK_SESSION_TTL and TICKETDESK_DEDUPE_TTL must be at least 1s")
	}
	return c, nil
}

func main() {
	cfg, err := loadConfig()
	if err != nil {
		log.Fatalf("ticketdesk: %v", err)
	}
	opt, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		log.Fatalf("ticketdesk: REDIS_URL: %v", err)
	}
	// Fail fast when Redis is away: a quick 503 the client can retry beats a request held until the
	// balancer's timeout.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = time.Second, time.Second, time.Second, 1
	d := newDesk(redis.NewClient(opt), cfg)
	srv := &http.Server{Addr: cfg.addr, Handler: d.routes(), ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes: 64 << 10}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Printf("ticketdesk %s (%s mode) listening on %s", cfg.node, cfg.mode, cfg.addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("ticketdesk: %v", err)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
