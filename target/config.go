package target

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AuthMode selects how a client proves who it is.
type AuthMode string

// SessionMode selects where session state lives.
type SessionMode string

// ConcurrencyMode selects how concurrent updates of one resource are handled.
type ConcurrencyMode string

const (
	AuthJWT    AuthMode = "jwt"    // signed bearer token; any node can verify it
	AuthCookie AuthMode = "cookie" // opaque session id in a cookie

	SessionsRedis  SessionMode = "redis"  // shared: any node can serve any session
	SessionsMemory SessionMode = "memory" // this node only: lost when the node dies

	ConcurrencyETag ConcurrencyMode = "etag" // If-Match compare-and-set
	ConcurrencyNone ConcurrencyMode = "none" // last write wins (updates can be lost)

	StoreRedis    = "redis"    // orders and resources in Redis, as everything else
	StorePostgres = "postgres" // orders and resources in PostgreSQL; Redis keeps sessions and the replay cache
)

var nodeIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Config holds every knob of the reference API. The zero value is not
// usable; start from DefaultConfig.
type Config struct {
	Addr     string
	NodeID   string
	RedisURL string
	// RedisSentinels (ip:port,...) switches the client to Sentinel discovery: go-redis's failover client
	// asks them for RedisMasterName's current primary and follows a failover. REDIS_URL then gives only
	// the database number and password. Empty: REDIS_URL's one server.
	RedisSentinels  string
	RedisMasterName string
	// RedisCluster (ip:port,... of some nodes) switches the client to a Redis Cluster: go-redis's
	// cluster client learns the slots from them and follows a failover or a moved slot, and the order
	// keys carry their user's hash tag (keyspace.Layout). REDIS_URL then gives only the password.
	RedisCluster string

	Auth        AuthMode
	Sessions    SessionMode
	Idempotency bool
	Concurrency ConcurrencyMode

	// Store is where orders and resources live: redis, or postgres (pgstore.go) with PostgresDSN, a pool of
	// PostgresPoolSize connections and PostgresTimeout per transaction.
	Store            string
	PostgresDSN      string
	PostgresPoolSize int
	PostgresTimeout  time.Duration
	// CacheTTL turns on the cache-aside read of resources through Redis (rcache.go) with copies that
	// live this long; STORE=postgres only. 0: off.
	CacheTTL time.Duration

	// JWTAlg is HS256 (JWTSecret), RS256 or EdDSA (JWTPrivateKeyFile, PEM).
	JWTAlg            string
	JWTSecret         string
	JWTPreviousSecret string // still verified during a key rotation
	JWTPrivateKeyFile string
	TokenIssuer       string
	TokenAudience     string
	TokenLeeway       time.Duration // tolerated clock skew for exp/nbf/iat
	// TokenCacheSize bounds the cache of verified tokens (0 disables it).
	TokenCacheSize int

	SessionTTL time.Duration
	TokenTTL   time.Duration // 0 means SessionTTL
	// AccessTTL turns refresh tokens on (refresh.go): access tokens live this long, and login and
	// POST /v1/refresh also hand out a rotating refresh token that lives as long as the session. 0: off.
	// It replaces TOKEN_TTL, which must then stay 0: one lifetime, one knob.
	AccessTTL time.Duration
	// RefreshGrace is how long the refresh token just rotated away is still answered, with the same
	// new pair, instead of being taken for a reuse: a client whose answer was lost (a node killed
	// mid-request, a Redis reply lost) retries with the token it holds. 0: never (strict rotation).
	RefreshGrace   time.Duration
	IdempotencyTTL time.Duration
	// IdempotencyLease bounds how long a "processing" marker blocks a key
	// when the node that set it dies before it could store the response.
	IdempotencyLease time.Duration

	BcryptCost   int
	RedisTimeout time.Duration // per Redis operation
	LogLevel     string

	MaxBodyBytes   int64
	MaxHeaderBytes int

	// AdminAddr is where the admin endpoints (clock.go) listen, on a port of their own that the balancer
	// never routes to; "" (the default) turns them off.
	AdminAddr string
	// TokenPadBytes pads the credential to about this many bytes (0: off): a
	// padding claim in the JWT, or padding in front of the sid cookie's id
	// (pad.go). It measures what a giant token costs on the way in.
	TokenPadBytes int
}

