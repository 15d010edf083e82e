package k8s

import (
	"fmt"
	"net/url"
	"time"

	"github.com/chaosbench/chaosbench/scenarios"

	"github.com/chaosbench/chaosbench/target/arch"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of the rendering (docs/kubernetes.md).
const (
	DefaultNamespace = "chaosbench"
	DefaultWorkers   = 2
	// DefaultLoaderImage is the loader `make images` builds: chaosbench as its entrypoint, so a worker's
	// container gives only its arguments (`worker …`).
	DefaultLoaderImage = arch.DefaultLoaderImage
	DefaultRefapiImage = arch.DefaultRefapiImage
	// DefaultBaseImage runs Redis and the outbox container: it has redis-server, sh and tar (the coordinator's copy through exec).
	DefaultBaseImage = arch.DefaultBaseImage
	// DefaultCollectWindow is how long after the load's planned end the outbox keeps a worker's files
	// for the coordinator to copy, unless it is told they are collected.
	DefaultCollectWindow = 10 * time.Minute
	// MaxWorkers bounds the Job's completions: a segment of a scenario is a share of its rate, and past
	// this many a segment is too thin to pace (and a typo like 1000 would flood a cluster).
	MaxWorkers = 64
)

// Config is what Render needs besides the plan; build it with options.
type Config struct {
	Namespace string
	Workers   int
	// Arch is the plan's architecture to run; "" means the plan's only one.
	Arch string
	// Target is a service already in (or reachable from) the cluster: the loaders send to it and no
	// stack is rendered. "" renders the bundled reference stack and aims at its Service.
	Target string
	Images Images
	// Start is the instant every worker starts its segment's clock (RFC 3339, UTC in the manifests).
	Start time.Time
	// RenderedAt is when the manifests were made: the Job's deadline counts from about then.
	RenderedAt time.Time
	Seed       int64
	Scale      float64 // passed to the workers; 0 or 1: the scenario's own durations
	// Scenario is how the workers find the scenario (a file shipped in a ConfigMap, or a built-in name).
	Scenario Scenario
	// JWTSecret is the reference API's signing secret, put in a Secret; the CLI draws a random one.
	JWTSecret     string
	CollectWindow time.Duration
	// RunID labels every object chaosbench.run=RunID, like the Docker stack's containers.
	RunID string
	// Gate and Clock are the coordinator's start gate and clock (chaosbench k8s run serves them on an
	// address the pods reach): with a gate, each worker asks it for the shared start once set up, instead of
	// the fixed Start (which then only bounds the Job's deadline: the latest the load may start); with a
	// clock, each measures its offset against it. Empty: a fixed start, and offsets not measured (the
	// merged run is then invalid: manifests applied by hand).
	Gate, Clock string
	// WorkerRunID is the run id every worker shares (worker --run-id), "" for one each.
	WorkerRunID string
}

// Images names the container images of the manifests. A cluster pulls them from a registry (or a
// kind/minikube node has them loaded): chaosbench never pushes.
type Images struct {
	Loader string
	Refapi string // the reference API; a scenario's target.image replaces it
	Base   string // Redis and the outbox
}

// Scenario is the scenario as the workers read it: File (its bytes) goes into a ConfigMap mounted in
// every worker, so that they run exactly what was rendered; with no File, Name is a built-in the loader
// image has compiled in (the image must then be of the same chaosbench version).
type Scenario struct {
	Name string
	File []byte
}

// Option changes the Config; it refuses a bad value.
type Option func(*Config) error

// WithNamespace puts every object in ns (a DNS-1123 label); the manifests create it.
func WithNamespace(ns string) Option {
	return func(c *Config) error {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", ns, errs[0])
		}
		c.Namespace = ns
		return nil
	}
}

// WithWorkers sets how many loader pods share the load (the Indexed Job's completions).
func WithWorkers(n int) Option {
	return func(c *Config) error {
		if n < 1 || n > MaxWorkers {
			return fmt.Errorf("workers %d: want 1 to %d", n, MaxWorkers)
		}
		c.Workers = n
		return nil
	}
}

