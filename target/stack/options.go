package stack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

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

// Persistence is Redis's durability setting.
type Persistence string

const (
	PersistNone     Persistence = "none"     // no RDB, no AOF: a Redis restart loses everything
	PersistEverysec Persistence = "everysec" // AOF fsynced every second
	PersistAlways   Persistence = "always"   // AOF fsynced on every write
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

// presets are the named architectures that the design compares.
var presets = map[string]Arch{
	"stateless": {Name: "stateless", Auth: "jwt", Sessions: "redis", Idempotency: true,
		Concurrency: "etag", Balancer: RoundRobin},
	"stateful": {Name: "stateful", Auth: "cookie", Sessions: "memory", Idempotency: false,
		Concurrency: "none", Balancer: Sticky},
	"stateless-no-idempotency": {Name: "stateless-no-idempotency", Auth: "jwt", Sessions: "redis",
		Idempotency: false, Concurrency: "etag", Balancer: RoundRobin},
}

// Preset returns the named architecture.
func Preset(name string) (Arch, error) {
	a, ok := presets[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown architecture %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return a, nil
}

// PresetNames lists the named architectures, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Validate reports every invalid knob at once.
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
	if !slices.Contains(Balancers, a.Balancer) {
		errs = append(errs, fmt.Errorf("balancer %q: want round-robin, least-conn or sticky", a.Balancer))
	}
	return errs
}

// RedisConfig sizes and persists the stack's Redis.
type RedisConfig struct {
	MaxMemory   string // e.g. "256mb"; empty means no limit
	Eviction    string // maxmemory-policy, e.g. allkeys-lru, noeviction
	Persistence Persistence
}

// Images names the container images. Redis and NGINX default to the locally built base image, which has
// both; official images (redis:7, nginx:1.22) work too for users with a registry.
type Images struct {
	Refapi string
	Redis  string
	Nginx  string
	// Sidecar runs iptables inside a target's network namespace for network faults.
	Sidecar string
}

// DefaultImages reads CHAOSBENCH_*_IMAGE from the environment, falling back to what `make images` builds.
func DefaultImages() Images {
	base := envOr("CHAOSBENCH_BASE_IMAGE", "chaosbench/base:bookworm")
	return Images{
		Refapi:  envOr("CHAOSBENCH_REFAPI_IMAGE", "chaosbench/refapi:dev"),
		Redis:   envOr("CHAOSBENCH_REDIS_IMAGE", base),
		Nginx:   envOr("CHAOSBENCH_NGINX_IMAGE", base),
		Sidecar: envOr("CHAOSBENCH_SIDECAR_IMAGE", base),
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Config is everything Up needs; build it with options.
type Config struct {
	RunID    string // label value chaosbench.run=<RunID>; random when empty
	Arch     Arch
	Replicas int
	Redis    RedisConfig
	Images   Images
	// UpstreamTimeout bounds NGINX's connect (a fifth of it, at least 1s) and read/send to a node; a stalled
	// node costs at most this before NGINX fails over (for methods it may replay).
	UpstreamTimeout time.Duration
	// StartTimeout bounds Up from the first container to the last /readyz.
	StartTimeout time.Duration
	JWTSecret    string            // random per run when empty
	RefapiEnv    map[string]string // extra environment for every node (overrides the knobs)
	Log          io.Writer         // progress lines; nil means silent
}

// Option changes the Config; it may refuse a bad value.
type Option func(*Config) error

// WithRunID sets the run id used in labels and container names.
func WithRunID(id string) Option {
	return func(c *Config) error {
		if id == "" || strings.ContainsAny(id, " /:") {
			return fmt.Errorf("run id %q: want a non-empty name without spaces, slashes or colons", id)
		}
		c.RunID = id
		return nil
	}
}

// WithArch selects a named architecture preset, balancer included (apply WithBalancer after it).
func WithArch(name string) Option {
	return func(c *Config) error {
		a, err := Preset(name)
		if err != nil {
			return err
		}
		c.Arch = a
		return nil
	}
}

// WithArchitecture sets custom knobs.
func WithArchitecture(a Arch) Option {
	return func(c *Config) error {
		if errs := a.Validate(); len(errs) > 0 {
			return errors.Join(errs...)
		}
		c.Arch = a
		return nil
	}
}

// WithBalancer overrides the architecture's balancer; apply it after WithArch.
func WithBalancer(b Balancer) Option {
	return func(c *Config) error {
		if !slices.Contains(Balancers, b) {
			return fmt.Errorf("balancer %q: want round-robin, least-conn or sticky", b)
		}
		c.Arch.Balancer = b
		return nil
	}
}

// WithReplicas sets the number of API nodes (1..100).
func WithReplicas(n int) Option {
	return func(c *Config) error {
		if n < 1 || n > 100 {
			return fmt.Errorf("replicas %d: want 1..100", n)
		}
		c.Replicas = n
		return nil
	}
}

// WithRedis sets Redis's memory limit, eviction policy and persistence.
func WithRedis(r RedisConfig) Option {
	return func(c *Config) error {
		switch r.Persistence {
		case "":
			r.Persistence = PersistNone
		case PersistNone, PersistEverysec, PersistAlways:
		default:
			return fmt.Errorf("redis persistence %q: want none, everysec or always", r.Persistence)
		}
		if r.Eviction == "" {
			r.Eviction = "noeviction"
		}
		c.Redis = r
		return nil
	}
}

// WithImages overrides image names; empty fields keep their defaults.
func WithImages(im Images) Option {
	return func(c *Config) error {
		for _, p := range []struct {
			dst *string
			v   string
		}{
			{&c.Images.Refapi, im.Refapi}, {&c.Images.Redis, im.Redis},
			{&c.Images.Nginx, im.Nginx}, {&c.Images.Sidecar, im.Sidecar},
		} {
			if p.v != "" {
				*p.dst = p.v
			}
		}
		return nil
	}
}

// WithUpstreamTimeout sets NGINX's per-attempt timeout towards a node.
func WithUpstreamTimeout(d time.Duration) Option {
	return func(c *Config) error {
		if d < time.Second {
			return fmt.Errorf("upstream timeout %s: want at least 1s", d)
		}
		c.UpstreamTimeout = d
		return nil
	}
}

// WithStartTimeout bounds how long Up waits for the stack to be ready.
func WithStartTimeout(d time.Duration) Option {
	return func(c *Config) error {
		if d <= 0 {
			return fmt.Errorf("start timeout %s: want > 0", d)
		}
		c.StartTimeout = d
		return nil
	}
}

// WithRefapiEnv adds an environment variable to every API node (e.g. LOG_LEVEL=debug).
func WithRefapiEnv(key, value string) Option {
	return func(c *Config) error {
		if c.RefapiEnv == nil {
			c.RefapiEnv = map[string]string{}
		}
		c.RefapiEnv[key] = value
		return nil
	}
}

// WithLog sends progress lines to w.
func WithLog(w io.Writer) Option {
	return func(c *Config) error { c.Log = w; return nil }
}

// NewConfig applies the options to the defaults: stateless, 3 replicas, Redis without persistence.
func NewConfig(opts ...Option) (Config, error) {
	c := Config{
		Arch:            presets["stateless"],
		Replicas:        3,
		Redis:           RedisConfig{Eviction: "noeviction", Persistence: PersistNone},
		Images:          DefaultImages(),
		UpstreamTimeout: 5 * time.Second,
		StartTimeout:    60 * time.Second,
	}
	var errs []error
	for _, o := range opts {
		if err := o(&c); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}
