// Package arch describes an architecture of the reference stack without running it: the knobs of the API
// (auth, sessions, idempotency, concurrency), the balancer (NGINX's policies or HAProxy), Redis's settings, the named presets the
// design compares, and the containers a stack is made of (their names, roles and addresses). It imports no
// container runtime: scenarios validate against it, target/stack runs it in Docker, and results records it.
package arch

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Arch is one architecture: the service the API nodes run, the reference API's knobs (docs/refapi.md)
// when they run it, and the balancer.
type Arch struct {
	Name string
	// Service is what the API nodes run: the reference API (the zero Service) or a user's image.
	Service     Service
	Auth        string // jwt | cookie
	Sessions    string // redis | memory
	Idempotency bool
	Concurrency string // etag | none
	Balancer    Balancer
	// TokenPad pads the reference API's token (or sid cookie) to about this many bytes (0: off):
	// TOKEN_PAD_BYTES, for the giant-tokens comparison (tokenpad.go).
	TokenPad int
	// Edge is TLS at NGINX and keep-alive on both of its sides (edge.go); the zero value is plain HTTP with
	// keep-alive, as before the knob existed.
	Edge Edge
	// RedisHA runs Redis as a primary, two replicas and three Sentinels instead of one server, and gives
	// the API nodes the Sentinels' addresses (REDIS_SENTINELS) instead of a fixed primary (redisha.go).
	// It is the architecture's, not RedisConfig's: the presets compare it, as they compare sessions.
	RedisHA bool
	// RedisCluster runs Redis as a Redis Cluster of three primaries and three replicas instead of one
	// server, and gives the API nodes their addresses (REDIS_CLUSTER) (rediscluster.go).
	RedisCluster bool
	// MinReplicasToWrite (min-replicas-to-write, with min-replicas-max-lag MinReplicasMaxLag) makes the
	// primary refuse writes unless that many replicas are connected and recent, which bounds what a
	// failover or a split brain can lose at the price of refused writes. 0: off. Only a RedisHA stack has
	// replicas. The architecture's too, so that one scenario compares a Redis HA stack with and without it.
	MinReplicasToWrite int
	// Refresh turns on the reference API's refresh tokens with access tokens of this lifetime (ACCESS_TTL;
	// 0: off), and RefreshGrace is how long a just-rotated refresh token replays its answer (REFRESH_GRACE)
	// (refresh.go). The load's clients refresh on 401 token_expired when their login handed them a
	// refresh token.
	Refresh      time.Duration
	RefreshGrace time.Duration
	// Store is where the reference API keeps orders and resources: "" or redis, or postgres (a PostgreSQL
	// server in the stack, Redis as cache and session store; store.go).
	Store string
	// PostgresStandby runs a streaming-replication standby of the PostgreSQL server: async or sync
	// ("": none; store postgres only; pgstandby.go). The architecture's, so that one scenario compares the
	// two modes on the same failover.
	PostgresStandby string
	// CacheTTL turns on the reference API's cache-aside read of resources through Redis with copies
	// that live this long (CACHE_TTL; 0: off; store postgres only; cache.go).
	CacheTTL time.Duration
}

// Service is the program behind the balancer. The zero value is the reference API; an Image makes it a
// user's service that follows the contract (docs/contract.md), of which chaosbench knows only its port,
// its readiness path and the environment it needs.
type Service struct {
	Image  string            // a local image; "" = the reference API
	Port   int               // the port it listens on inside its container (0: DefaultPort)
	Health string            // its readiness path (""; DefaultHealth)
	Env    map[string]string // added to what every node gets: REDIS_URL and NODE_ID
}

// Defaults of a Service, which are also the reference API's.
const (
	DefaultPort   = 8080
	DefaultHealth = "/readyz"
)

// Custom reports whether the nodes run a user's image rather than the reference API.
func (s Service) Custom() bool { return s.Image != "" }

// ListenPort is the port the service listens on.
func (s Service) ListenPort() int {
	if s.Port == 0 {
		return DefaultPort
	}
	return s.Port
}

// HealthPath is the service's readiness path.
func (s Service) HealthPath() string {
	if s.Health == "" {
		return DefaultHealth
	}
	return s.Health
}

// RefapiKnobs names the knobs only the reference API understands: a user's image refuses them.
var RefapiKnobs = []string{"auth", "sessions", "idempotency", "concurrency"}

// Balancer is how requests are spread over the API nodes: one of NGINX's policies, or HAProxy (round-robin)
// in NGINX's place.
type Balancer string

