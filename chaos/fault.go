// Package chaos breaks the reference stack on purpose: a small Fault interface, one file per fault, a
// registry by name, and an Injector that brackets every injection with health checks, records it on the
// run's clock and always reverts it (at the end, on error, on Ctrl-C). Faults act on the stack through the
// Stack port (stack.go), so this package imports no Docker or Redis client. docs/faults.md tells how to add
// one.
package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Fault is one kind of failure. A Fault holds only its parameters: everything an injection needs to be
// undone lives in the Effect that Inject returns, so one Fault may be injected several times.
type Fault interface {
	// Name is the registry name, e.g. "packet-loss". The roles it can hit are declared with it (Kind).
	Name() string
	// Inject breaks t, a container of a role the fault declared. When it fails it must leave nothing
	// broken.
	Inject(ctx context.Context, env *Env, t Target) (Effect, error)
}

// Effect is one injected fault: how it was done and how to undo it.
type Effect struct {
	// Mechanism says how the fault was produced (e.g. "iptables statistic drop via sidecar",
	// "tcp-proxy"), for the report.
	Mechanism string
	// Hit names the container the fault chose itself at injection, when that is not the target it was
	// given (redis-failover and redis-split-brain hit the primary of that moment, which may be redis-2):
	// the record's Resolved then says who was really hit. Empty means the resolved target.
	Hit string
	// Revert undoes the fault. It is called exactly once, with a context that is not the run's (so that it
	// runs after Ctrl-C too). Nil means nothing to undo.
	Revert func(ctx context.Context) error
	// Tally says what the fault did while it lasted ("143 of 290 matching answers lost"), read once after
	// Revert and appended to the record's mechanism. An error says the fault hit nothing (a response-loss
	// whose filter matched no request): it is recorded as the injection's error, so the run is invalid as
	// if the fault had not run, never passed on a fault that did nothing. Nil: nothing to count.
	Tally func() (string, error)
}

// Target is what a fault hits, resolved from a spec: a node name (api-2), any-api, redis or nginx.
type Target struct {
	Spec string // as written in the scenario
	arch.Container
}

// Env is what faults act on: the stack (through its port), the run's clock and its random source.
type Env struct {
	Stack Stack
	// Rand picks any-api targets and jitter. It is seeded: the seed goes into the report, so that a run
	// can be replayed. Guarded by mu: the runner may inject concurrently.
	Rand *rand.Rand
	Seed int64
	// Start is the run's time zero: injections are recorded as offsets from it (monotonic).
	Start time.Time
	// RecoverTimeout bounds the health check after a revert.
	RecoverTimeout time.Duration
	Log            io.Writer

	mu sync.Mutex
}

// NewEnv returns an Env on s with a random source seeded by seed and time zero now.
func NewEnv(s Stack, seed int64) *Env {
	return &Env{Stack: s, Rand: rand.New(rand.NewSource(seed)), Seed: seed, Start: time.Now(),
		RecoverTimeout: 30 * time.Second}
}

// Since returns the run's clock: the time elapsed since Start.
func (e *Env) Since() time.Duration { return time.Since(e.Start) }

// Intn draws from the seeded source; safe for concurrent use.
func (e *Env) Intn(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.Rand.Intn(n)
}

// Float64 draws from the seeded source; safe for concurrent use.
func (e *Env) Float64() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.Rand.Float64()
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}

// AnyAPI is the target spec that picks one API node with the run's seeded random source.
const AnyAPI = "any-api"

// Resolve turns a target spec into a container of the stack.
func (e *Env) Resolve(spec string) (Target, error) {
	cs := e.Stack.Containers()
	if spec == AnyAPI {
		var nodes []arch.Container
		for _, c := range cs {
			if c.Role == arch.RoleAPI {
				nodes = append(nodes, c)
			}
		}
		if len(nodes) > 0 {
			return Target{Spec: spec, Container: nodes[e.Intn(len(nodes))]}, nil
		}
	}
	for _, c := range cs {
		if c.Name == spec {
			return Target{Spec: spec, Container: c}, nil
		}
	}
	names := []string{AnyAPI}
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return Target{}, fmt.Errorf("unknown target %q (known: %s)", spec, strings.Join(names, ", "))
}

// one returns the stack's container of role r (redis or nginx: there is one of each).
func (e *Env) one(r arch.Role) (arch.Container, error) {
	for _, c := range e.Stack.Containers() {
		if c.Role == r {
			return c, nil
		}
	}
	return arch.Container{}, fmt.Errorf("the stack has no %s", r)
}

// Params are a fault's parameters as written in a scenario (percent: "30", delay: "200ms").
type Params map[string]string

// Duration reads a duration parameter, def when absent.
func (p Params) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("parameter %s=%q: want a duration like 200ms", key, v)
	}
	return d, nil
}

// Percent reads a percentage in (0, 100], def when absent.
func (p Params) Percent(key string, def float64) (float64, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || f <= 0 || f > 100 {
		return 0, fmt.Errorf("parameter %s=%q: want a percentage in (0, 100]", key, v)
	}
	return f, nil
}

// String reads a string parameter that must be one of allowed, def when absent.
func (p Params) String(key, def string, allowed ...string) (string, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return def, nil
	}
	if len(allowed) > 0 && !slices.Contains(allowed, v) {
		return "", fmt.Errorf("parameter %s=%q: want one of %s", key, v, strings.Join(allowed, ", "))
	}
	return v, nil
}

// List reads a parameter that is one value (with: api-1) or a list (with: [api-1, api-2], which a scenario's
// parameters hold as the text "[api-1 api-2]"), without repeats; nil when absent.
func (p Params) List(key string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.Trim(p[key], "[]"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// check refuses parameters a fault does not know, so that a typo in a scenario is an error.
func (p Params) check(known ...string) error {
	for k := range p {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// RoleOf is the role a target spec names (arch.Role: the kind of container a fault hits, as the stack
// labels it): any-api and api-N are API nodes; "" for a spec that names no container of the stack.
func RoleOf(spec string) arch.Role {
	if spec == AnyAPI {
		return arch.RoleAPI
	}
	return arch.RoleOf(spec)
}

// targets is how a role is written as a scenario target.
func targets(r arch.Role) string {
	switch r {
	case arch.RoleAPI:
		return "API nodes (any-api, api-N)"
	case arch.RoleReplica:
		return "Redis replicas (redis-2, redis-3 on stateless-ha; redis-2..redis-6 on stateless-cluster)"
	case arch.RoleSentinel:
		return "Sentinels (sentinel-N on stateless-ha)"
	case arch.RolePostgres:
		return "postgres (on stateless-postgres)"
	case arch.RolePostgresStandby:
		return "postgres-2 (with postgres_standby)"
	}
	return string(r)
}
