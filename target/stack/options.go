package stack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Images names the container images. Redis, NGINX and HAProxy default to the locally built base image,
// which has all three; official images (redis:7, nginx:1.22, haproxy:2.8) work too for users with a
// registry.
type Images struct {
	Refapi string
	Redis  string
	Nginx  string
	// HAProxy runs the balancer of arch.HAProxy: `haproxy -f FILE -db`.
	HAProxy string
	// Sidecar runs iptables inside a target's network namespace for network faults.
	Sidecar string
}

// DefaultImages reads CHAOSBENCH_*_IMAGE from the environment, falling back to what `make images` builds.
func DefaultImages() Images {
	base := envOr("CHAOSBENCH_BASE_IMAGE", arch.DefaultBaseImage)
	return Images{
		Refapi:  envOr("CHAOSBENCH_REFAPI_IMAGE", arch.DefaultRefapiImage),
		Redis:   envOr("CHAOSBENCH_REDIS_IMAGE", base),
		Nginx:   envOr("CHAOSBENCH_NGINX_IMAGE", base),
		HAProxy: envOr("CHAOSBENCH_HAPROXY_IMAGE", base),
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
	Arch     arch.Arch
	Replicas int
	Redis    arch.RedisConfig
	Images   Images
	// UpstreamTimeout bounds the balancer's connect (a fifth of it, at least 1s) and read/send to a node; a stalled
	// node costs at most this before NGINX fails over (for methods it may replay).
	UpstreamTimeout time.Duration
	// StartTimeout bounds Up from the first container to the last /readyz.
	StartTimeout time.Duration
	JWTSecret    string            // random per run when empty
	RefapiEnv    map[string]string // extra environment for every node (overrides the knobs)
	Log          io.Writer         // progress lines; nil means silent
	// haproxyEdit changes HAProxy's configuration before Up checks and writes it: a test's way to a
	// configuration HAProxy refuses.
	haproxyEdit func([]byte) []byte
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
		a, err := arch.Preset(name)
		if err != nil {
			return err
		}
		c.Arch = a
		return nil
	}
}

// WithArchitecture sets custom knobs.
func WithArchitecture(a arch.Arch) Option {
	return func(c *Config) error {
		if errs := a.Validate(); len(errs) > 0 {
			return errors.Join(errs...)
		}
		c.Arch = a
		return nil
	}
}

// WithBalancer overrides the architecture's balancer; apply it after WithArch.
func WithBalancer(b arch.Balancer) Option {
	return func(c *Config) error {
		if err := arch.CheckBalancer(b); err != nil {
			return err
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
func WithRedis(r arch.RedisConfig) Option {
	return func(c *Config) error {
		switch r.Persistence {
		case "":
			r.Persistence = arch.PersistNone
		case arch.PersistNone, arch.PersistEverysec, arch.PersistAlways:
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

// balancerImage is the image of the container in front of the nodes.
func (c Config) balancerImage() string {
	if c.Arch.Balancer == arch.HAProxy {
		return c.Images.HAProxy
	}
	return c.Images.Nginx
}

// apiImage is the image the API nodes run: the user's service, or the reference API.
func (c Config) apiImage() string {
	if c.Arch.Service.Custom() {
		return c.Arch.Service.Image
	}
	return c.Images.Refapi
}

// WithImages overrides image names; empty fields keep their defaults.
func WithImages(im Images) Option {
	return func(c *Config) error {
		for _, p := range []struct {
			dst *string
			v   string
		}{
			{&c.Images.Refapi, im.Refapi}, {&c.Images.Redis, im.Redis},
			{&c.Images.Nginx, im.Nginx}, {&c.Images.HAProxy, im.HAProxy}, {&c.Images.Sidecar, im.Sidecar},
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
	stateless, _ := arch.Preset("stateless")
	c := Config{
		Arch:            stateless,
		Replicas:        3,
		Redis:           arch.RedisConfig{Eviction: "noeviction", Persistence: arch.PersistNone},
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
