package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/threshold"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// Documented defaults (docs/scenarios.md).
const (
	DefaultReplicas = 3
	DefaultClients  = 50
	DefaultTimeout  = 2 * time.Second
	// MaxRate is the highest rate a phase may plan. Past about 12k/s a 2-core
	// machine cannot both generate and serve load; a higher number would only
	// measure the load generator.
	MaxRate = 20000.0
	// MinFaultAt leaves a baseline before the first fault: recovery is judged
	// against the p99 measured before it.
	MinFaultAt = 3 * time.Second
)

// Plan is a validated scenario: everything the runner needs, typed.
type Plan struct {
	Name        string
	Description string
	Source      string // file path, or catalogue/NAME.yaml for built-ins
	Seed        int64
	SeedSet     bool // false: the runner picks one and records it
	// Service is what the API nodes run: the reference API, or the user's image of target.image (every
	// architecture carries it too).
	Service arch.Service
	// Attach is a running service chaosbench attaches to instead of starting a stack (target.url); nil
	// for a stack of chaosbench's own.
	Attach        *Attach
	Architectures []arch.Arch
	Replicas      int
	Redis         arch.RedisConfig
	SessionTTL    time.Duration  // 0: the API's default
	TokenLeeway   *time.Duration // nil: the API's default (5 s); 0 is a setting
	Clients       int
	Phases        []Phase
	Mix           load.Mix
	Resources     int // 0: the load engine's default
	Retry         load.RetryPolicy
	// OpRetry is the retry policy of each declared op that has its own (ops.NAME.retry, over Retry).
	OpRetry    map[string]load.RetryPolicy
	Timeout    time.Duration
	Faults     []FaultPlan
	Thresholds []ThresholdPlan
	// Client and Ops are the scenario's declared requests (nil and empty when it has none), and
	// DeclaredMix the mix entries that name a declared op.
	Client      *flow.Client
	Ops         []flow.Op // sorted by name
	DeclaredMix []DeclaredWeight
	// Invariants are the scenario's declared correctness rules, in the file's order.
	Invariants []flow.Invariant
}

// Attach names a running service: the load goes to URL, and the faults to the containers of Project's
// compose services (API, and Redis and Nginx when named).
type Attach struct {
	URL                        string
	Project, API, Redis, Nginx string
}

// Has reports whether the attached project names a container of role.
func (a *Attach) Has(role arch.Role) bool {
	switch role {
	case arch.RoleAPI:
		return a.API != ""
	case arch.RoleRedis:
		return a.Redis != ""
	case arch.RoleNginx:
		return a.Nginx != ""
	}
	return false
}

// Phase is one stretch of load: constant when From == To, else a linear ramp.
type Phase struct {
	Name     string
	Duration time.Duration
	From, To float64 // requests per second
}

// FaultPlan is one fault on the timeline.
type FaultPlan struct {
	At, For time.Duration
	Kind    string
	Target  string
	Params  chaos.Params
}

// ThresholdPlan is one threshold; Arch "" applies to every architecture.
type ThresholdPlan struct {
	Arch string
	Expr threshold.Expr
	Text string
}

// Duration is the length of the load: the sum of the phases.
func (p Plan) Duration() time.Duration {
	var d time.Duration
	for _, ph := range p.Phases {
		d += ph.Duration
	}
	return d
}

// Scaled multiplies every duration and fault time by f (for quick runs).
func (p Plan) Scaled(f float64) Plan {
	if f == 1 || f <= 0 {
		return p
	}
	mul := func(d time.Duration) time.Duration { return time.Duration(math.Round(float64(d) * f)) }
	q := p
	q.Phases = slices.Clone(p.Phases)
	for i := range q.Phases {
		q.Phases[i].Duration = mul(q.Phases[i].Duration)
	}
	q.Faults = slices.Clone(p.Faults)
	for i := range q.Faults {
		q.Faults[i].At, q.Faults[i].For = mul(q.Faults[i].At), mul(q.Faults[i].For)
	}
	return q
}