// DefaultConfig returns the documented defaults (docs/refapi.md).
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Addr:             ":8080",
		NodeID:           host,
		RedisURL:         "redis://127.0.0.1:6379/0",
		RedisMasterName:  "mymaster",
		Auth:             AuthJWT,
		Sessions:         SessionsRedis,
		Idempotency:      true,
		Concurrency:      ConcurrencyETag,
		Store:            StoreRedis,
		PostgresPoolSize: 10,
		PostgresTimeout:  2 * time.Second,
		JWTAlg:           "HS256",
		TokenIssuer:      "chaosbench-refapi",
		TokenAudience:    "chaosbench",
		TokenLeeway:      5 * time.Second,
		TokenCacheSize:   10000,
		SessionTTL:       30 * time.Minute,
		IdempotencyTTL:   24 * time.Hour,
		IdempotencyLease: 10 * time.Second,
		BcryptCost:       10,
		RedisTimeout:     500 * time.Millisecond,
		LogLevel:         "info",
		MaxBodyBytes:     64 << 10,
		MaxHeaderBytes:   16 << 10,
	}
}

// tokenTTL is the lifetime of an issued JWT.
func (c Config) tokenTTL() time.Duration {
	if c.AccessTTL > 0 {
		return c.AccessTTL
	}
	if c.TokenTTL > 0 {
		return c.TokenTTL
	}
	return c.SessionTTL
}

// Validate reports every problem at once, so that an operator fixes a bad
// deployment in one go instead of one restart per mistake.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch c.Auth {
	case AuthJWT, AuthCookie:
	default:
		bad("AUTH", "%q is not jwt or cookie", c.Auth)
	}
	switch c.Sessions {
	case SessionsRedis, SessionsMemory:
	default:
		bad("SESSIONS", "%q is not redis or memory", c.Sessions)
	}
	switch c.Concurrency {
	case ConcurrencyETag, ConcurrencyNone:
	default:
		bad("CONCURRENCY", "%q is not etag or none", c.Concurrency)
	}
	switch c.Store {
	case StoreRedis:
	case StorePostgres:
		if c.PostgresDSN == "" {
			bad("POSTGRES_DSN", "is required with STORE=postgres (e.g. postgres://postgres@10.0.0.2:5432/postgres?sslmode=disable)")
		}
		if c.PostgresPoolSize < 1 || c.PostgresPoolSize > 1000 {
			bad("POSTGRES_POOL_SIZE", "%d is outside 1..1000", c.PostgresPoolSize)
		}
		if c.PostgresTimeout <= 0 {
			bad("POSTGRES_TIMEOUT", "must be positive")
		}
	default:
		bad("STORE", "%q is not redis or postgres", c.Store)
	}
	switch {
	case c.CacheTTL < 0:
		bad("CACHE_TTL", "must not be negative (0 turns the resource cache off)")
	case c.CacheTTL > 0 && c.Store != StorePostgres:
		bad("CACHE_TTL", "needs STORE=postgres: the cache is Redis in front of PostgreSQL, and with STORE=redis resources are in Redis already")
	}
	if !nodeIDRE.MatchString(c.NodeID) {
		// It travels in a header and, in cookie mode, in the session cookie.
		bad("NODE_ID", "%q: want 1-64 letters, digits, '.', '_' or '-'", c.NodeID)
	}
	if c.RedisURL == "" {
		bad("REDIS_URL", "must not be empty")
	}
	if c.RedisSentinels != "" && c.RedisCluster != "" {
		bad("REDIS_CLUSTER", "must not be set with REDIS_SENTINELS: a cluster fails over by itself")
	}
	if c.RedisSentinels != "" && c.RedisMasterName == "" {
		bad("REDIS_MASTER_NAME", "must not be empty with REDIS_SENTINELS")
	}
	if c.Auth == AuthJWT {
		switch c.JWTAlg {
		case "HS256":
			if c.JWTSecret == "" {
				bad("JWT_SECRET", "is required with AUTH=jwt and JWT_ALG=HS256 (at least 32 bytes, e.g. `openssl rand -hex 32`)")
			} else if len(c.JWTSecret) < 32 {
				bad("JWT_SECRET", "is %d bytes; at least 32 are required", len(c.JWTSecret))
			}
			if c.JWTPreviousSecret != "" && len(c.JWTPreviousSecret) < 32 {
				bad("JWT_PREVIOUS_SECRET", "is %d bytes; at least 32 are required", len(c.JWTPreviousSecret))
			}
		case "RS256", "EdDSA":
			if c.JWTPrivateKeyFile == "" {
				bad("JWT_PRIVATE_KEY_FILE", "is required with JWT_ALG=%s", c.JWTAlg)
			}
		default:
			bad("JWT_ALG", "%q is not HS256, RS256 or EdDSA", c.JWTAlg)
		}
	}
	if c.SessionTTL <= 0 {
		bad("SESSION_TTL", "must be positive")
	}
	if c.TokenTTL < 0 {
		bad("TOKEN_TTL", "must not be negative")
	}
	switch {
	case c.AccessTTL < 0:
		bad("ACCESS_TTL", "must not be negative (0 turns refresh tokens off)")
	case c.AccessTTL > 0 && c.Auth != AuthJWT:
		bad("ACCESS_TTL", "refresh tokens need AUTH=jwt: a cookie session has no access token to refresh")
	case c.AccessTTL > 0 && c.Sessions != SessionsRedis:
		bad("ACCESS_TTL", "refresh tokens need SESSIONS=redis: their family lives in the session's hash")
	case c.AccessTTL > 0 && c.TokenTTL > 0:
		bad("ACCESS_TTL", "replaces TOKEN_TTL as the token's lifetime: set one of them")
	case c.AccessTTL > 0 && c.AccessTTL >= c.SessionTTL:
		bad("ACCESS_TTL", "%s is not shorter than SESSION_TTL (%s): nothing would ever be refreshed", c.AccessTTL, c.SessionTTL)
	}
	if c.RefreshGrace < 0 || c.RefreshGrace > time.Minute {
		bad("REFRESH_GRACE", "%s is outside 0..1m", c.RefreshGrace)
	}
	if c.IdempotencyTTL <= 0 {
		bad("IDEMPOTENCY_TTL", "must be positive")
	}
	if c.IdempotencyLease <= 0 {
		bad("IDEMPOTENCY_LEASE", "must be positive")
	}
	if c.TokenLeeway < 0 {
		bad("TOKEN_LEEWAY", "must not be negative")
	}
	if c.TokenCacheSize < 0 {
		bad("TOKEN_CACHE_SIZE", "must not be negative (0 disables the cache)")
	}
	if c.TokenPadBytes < 0 || c.TokenPadBytes > MaxTokenPadBytes {
		bad("TOKEN_PAD_BYTES", "%d is outside 0..%d", c.TokenPadBytes, MaxTokenPadBytes)
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		bad("BCRYPT_COST", "%d is outside 4..31", c.BcryptCost)
	}
	if c.RedisTimeout <= 0 {
		bad("REDIS_TIMEOUT", "must be positive")
	}
	if c.MaxBodyBytes <= 0 || c.MaxHeaderBytes <= 0 {
		bad("limits", "body and header limits must be positive")
	}
	return errors.Join(errs...)
}

