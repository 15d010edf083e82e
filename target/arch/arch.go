// Package arch describes an architecture of the reference stack without running it: the knobs of the API
// (auth, sessions, idempotency, concurrency), NGINX's balancer, Redis's settings, the named presets the
// design compares, and the containers a stack is made of (their names, roles and addresses). It imports no
// container runtime: scenarios validate against it, target/stack runs it in Docker, and results records it.
package arch

import (
	"fmt"
	"slices"
)

// Arch is one architecture of the reference API: its knobs (docs/refapi.md) plus the balancer.
type Arch struct {
	Name        string
	Auth        string // jwt | cookie
	Sessions    string // redis | memory
	Idempotency bool
	Concurrency string // etag | none
	Balancer    Balancer
}

// Balancer is NGINX's policy for spreading requests over the API nodes.
type Balancer string

const (
	RoundRobin Balancer = "round-robin" // nginx's default weighted round-robin
	LeastConn  Balancer = "least-conn"  // fewest active connections first
	// Sticky pins a session to one node with a consistent hash of its credential: the `sid` cookie in
	// cookie mode, the Authorization header in jwt mode (never ip_hash: it hashes the client's /24,
	// which sends every client of one Docker network to a single node).
	Sticky Balancer = "sticky"
)

// Balancers lists the accepted balancer names.
var Balancers = []Balancer{RoundRobin, LeastConn, Sticky}

// CheckBalancer refuses a balancer that NGINX's configuration does not know.
func CheckBalancer(b Balancer) error {
	if !slices.Contains(Balancers, b) {
		return fmt.Errorf("balancer %q: want round-robin, least-conn or sticky", b)
	}
	return nil
}

// Validate reports every invalid knob at once. Each error starts with the knob's name (a scenario reports
// it under that field).
func (a Arch) Validate() []error {
	var errs []error
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
// NGINX's, not the API's.
func (a Arch) APIEnv() map[string]string {
	idem := "off"
	if a.Idempotency {
		idem = "on"
	}
	return map[string]string{"AUTH": a.Auth, "SESSIONS": a.Sessions, "IDEMPOTENCY": idem,
		"CONCURRENCY": a.Concurrency}
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