// LoadPhases turns the plan's phases into the load engine's.
func (p Plan) LoadPhases() []load.Phase {
	out := make([]load.Phase, len(p.Phases))
	for i, ph := range p.Phases {
		lp := load.Phase{Name: ph.Name, Duration: ph.Duration}
		if ph.From == ph.To {
			lp.Pacer = load.Constant(int(math.Round(ph.From)))
		} else {
			lp.Pacer = load.Ramp(int(math.Round(ph.From)), int(math.Round(ph.To)), ph.Duration)
		}
		out[i] = lp
	}
	return out
}

// ThresholdsFor returns the thresholds that apply to arch.
func (p Plan) ThresholdsFor(arch string) []ThresholdPlan {
	var out []ThresholdPlan
	for _, t := range p.Thresholds {
		if t.Arch == "" || t.Arch == arch {
			out = append(out, t)
		}
	}
	return out
}

// Arch returns the plan's architecture named name.
func (p Plan) Arch(name string) (arch.Arch, bool) {
	for _, a := range p.Architectures {
		if a.Name == name {
			return a, true
		}
	}
	return arch.Arch{}, false
}

// Archs are the plan's architectures called names, in that order (all of them, in the plan's order, for
// none). A name the plan does not have is an error that says which it has: the one check of a selection
// (run --arch, a worker's --arch, runner.WithArchs, a suite entry's arch).
func (p Plan) Archs(names ...string) ([]arch.Arch, error) {
	if len(names) == 0 {
		return p.Architectures, nil
	}
	out := make([]arch.Arch, 0, len(names))
	for _, n := range names {
		a, ok := p.Arch(n)
		if !ok {
			return nil, fmt.Errorf("%q is not an architecture of scenario %s (it has %s)", n, p.Name, archList(p))
		}
		out = append(out, a)
	}
	return out, nil
}

// CheckWorkers refuses a load split over n workers (segments) that leaves one without a client: the one
// check of it, for run --workers and for each worker.
func (p Plan) CheckWorkers(n int) error {
	if p.Clients > 0 && p.Clients < n {
		return fmt.Errorf("%d clients for %d workers: every worker needs one", p.Clients, n)
	}
	return nil
}

// Parse reads and validates a scenario. Every problem is reported at once,
// each with the file, line and field (an Errors value).
func Parse(source string, data []byte) (Plan, error) {
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Plan{}, Errors{yamlError(source, nil, err)}
	}
	var f file
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.DisallowUnknownField()); err != nil {
		return Plan{}, Errors{yamlError(source, astFile, err)}
	}
	v := &positioner{file: source, ast: astFile}
	plan := validate(v, f)
	plan.Source = source
	if len(v.errs) > 0 {
		v.errs.sortByLine()
		return Plan{}, v.errs
	}
	return plan, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func validate(v *positioner, f file) Plan {
	p := Plan{Name: f.Name, Description: strings.TrimSpace(f.Description)}
	if !nameRE.MatchString(f.Name) {
		v.add("name", "%q: want lowercase letters, digits and dashes (e.g. kill-node)", f.Name)
	}
	if f.Seed != nil {
		p.Seed, p.SeedSet = *f.Seed, true
	}

	validateTarget(v, f, &p)
	validateDeclared(v, f, &p)
	validateArchitectures(v, f, &p)
	validateStack(v, f, &p)
	validateLoad(v, f, &p)
	validateRetry(v, f, &p)
	validateFaults(v, f, &p)
	validateThresholds(v, f, &p)
	return p
}

func duration(v *positioner, field, s string, positive bool) time.Duration {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.add(field, "%q is not a duration (e.g. 500ms, 30s, 2m)", s)
	case d < 0 || (positive && d == 0):
		v.add(field, "%q must be positive", s)
	}
	return d
}

// rate parses "500/s", "30000/m" or "500" (per second).
func rate(v *positioner, field, s string) float64 {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	if hasUnit {
		switch unit {
		case "s":
		case "m", "min":
			per = 60
		default:
			v.add(field, "%q: unknown unit /%s (want /s or /m)", s, unit)
			return 0
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		v.add(field, "%q is not a rate (e.g. 200/s)", s)
		return 0
	}
	r := n / per
	switch {
	case r <= 0:
		v.add(field, "%q: a rate must be positive", s)
	case r < 1:
		v.add(field, "%q is under 1 request per second", s)
	case r > MaxRate:
		v.add(field, "%q is impossible here: at most %.0f/s (a 2-core machine cannot both send and serve more)", s, MaxRate)
	}
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