// RegisterFlags binds every knob to a flag whose default comes from the
// environment variable of the same meaning, so that a container can be
// configured by env and a person at a shell by flags (flag wins).
// Values from the environment that do not parse are reported by the
// returned function, called after flag parsing.
func (c *Config) RegisterFlags(fs *flag.FlagSet, getenv func(string) string) func() error {
	var envErrs []error
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	dur := func(p *time.Duration, name, env, usage string) {
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s: %q is not a duration like 30m", env, v))
			} else {
				*p = d
			}
		}
		fs.DurationVar(p, name, *p, usage+" (env "+env+")")
	}
	integer := func(p *int, name, env, usage string) {
		if v := getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s: %q is not a whole number", env, v))
			} else {
				*p = n
			}
		}
		fs.IntVar(p, name, *p, usage+" (env "+env+")")
	}
	auth, sessions, concurrency := string(c.Auth), string(c.Sessions), string(c.Concurrency)
	idem := "on"
	if !c.Idempotency {
		idem = "off"
	}
	str(&c.Addr, "addr", "ADDR", "listen address")
	str(&c.NodeID, "node-id", "NODE_ID", "node id sent as X-Node-Id")
	str(&c.RedisURL, "redis-url", "REDIS_URL", "Redis URL")
	str(&c.RedisSentinels, "redis-sentinels", "REDIS_SENTINELS", "Sentinel addresses ip:port,... (empty: REDIS_URL's server)")
	str(&c.RedisCluster, "redis-cluster", "REDIS_CLUSTER", "Redis Cluster node addresses ip:port,... (empty: REDIS_URL's server)")
	str(&c.RedisMasterName, "redis-master-name", "REDIS_MASTER_NAME", "the primary's name at the Sentinels")
	str(&c.Store, "store", "STORE", "where orders and resources live: redis or postgres")
	str(&c.PostgresDSN, "postgres-dsn", "POSTGRES_DSN", "PostgreSQL connection string (STORE=postgres)")
	integer(&c.PostgresPoolSize, "postgres-pool-size", "POSTGRES_POOL_SIZE", "connections in this node's PostgreSQL pool")
	dur(&c.PostgresTimeout, "postgres-timeout", "POSTGRES_TIMEOUT", "timeout of one PostgreSQL transaction")
	dur(&c.CacheTTL, "cache-ttl", "CACHE_TTL", "resources read cache-aside through Redis, copies kept this long (STORE=postgres; 0: off)")
	str(&auth, "auth", "AUTH", "jwt or cookie")
	str(&sessions, "sessions", "SESSIONS", "redis or memory")
	str(&idem, "idempotency", "IDEMPOTENCY", "on or off")
	str(&concurrency, "concurrency", "CONCURRENCY", "etag or none")
	str(&c.JWTAlg, "jwt-alg", "JWT_ALG", "HS256, RS256 or EdDSA")
	str(&c.JWTSecret, "jwt-secret", "JWT_SECRET", "HS256 secret, at least 32 bytes")
	str(&c.JWTPreviousSecret, "jwt-previous-secret", "JWT_PREVIOUS_SECRET", "previous HS256 secret, still accepted")
	str(&c.JWTPrivateKeyFile, "jwt-private-key-file", "JWT_PRIVATE_KEY_FILE", "PEM private key for RS256/EdDSA")
	str(&c.TokenIssuer, "token-issuer", "TOKEN_ISSUER", "iss claim")
	str(&c.TokenAudience, "token-audience", "TOKEN_AUDIENCE", "aud claim")
	dur(&c.TokenLeeway, "token-leeway", "TOKEN_LEEWAY", "tolerated clock skew")
	dur(&c.SessionTTL, "session-ttl", "SESSION_TTL", "session lifetime")
	dur(&c.TokenTTL, "token-ttl", "TOKEN_TTL", "token lifetime (0: the session's)")
	dur(&c.AccessTTL, "access-ttl", "ACCESS_TTL", "access token lifetime with rotating refresh tokens (0: refresh off)")
	dur(&c.RefreshGrace, "refresh-grace", "REFRESH_GRACE", "how long a just-rotated refresh token replays its answer (0: never)")
	dur(&c.IdempotencyTTL, "idempotency-ttl", "IDEMPOTENCY_TTL", "how long stored responses replay")
	dur(&c.IdempotencyLease, "idempotency-lease", "IDEMPOTENCY_LEASE", "how long an unfinished request blocks its key")
	dur(&c.RedisTimeout, "redis-timeout", "REDIS_TIMEOUT", "timeout of one Redis operation")
	integer(&c.BcryptCost, "bcrypt-cost", "BCRYPT_COST", "bcrypt cost of password hashes")
	integer(&c.TokenCacheSize, "token-cache-size", "TOKEN_CACHE_SIZE", "verified tokens kept to skip re-verification (0: off)")
	integer(&c.TokenPadBytes, "token-pad-bytes", "TOKEN_PAD_BYTES", "pad the token or sid cookie to about this many bytes (0: off)")
	str(&c.LogLevel, "log-level", "LOG_LEVEL", "debug, info, warn or error")
	str(&c.AdminAddr, "admin-addr", "ADMIN_ADDR", "admin endpoints' listen address, never behind the balancer (empty: off)")
	return func() error {
		c.Auth = AuthMode(strings.ToLower(auth))
		c.Sessions = SessionMode(strings.ToLower(sessions))
		c.Concurrency = ConcurrencyMode(strings.ToLower(concurrency))
		c.Store = strings.ToLower(c.Store)
		switch strings.ToLower(idem) {
		case "on", "true", "1":
			c.Idempotency = true
		case "off", "false", "0":
			c.Idempotency = false
		default:
			envErrs = append(envErrs, fmt.Errorf("IDEMPOTENCY: %q is not on or off", idem))
		}
		return errors.Join(envErrs...)
	}
}
