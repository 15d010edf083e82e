// Package scenarios holds the scenario file format (strict YAML), its
// validation into a Plan and the built-in catalogue; package runner runs a
// Plan. It starts nothing and imports no Docker client (TestPure), so that
// `chaosbench validate` and anything else that only reads a scenario stays
// light. The schema is documented in docs/scenarios.md.
package scenarios

// file is a scenario file exactly as written. Durations and rates stay
// strings here so that validation can report a bad one with its line.
type file struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Seed        *int64 `yaml:"seed"`
	// Architectures names presets (stateless, stateful,
	// stateless-no-idempotency) or entries of custom_architectures.
	Architectures       []string     `yaml:"architectures"`
	CustomArchitectures []customArch `yaml:"custom_architectures"`
	Stack               stackSpec    `yaml:"stack"`
	// Target replaces the reference API with a user's image (docs/contract.md).
	Target  targetSpec     `yaml:"target"`
	Clients *int           `yaml:"clients"`
	Phases  []phaseSpec    `yaml:"phases"`
	Mix     map[string]int `yaml:"mix"`
	// Resources is how many distinct resource ids resource.update spreads
	// over: fewer means more contention between read and write.
	Resources *int        `yaml:"resources"`
	Retry     retrySpec   `yaml:"retry"`
	Timeout   string      `yaml:"timeout"`
	Faults    []faultSpec `yaml:"faults"`
	// Thresholds maps "all" or an architecture name to expressions.
	Thresholds map[string][]string `yaml:"thresholds"`
	// Client and Ops declare requests of the user's own API (docs/scenarios.md, "Your own API").
	Client     *clientSpec       `yaml:"client"`
	Ops        map[string]opSpec `yaml:"ops"`
	Invariants []invariantSpec   `yaml:"invariants"`
}

type customArch struct {
	Name        string `yaml:"name"`
	Base        string `yaml:"base"` // a preset whose knobs the others override
	Auth        string `yaml:"auth"`
	Sessions    string `yaml:"sessions"`
	Idempotency *bool  `yaml:"idempotency"`
	Concurrency string `yaml:"concurrency"`
	Balancer    string `yaml:"balancer"`
	// TokenPadBytes pads the token (or sid cookie) to about this many bytes: TOKEN_PAD_BYTES.
	TokenPadBytes *int `yaml:"token_pad_bytes"`
	// MinReplicasToWrite is this architecture's stack.redis.min_replicas_to_write (a base with Redis HA,
	// e.g. stateless-ha): one scenario then compares a Redis HA stack with and without it.
	MinReplicasToWrite *int `yaml:"min_replicas_to_write"`
	// Refresh turns on refresh tokens with access tokens of this lifetime (ACCESS_TTL, e.g. 30s), and
	// RefreshGrace is how long a just-rotated refresh token replays its answer (REFRESH_GRACE).
	Refresh      string `yaml:"refresh"`
	RefreshGrace string `yaml:"refresh_grace"`
	// The edge (arch.Edge): TLS 1.3 at NGINX, the load's keep-alive, NGINX's keep-alive towards the nodes.
	// Unset: plain HTTP, keep-alive on both sides, as always. NGINX's and the load's, so a target.image
	// takes them too.
	TLS               *bool `yaml:"tls"`
	ClientKeepAlive   *bool `yaml:"client_keepalive"`
	UpstreamKeepAlive *bool `yaml:"upstream_keepalive"`
	// HTTP2 offers HTTP/2 at NGINX's TLS port and makes the load speak it (needs tls: true).
	HTTP2 *bool `yaml:"http2"`
	// Store is where the reference API keeps orders and resources: redis (the default) or postgres
	// (arch.Arch.Store: a PostgreSQL server behind the Redis cache).
	Store string `yaml:"store"`
	// CacheTTL turns on the reference API's cache-aside read of resources through Redis, copies kept this
	// long (CACHE_TTL, e.g. 5s; store postgres only; arch.Arch.CacheTTL).
	CacheTTL string `yaml:"cache_ttl"`
	// PostgresStandby runs a streaming standby of the PostgreSQL server, async or sync (store postgres
	// only; arch.Arch.PostgresStandby): this architecture's stack.postgres.standby.
	PostgresStandby string `yaml:"postgres_standby"`
}

type targetSpec struct {
	// URL attaches to a service already running (with Compose naming its containers, for faults).
	URL     string            `yaml:"url"`
	Compose *composeSpec      `yaml:"compose"`
	Image   string            `yaml:"image"`  // a local image that follows the contract
	Port    *int              `yaml:"port"`   // the port it listens on in its container (default 8080)
	Health  string            `yaml:"health"` // its readiness path (default /readyz)
	Env     map[string]string `yaml:"env"`    // added to REDIS_URL and NODE_ID
}

type composeSpec struct {
	Project string `yaml:"project"` // com.docker.compose.project
	API     string `yaml:"api"`     // the API's service
	Redis   string `yaml:"redis"`   // optional
	Nginx   string `yaml:"nginx"`   // optional: the balancer's service
}

type stackSpec struct {
	Replicas *int      `yaml:"replicas"`
	Redis    redisSpec `yaml:"redis"`
	// SessionTTL is the refapi's SESSION_TTL (default 30m): short TTLs let a
	// scenario show sessions expiring, which the load engine does not count as lost.
	SessionTTL string `yaml:"session_ttl"`
	// TokenLeeway is the refapi's TOKEN_LEEWAY (default 5s): the clock skew its token checks tolerate,
	// the edge a clock-skew fault crosses.
	TokenLeeway string       `yaml:"token_leeway"`
	Postgres    postgresSpec `yaml:"postgres"`
}

type postgresSpec struct {
	// Standby runs a streaming standby of the PostgreSQL server, async or sync: every store: postgres
	// architecture's that does not set its own postgres_standby (arch.Arch.PostgresStandby).
	Standby string `yaml:"standby"`
}

type redisSpec struct {
	Persistence string `yaml:"persistence"` // none | everysec | always
	MaxMemory   string `yaml:"maxmemory"`   // e.g. 64mb
	Eviction    string `yaml:"eviction"`    // maxmemory-policy
	// MinReplicasToWrite makes the primary refuse writes unless that many replicas are connected and
	// at most arch.MinReplicasMaxLag behind (Redis HA architectures, e.g. stateless-ha): every
	// architecture's that does not set its own (arch.Arch.MinReplicasToWrite).
	MinReplicasToWrite int `yaml:"min_replicas_to_write"`
}

type phaseSpec struct {
	Name     string `yaml:"name"`
	Duration string `yaml:"duration"`
	Rate     string `yaml:"rate"` // constant, e.g. 200/s
	From     string `yaml:"from"` // linear ramp from..to
	To       string `yaml:"to"`
}

type retrySpec struct {
	Attempts   *int         `yaml:"attempts"`
	Backoff    string       `yaml:"backoff"`     // base of the exponential backoff
	MaxBackoff string       `yaml:"max_backoff"` // cap of one sleep
	Budget     string       `yaml:"budget"`      // total time of a logical call
	On         *retryOnSpec `yaml:"on"`          // what is retried (default: the reference contract's)
}

// retryOnSpec names what is retried: final statuses, and transport errors by name (load.RetryErrors).
type retryOnSpec struct {
	Statuses []int    `yaml:"statuses"`
	Errors   []string `yaml:"errors"`
}

type faultSpec struct {
	At     string         `yaml:"at"`
	For    string         `yaml:"for"`
	Kind   string         `yaml:"kind"`
	Target string         `yaml:"target"`
	Params map[string]any `yaml:"params"`
}