const (
	RoundRobin Balancer = "round-robin" // nginx's default weighted round-robin
	LeastConn  Balancer = "least-conn"  // fewest active connections first
	// Sticky pins a session to one node with a consistent hash of its credential: the `sid` cookie in
	// cookie mode, the Authorization header in jwt mode (never ip_hash: it hashes the client's /24,
	// which sends every client of one Docker network to a single node).
	Sticky Balancer = "sticky"
	// HAProxy runs HAProxy instead of NGINX in front of the nodes, round-robin, with active health checks
	// (target/stack/haproxy.go). What only NGINX does (the edge knobs, routing a node through a fault
	// proxy) is refused on it.
	HAProxy Balancer = "haproxy"
)

// Balancers lists the accepted balancer names.
var Balancers = []Balancer{RoundRobin, LeastConn, Sticky, HAProxy}

// CheckBalancer refuses a balancer that the stack does not know.
func CheckBalancer(b Balancer) error {
	if !slices.Contains(Balancers, b) {
		return fmt.Errorf("balancer %q: want round-robin, least-conn, sticky or haproxy", b)
	}
	return nil
}

// Proxy names the program the balancer runs: haproxy or nginx.
func (b Balancer) Proxy() string {
	if b == HAProxy {
		return "haproxy"
	}
	return "nginx"
}

// checkEdgeBalancer refuses a non-default edge on HAProxy: TLS, NGINX's keep-alive towards the nodes and
// the edge's measure (stub_status) are NGINX's configuration, which HAProxy's does not render.
func (a Arch) checkEdgeBalancer() error {
	if a.Balancer == HAProxy && !a.Edge.Default() {
		return fmt.Errorf("balancer haproxy: the edge knobs (tls, http2, client_keepalive, upstream_keepalive) are " +
			"NGINX's; use round-robin, least-conn or sticky with them")
	}
	return nil
}

// Validate reports every invalid knob at once. Each error starts with the knob's name (a scenario reports
// it under that field).
func (a Arch) Validate() []error {
	var errs []error
	if err := a.checkTokenPad(); err != nil {
		errs = append(errs, err)
	}
	if err := a.CheckMinReplicas(); err != nil {
		errs = append(errs, err)
	}
	if err := a.checkRefresh(); err != nil {
		errs = append(errs, err)
	}
	if err := a.checkEdgeBalancer(); err != nil {
		errs = append(errs, err)
	}
	if err := a.Edge.checkHTTP2(); err != nil {
		errs = append(errs, err)
	}
	if err := a.CheckStore(); err != nil {
		errs = append(errs, err)
	}
	if err := a.checkCache(); err != nil {
		errs = append(errs, err)
	}
	if err := a.checkCluster(); err != nil {
		errs = append(errs, err)
	}
	if a.Service.Custom() {
		if a.Auth != "" || a.Sessions != "" || a.Idempotency || a.Concurrency != "" {
			errs = append(errs, fmt.Errorf("knobs %s are the reference API's: a custom image (%s) does not "+
				"understand them; set only the balancer", strings.Join(RefapiKnobs, ", "), a.Service.Image))
		}
		if err := CheckBalancer(a.Balancer); err != nil {
			errs = append(errs, err)
		}
		return errs
	}
	if a.Auth != "jwt" && a.Auth != "cookie" {
		errs = append(errs, fmt.Errorf("auth %q: want jwt or cookie", a.Auth))
	}
	if a.Sessions != "redis" && a.Sessions != "memory" {
		errs = append(errs, fmt.Errorf("sessions %q: want redis or memory", a.Sessions))
	}
	if a.Concurrency != "etag" && a.Concurrency != "none" {
		errs = append(errs, fmt.Errorf("concurrency %q: want etag or none", a.Concurrency))
	}
	if err := CheckBalancer(a.Balancer); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// APIEnv is the reference API's environment for these knobs (target/config.go reads it); the balancer is
// the proxy's, not the API's.
func (a Arch) APIEnv() map[string]string {
	if a.Service.Custom() {
		return map[string]string{}
	}
	idem := "off"
	if a.Idempotency {
		idem = "on"
	}
	env := map[string]string{"AUTH": a.Auth, "SESSIONS": a.Sessions, "IDEMPOTENCY": idem,
		"CONCURRENCY": a.Concurrency}
	a.tokenPadEnv(env)
	a.refreshEnv(env)
	a.redisHAEnv(env)
	a.storeEnv(env)
	a.cacheEnv(env)
	return env
}

// Persistence is Redis's durability setting.
type Persistence string

const (
	PersistNone     Persistence = "none"     // no RDB, no AOF: a Redis restart loses everything
	PersistEverysec Persistence = "everysec" // AOF fsynced every second
	PersistAlways   Persistence = "always"   // AOF fsynced on every write
)

// RedisConfig sizes and persists the stack's Redis.
type RedisConfig struct {
	MaxMemory   string // e.g. "256mb"; empty means no limit
	Eviction    string // maxmemory-policy, e.g. allkeys-lru, noeviction
	Persistence Persistence
}