// WithArch picks the plan's architecture to render.
func WithArch(name string) Option {
	return func(c *Config) error { c.Arch = name; return nil }
}

// WithTarget aims the loaders at a running service instead of rendering the reference stack.
func WithTarget(rawURL string) Option {
	return func(c *Config) error {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("target %q: want http://HOST[:PORT] (e.g. http://shop.shop.svc:8080)", rawURL)
		}
		c.Target = rawURL
		return nil
	}
}

// WithImages overrides image names; empty fields keep their defaults.
func WithImages(im Images) Option {
	return func(c *Config) error {
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&c.Images.Loader, im.Loader}, {&c.Images.Refapi, im.Refapi}, {&c.Images.Base, im.Base}} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
		return nil
	}
}

// WithStart sets the shared start instant and when the manifests are made (the Job's deadline counts
// the time between the two). A start before renderedAt is refused: the workers would begin late.
func WithStart(start, renderedAt time.Time) Option {
	return func(c *Config) error {
		if start.Before(renderedAt) {
			return fmt.Errorf("start %s is before now (%s): the workers would start late",
				start.UTC().Format(time.RFC3339), renderedAt.UTC().Format(time.RFC3339))
		}
		c.Start, c.RenderedAt = start.UTC(), renderedAt.UTC()
		return nil
	}
}

// WithSeed sets the seed every worker gets (the plan's, or one the caller drew and records).
func WithSeed(seed int64) Option {
	return func(c *Config) error { c.Seed = seed; return nil }
}

// WithScale passes --scale to the workers and shortens the Job's deadline with it.
func WithScale(f float64) Option {
	return func(c *Config) error {
		if err := scenarios.CheckScale(f); err != nil { // run's rule, in run's words
			return fmt.Errorf("scale %w", err)
		}
		c.Scale = f
		return nil
	}
}

// WithScenario says how the workers find the scenario (see Scenario).
func WithScenario(s Scenario) Option {
	return func(c *Config) error {
		if s.Name == "" && s.File == nil {
			return fmt.Errorf("scenario: a file's bytes or a built-in's name is needed")
		}
		c.Scenario = s
		return nil
	}
}

// WithJWTSecret sets the reference API's signing secret.
func WithJWTSecret(s string) Option {
	return func(c *Config) error {
		if len(s) < 16 {
			return fmt.Errorf("jwt secret: want at least 16 characters")
		}
		c.JWTSecret = s
		return nil
	}
}

// WithCollectWindow sets how long the outbox waits, after the load's planned end, for the coordinator.
func WithCollectWindow(d time.Duration) Option {
	return func(c *Config) error {
		if d < time.Minute {
			return fmt.Errorf("collect window %s: want at least 1m", d)
		}
		c.CollectWindow = d
		return nil
	}
}

// WithRunID sets the chaosbench.run label value (a label value: 63 characters at most).
func WithRunID(id string) Option {
	return func(c *Config) error {
		if errs := validation.IsValidLabelValue(id); len(errs) > 0 || id == "" {
			return fmt.Errorf("run id %q: want a label value (letters, digits, '-', '_', '.'; at most 63)", id)
		}
		c.RunID = id
		return nil
	}
}

// WithCoordinator points the workers at the coordinator's start gate and clock (URLs the pods reach), and
// gives them one run id.
func WithCoordinator(gate, clock, runID string) Option {
	return func(c *Config) error {
		for _, u := range []struct{ name, v string }{{"gate", gate}, {"clock", clock}} {
			p, err := url.Parse(u.v)
			if err != nil || p.Scheme != "http" || p.Host == "" {
				return fmt.Errorf("coordinator %s %q: want http://HOST:PORT/...", u.name, u.v)
			}
		}
		c.Gate, c.Clock, c.WorkerRunID = gate, clock, runID
		return nil
	}
}
