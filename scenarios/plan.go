package scenarios

import (
	"errors"
	"fmt"
	"math"
	"net/url"
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

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateTarget reads the service under test: the reference API (no target section) or a user's image.
func validateTarget(v *positioner, f file, p *Plan) {
	t := f.Target
	if t.URL != "" || t.Compose != nil {
		validateAttach(v, f, p)
		return
	}
	if t.Image == "" {
		if t.Port != nil || t.Health != "" || len(t.Env) > 0 {
			v.add("target.image", "is required with target.port, target.health or target.env")
		}
		return
	}
	p.Service = arch.Service{Image: t.Image, Health: t.Health, Env: t.Env}
	if strings.ContainsAny(t.Image, " \t") {
		v.add("target.image", "%q: want an image reference like shop-api:dev", t.Image)
	}
	if t.Port != nil {
		p.Service.Port = *t.Port
		if *t.Port < 1 || *t.Port > 65535 {
			v.add("target.port", "%d: want 1 to 65535", *t.Port)
		}
	}
	if t.Health != "" && !strings.HasPrefix(t.Health, "/") {
		v.add("target.health", "%q: want a path like /readyz", t.Health)
	}
	for _, k := range sortedKeys(t.Env) {
		switch {
		case !envNameRE.MatchString(k):
			v.add("target.env."+k, "%q is not an environment variable name", k)
		case k == "NODE_ID" || k == "REDIS_URL":
			v.add("target.env."+k, "chaosbench sets %s itself (docs/contract.md)", k)
		}
	}
}

// validateAttach reads target.url and target.compose: a service chaosbench attaches to and starts nothing
// of. What chaosbench would otherwise build (architectures, the stack's settings, an image) means nothing
// here and is refused; the port and readiness path still say how to probe its nodes.
func validateAttach(v *positioner, f file, p *Plan) {
	t := f.Target
	a := &Attach{URL: t.URL}
	p.Attach = a
	p.Service = arch.Service{Health: t.Health}
	if t.Port != nil {
		p.Service.Port = *t.Port
	}
	u, err := url.Parse(t.URL)
	switch {
	case t.URL == "":
		v.add("target.url", "is required with target.compose: where the load goes (e.g. http://127.0.0.1:8080)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.add("target.url", "%q: want http://HOST:PORT (on this machine)", t.URL)
	}
	if t.Image != "" {
		v.add("target.image", "chaosbench starts no image when it attaches to target.url: use one or the other")
	}
	if len(t.Env) > 0 {
		v.add("target.env", "chaosbench starts nothing when it attaches to target.url, so it sets no environment")
	}
	if t.Health != "" && !strings.HasPrefix(t.Health, "/") {
		v.add("target.health", "%q: want a path like /readyz", t.Health)
	}
	if c := t.Compose; c != nil {
		a.Project, a.API, a.Redis, a.Nginx = c.Project, c.API, c.Redis, c.Nginx
		if c.Project == "" {
			v.add("target.compose.project", "is required: the compose project's name (docker compose ls)")
		}
		if c.API == "" {
			v.add("target.compose.api", "is required: the compose service of the API")
		}
	}
	for _, field := range []struct {
		name string
		set  bool
	}{{"architectures", len(f.Architectures) > 0}, {"custom_architectures", len(f.CustomArchitectures) > 0},
		{"stack", f.Stack.Replicas != nil || f.Stack.Redis != (redisSpec{}) || f.Stack.SessionTTL != "" || f.Stack.TokenLeeway != ""}} {
		if field.set {
			v.add(field.name, "chaosbench starts nothing when it attaches to target.url: the service runs as it is")
		}
	}
	name := "attached"
	if a.Project != "" && nameRE.MatchString(strings.ToLower(a.Project)) {
		name = strings.ToLower(a.Project)
	}
	p.Architectures = []arch.Arch{{Name: name, Service: p.Service}}
}

// customName is the architecture's name for a user's image when the scenario names none: the image's
// last path element without its tag (registry.example/team/shop-api:dev -> shop-api).
func customName(image string) string {
	n := image[strings.LastIndex(image, "/")+1:]
	n, _, _ = strings.Cut(n, ":")
	n, _, _ = strings.Cut(n, "@")
	n = strings.ToLower(n)
	if !nameRE.MatchString(n) {
		return "service"
	}
	return n
}

// validateArchitectures resolves presets and custom architectures. With a user's image (target.image) the
// reference API's knobs mean nothing: presets and those knobs are refused, and only the balancer varies.
func validateArchitectures(v *positioner, f file, p *Plan) {
	if p.Attach != nil {
		return // validateAttach set the one architecture
	}
	custom := map[string]arch.Arch{}
	image := p.Service.Custom()
	for i, c := range f.CustomArchitectures {
		field := fmt.Sprintf("custom_architectures[%d]", i)
		if image {
			for _, k := range []struct {
				name string
				set  bool
			}{{"base", c.Base != ""}, {"auth", c.Auth != ""}, {"sessions", c.Sessions != ""},
				{"idempotency", c.Idempotency != nil}, {"concurrency", c.Concurrency != ""},
				{"token_pad_bytes", c.TokenPadBytes != nil}} {
				if k.set {
					v.add(field+"."+k.name, "is a knob of the reference API, which target.image (%s) replaces: "+
						"only balancer applies to a custom image", f.Target.Image)
				}
			}
		}
		if !nameRE.MatchString(c.Name) {
			v.add(field+".name", "%q: want lowercase letters, digits and dashes", c.Name)
			continue
		}
		if _, err := arch.Preset(c.Name); err == nil {
			v.add(field+".name", "%q is a preset; give the custom architecture another name", c.Name)
			continue
		}
		if _, dup := custom[c.Name]; dup {
			v.add(field+".name", "%q is defined twice", c.Name)
			continue
		}
		a := arch.Arch{Auth: "jwt", Sessions: "redis", Idempotency: true, Concurrency: "etag", Balancer: arch.RoundRobin}
		if image {
			a = arch.Arch{Service: p.Service, Balancer: arch.RoundRobin}
		}
		if c.Base != "" && !image {
			base, err := arch.Preset(c.Base)
			if err != nil {
				v.add(field+".base", "%v", err)
			} else {
				a = base
			}
		}
		a.Name = c.Name
		if c.Auth != "" && !image {
			a.Auth = c.Auth
		}
		if c.Sessions != "" && !image {
			a.Sessions = c.Sessions
		}
		if c.Idempotency != nil && !image {
			a.Idempotency = *c.Idempotency
		}
		if c.Concurrency != "" && !image {
			a.Concurrency = c.Concurrency
		}
		if c.Balancer != "" {
			a.Balancer = arch.Balancer(c.Balancer)
		}
		if c.TokenPadBytes != nil && !image {
			a.TokenPad = *c.TokenPadBytes
		}
		if c.MinReplicasToWrite != nil {
			a.MinReplicasToWrite = *c.MinReplicasToWrite
		}
		applyEdge(&a.Edge, c)
		for _, err := range a.Validate() {
			knob, _, _ := strings.Cut(err.Error(), " ")
			v.add(field+"."+knob, "%v", err)
		}
		custom[c.Name] = a
	}
	names := f.Architectures
	if len(names) == 0 && image {
		if len(custom) == 0 {
			p.Architectures = []arch.Arch{{Name: customName(p.Service.Image), Service: p.Service, Balancer: arch.RoundRobin}}
			return
		}
		names = sortedKeys(custom)
	}
	if len(names) == 0 {
		names = []string{"stateless"}
	}
	seen := map[string]bool{}
	for i, n := range names {
		field := fmt.Sprintf("architectures[%d]", i)
		if seen[n] {
			v.add(field, "%q is listed twice", n)
			continue
		}
		seen[n] = true
		if a, ok := custom[n]; ok {
			p.Architectures = append(p.Architectures, a)
			continue
		}
		if _, err := arch.Preset(n); err == nil && image {
			v.add(field, "%q is a preset of the reference API's knobs, which target.image (%s) replaces: name a "+
				"custom_architectures entry that sets only balancer, or leave architectures out", n, f.Target.Image)
			continue
		}
		a, err := arch.Preset(n)
		if err != nil {
			known := append(arch.PresetNames(), sortedKeys(custom)...)
			v.add(field, "unknown architecture %q (known: %s)", n, strings.Join(known, ", "))
			continue
		}
		p.Architectures = append(p.Architectures, a)
	}
}

// validateStack reads replicas, Redis settings and the session TTL.
func validateStack(v *positioner, f file, p *Plan) {
	p.Replicas = DefaultReplicas
	if f.Stack.Replicas != nil {
		p.Replicas = *f.Stack.Replicas
		if p.Replicas < 1 || p.Replicas > 9 {
			v.add("stack.replicas", "%d: want 1 to 9", p.Replicas)
		}
	}
	p.Redis = arch.RedisConfig{Persistence: arch.PersistNone, MaxMemory: f.Stack.Redis.MaxMemory, Eviction: f.Stack.Redis.Eviction}
	switch per := f.Stack.Redis.Persistence; per {
	case "", "none":
	case "everysec", "always":
		p.Redis.Persistence = arch.Persistence(per)
	default:
		v.add("stack.redis.persistence", "%q: want none, everysec or always", per)
	}
	if m := f.Stack.Redis.MaxMemory; m != "" && !regexp.MustCompile(`^(?i)\d+(b|kb|mb|gb)?$`).MatchString(m) {
		v.add("stack.redis.maxmemory", "%q: want a size like 64mb", m)
	}
	// stack.redis.min_replicas_to_write is every architecture's that does not set its own
	// (custom_architectures[i].min_replicas_to_write).
	own := map[string]bool{}
	for _, c := range f.CustomArchitectures {
		own[c.Name] = c.MinReplicasToWrite != nil
	}
	if n := f.Stack.Redis.MinReplicasToWrite; n != 0 {
		var said []string
		for i := range p.Architectures {
			a := &p.Architectures[i]
			if own[a.Name] {
				continue
			}
			a.MinReplicasToWrite = n
			if err := a.CheckMinReplicas(); err != nil {
				_, msg, _ := strings.Cut(err.Error(), " ") // the field names the knob
				if !slices.Contains(said, msg) {           // a bad count once, not once per architecture
					v.add("stack.redis.min_replicas_to_write", "%s", msg)
					said = append(said, msg)
				}
			}
		}
	}
	if e := f.Stack.Redis.Eviction; e != "" && !slices.Contains([]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}, e) {
		v.add("stack.redis.eviction", "%q is not a Redis maxmemory-policy (e.g. allkeys-lru, noeviction)", e)
	}
	if f.Stack.SessionTTL != "" {
		p.SessionTTL = duration(v, "stack.session_ttl", f.Stack.SessionTTL, true)
	}
	if f.Stack.TokenLeeway != "" {
		if p.Service.Custom() {
			v.add("stack.token_leeway", "is the reference API's TOKEN_LEEWAY: a custom image (%s) does not read it", p.Service.Image)
		}
		d := duration(v, "stack.token_leeway", f.Stack.TokenLeeway, false)
		p.TokenLeeway = &d
	}
}

// validateLoad reads clients, phases, the mix and the resource count.
func validateLoad(v *positioner, f file, p *Plan) {
	p.Clients = DefaultClients
	if f.Clients != nil {
		p.Clients = *f.Clients
		if p.Clients < 1 || p.Clients > 10000 {
			v.add("clients", "%d: want 1 to 10000", p.Clients)
		}
	}
	if len(f.Phases) == 0 {
		v.add("phases", "at least one phase is required (e.g. - {duration: 30s, rate: 200/s})")
	}
	phaseNames := map[string]bool{}
	for i, ph := range f.Phases {
		field := fmt.Sprintf("phases[%d]", i)
		out := Phase{Name: ph.Name}
		if out.Name == "" {
			out.Name = fmt.Sprintf("phase-%d", i+1)
		}
		if phaseNames[out.Name] {
			v.add(field+".name", "%q is used twice", out.Name)
		}
		phaseNames[out.Name] = true
		if ph.Duration == "" {
			v.add(field+".duration", "is required (e.g. 30s)")
		} else {
			out.Duration = duration(v, field+".duration", ph.Duration, true)
		}
		switch {
		case ph.Rate != "" && (ph.From != "" || ph.To != ""):
			v.add(field+".rate", "give either rate (constant) or from and to (a ramp), not both")
		case ph.Rate != "":
			out.From = rate(v, field+".rate", ph.Rate)
			out.To = out.From
		case ph.From != "" && ph.To != "":
			out.From = rate(v, field+".from", ph.From)
			out.To = rate(v, field+".to", ph.To)
		default:
			v.add(field, "needs rate (e.g. 200/s) or from and to (a ramp)")
		}
		p.Phases = append(p.Phases, out)
	}
	if len(f.Mix) == 0 && len(f.Ops) > 0 {
		// The built-in ops speak the reference contract, which a scenario of its own API does not.
		for _, name := range sortedKeys(f.Ops) {
			p.DeclaredMix = append(p.DeclaredMix, DeclaredWeight{Op: name, Weight: 1})
		}
	} else if len(f.Mix) == 0 && f.Client != nil {
		v.add("client", "declares a client section but no ops: the mix would be the built-in ops, which run the "+
			"contract's own sign-up and login, not this section; declare ops (and a mix of them)")
	} else if len(f.Mix) == 0 {
		p.Mix = load.DefaultMix()
	} else {
		total := 0
		for _, name := range sortedKeys(f.Mix) {
			w := f.Mix[name]
			if _, declared := f.Ops[name]; declared {
				if w < 0 {
					v.add(`mix."`+name+`"`, "weight %d: want 0 or more", w)
					continue
				}
				total += w
				if w > 0 {
					p.DeclaredMix = append(p.DeclaredMix, DeclaredWeight{Op: name, Weight: w})
				}
				continue
			}
			op, err := load.LookupOp(name) // any registered op, built-in or not
			if err != nil {
				v.add(`mix."`+name+`"`, "%v", err)
				continue
			}
			if w < 0 {
				v.add(`mix."`+name+`"`, "weight %d: want 0 or more", w)
				continue
			}
			if w > 0 && (f.Client != nil || len(f.Ops) > 0) {
				// A declared scenario's clients run its client section, not the contract's sign-up and login:
				// a built-in op would run without the session it needs, against an API that may not speak it.
				v.add(`mix."`+name+`"`, "is a built-in op of the reference contract: a scenario that declares its own "+
					"client or ops weights only its declared ops (set it to 0 or drop it)")
				continue
			}
			total += w
			if w > 0 {
				p.Mix = append(p.Mix, load.Weighted{Op: op, Weight: w})
			}
		}
		if total == 0 && len(v.errs) == 0 {
			v.add("mix", "weights add up to 0: nothing would be sent")
		}
	}
	if f.Resources != nil {
		p.Resources = *f.Resources
		if p.Resources < 1 || p.Resources > 100000 {
			v.add("resources", "%d: want 1 to 100000", p.Resources)
		}
	}
}

// validateRetry reads the retry policy and the per-attempt timeout.
func validateRetry(v *positioner, f file, p *Plan) {
	p.Retry = retryPolicy(v, "retry", f.Retry, load.DefaultRetry())
	for _, name := range sortedKeys(f.Ops) {
		o := f.Ops[name]
		if o.Retry == nil || !slices.ContainsFunc(p.Ops, func(op flow.Op) bool { return op.Name == name }) {
			continue // no retry of its own, or an op refused already
		}
		field := `ops."` + name + `".retry`
		pol := retryPolicy(v, field, *o.Retry, p.Retry)
		if pol.Budget > p.Retry.Budget {
			at := field + ".budget"
			if o.Retry.Budget == "" {
				at = field
			}
			v.addq(at, "%s exceeds the scenario's retry.budget %s (the run waits for its requests by that one): raise retry.budget", pol.Budget, p.Retry.Budget)
		}
		if p.OpRetry == nil {
			p.OpRetry = map[string]load.RetryPolicy{}
		}
		p.OpRetry[name] = pol
	}
	p.Timeout = DefaultTimeout
	if f.Timeout != "" {
		p.Timeout = duration(v, "timeout", f.Timeout, true)
	}
}

// retryPolicy reads the retry section at field over base: each field given replaces base's (on's
// statuses and errors each on their own).
func retryPolicy(v *positioner, field string, r retrySpec, base load.RetryPolicy) load.RetryPolicy {
	p := base
	dur := func(sub, s string) time.Duration {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			v.addq(field+"."+sub, "%q is not a duration (e.g. 50ms, 1s)", s)
		case d <= 0:
			v.addq(field+"."+sub, "%q must be positive", s)
		}
		return d
	}
	if r.Attempts != nil {
		p.Attempts = *r.Attempts
		if p.Attempts < 1 || p.Attempts > 10 {
			v.addq(field+".attempts", "%d: want 1 to 10 (1 means no retry)", p.Attempts)
		}
	}
	if r.Backoff != "" {
		p.Base = dur("backoff", r.Backoff)
	}
	if r.MaxBackoff != "" {
		p.Max = dur("max_backoff", r.MaxBackoff)
	}
	if r.Budget != "" {
		p.Budget = dur("budget", r.Budget)
	}
	if p.Max < p.Base && (r.Backoff != "" || r.MaxBackoff != "") {
		at := field + ".max_backoff"
		if r.MaxBackoff == "" {
			at = field + ".backoff"
		}
		v.addq(at, "max_backoff %s is below backoff %s", p.Max, p.Base)
	}
	if o := r.On; o != nil {
		on := load.RetryOn{}
		if base.On != nil {
			on = *base.On
		}
		if o.Statuses != nil {
			on.Statuses = o.Statuses
			for i, st := range o.Statuses {
				at := fmt.Sprintf("%s.on.statuses[%d]", field, i)
				switch {
				case st < 100 || st > 599:
					v.addq(at, "%d is not an HTTP status (100..599)", st)
				case st < 300:
					v.addq(at, "%d is a success: retrying it would send the call again for nothing", st)
				case slices.Contains(o.Statuses[:i], st):
					v.addq(at, "%d is listed twice", st)
				}
			}
		}
		if o.Errors != nil {
			on.Errors = o.Errors
			for i, e := range o.Errors {
				if !slices.Contains(load.RetryErrors(), e) {
					v.addq(fmt.Sprintf("%s.on.errors[%d]", field, i), "%q: want one of %s (connect: never reached the server, "+
						"always safe; timeout and reset: the server may have applied it)", e, strings.Join(load.RetryErrors(), ", "))
				}
			}
		}
		if on.Statuses == nil && on.Errors == nil {
			v.addq(field+".on", "give statuses: [...] and/or errors: [...] (without on, the reference contract's rule applies)")
		}
		p.On = &on
	}
	return p
}

// validateFaults places faults on the load's timeline and checks each against
// the fault registry: kind, parameters, and a target of a role it can hit.
func validateFaults(v *positioner, f file, p *Plan) {
	total := p.Duration()
	for i, fs := range f.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		fp := FaultPlan{Kind: fs.Kind, Target: fs.Target, Params: chaos.Params{}}
		for k, val := range fs.Params {
			fp.Params[k] = fmt.Sprint(val)
		}
		if fs.At == "" {
			v.add(field+".at", "is required (when the fault starts, e.g. 20s)")
		} else {
			fp.At = duration(v, field+".at", fs.At, false)
			if fp.At < MinFaultAt {
				v.add(field+".at", "%s leaves no baseline: start faults at %s or later, so recovery can be judged against the p99 before them", fp.At, MinFaultAt)
			}
		}
		if fs.For == "" {
			v.add(field+".for", "is required (how long the fault lasts, e.g. 10s)")
		} else {
			fp.For = duration(v, field+".for", fs.For, true)
		}
		if total > 0 && fp.At+fp.For > total {
			v.add(field+".for", "the fault ends at %s, after the load ends at %s", fp.At+fp.For, total)
		}
		if fs.Kind == "" {
			v.add(field+".kind", "is required (one of %s)", strings.Join(chaos.Names(), ", "))
		} else if _, err := chaos.New(fs.Kind, fp.Params); err != nil {
			sub := ".kind"
			if slices.Contains(chaos.Names(), fs.Kind) {
				sub = ".params"
			}
			v.add(field+sub, "%v", err)
		}
		replicas := p.Replicas
		if p.Attach != nil {
			replicas = 0 // the project's: known once attached, where an api-N it lacks fails the fault
		}
		single := singleRedis(p)
		if k, err := chaos.Default.Kind(fs.Kind); err == nil {
			if k.RedisHA && single != "" {
				v.add(field+".kind", "%s needs Redis Sentinels and replicas: %s has one Redis (use stateless-ha)", fs.Kind, single)
			}
			if k.Peers != nil {
				for _, peer := range k.Peers(fp.Params) {
					if err := checkTarget(peer, replicas, single); err != nil {
						v.add(field+".params", "%s: %v", fs.Kind, err)
					} else if role := arch.RoleOf(peer); p.Attach != nil && p.Attach.Project != "" && !p.Attach.Has(role) &&
						role != arch.RoleOf(fs.Target) { // the target's own check says it
						v.add(field+".kind", "%s acts on %s too, and target.compose names no %s service, so chaosbench cannot find it",
							fs.Kind, peer, role)
					}
				}
			}
		}
		if err := checkTarget(fs.Target, replicas, single); err != nil {
			v.add(field+".target", "%v", err)
		} else if p.Attach != nil && p.Attach.Project == "" {
			v.add(field+".target", "faults need target.compose (the project and its services) to find %s", fs.Target)
		} else if p.Attach != nil && !p.Attach.Has(arch.RoleOf(fs.Target)) {
			v.add(field+".target", "%s: target.compose names no %s service, so chaosbench cannot find it", fs.Target, arch.RoleOf(fs.Target))
		} else if k, err := chaos.Default.Kind(fs.Kind); err == nil && k.Routes && p.Attach != nil {
			v.add(field+".kind", "%s sends a node's traffic through a proxy, which needs chaosbench's own NGINX: "+
				"an attached project's balancer is its own", fs.Kind)
		} else if err == nil && k.RefapiOnly && (p.Attach != nil || p.Service.Custom()) {
			v.add(field+".kind", "%s acts through the reference API's admin endpoint, which %s does not have", fs.Kind, serviceText(p))
		} else if slices.Contains(chaos.Names(), fs.Kind) {
			// Each fault declares the roles it can hit: a fault on a target it cannot break would
			// otherwise be skipped at run time, and its scenario pass without it.
			if err := chaos.CheckTarget(fs.Kind, fs.Target); err != nil {
				v.add(field+".target", "%v", err)
			}
		}
		p.Faults = append(p.Faults, fp)
	}
}

// serviceText names the service of a plan that is not the reference API, for an error message.
func serviceText(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	return "a custom image (" + p.Service.Image + ")"
}

// validateThresholds parses every threshold, per architecture or for all.
func validateThresholds(v *positioner, f file, p *Plan) {
	for _, key := range sortedKeys(f.Thresholds) {
		arch := key
		if key == "all" {
			arch = ""
		} else if _, ok := p.Arch(key); !ok {
			v.add("thresholds."+key, "%q is not an architecture of this scenario (use all, or one of the architectures)", key)
			continue
		}
		for i, text := range f.Thresholds[key] {
			e, err := threshold.Parse(text)
			if err != nil {
				v.add(fmt.Sprintf("thresholds.%s[%d]", key, i), "%v", err)
				continue
			}
			if err := thresholdFits(e, p.Faults); err != nil {
				v.add(fmt.Sprintf("thresholds.%s[%d]", key, i), "%v", err)
				continue
			}
			p.Thresholds = append(p.Thresholds, ThresholdPlan{Arch: arch, Expr: e, Text: text})
		}
	}
}

// thresholdFits says why threshold e could never be measured on a scenario with these faults (nil when it
// can): recovery.seconds with no fault to recover from, or a fault's window (faults[1].errors.rate,
// faults[kill].latency.p99) that names no fault of the scenario or, by kind, several of them
// (threshold.FaultRef.Resolve, the rule the evaluation applies too).
func thresholdFits(e threshold.Expr, faults []FaultPlan) error {
	if e.Fault != nil {
		kinds := make([]string, len(faults))
		for i, f := range faults {
			kinds[i] = f.Kind
		}
		if _, err := e.Fault.Resolve(kinds); err != nil {
			return err
		}
	}
	if e.Metric.Name == "recovery.seconds" && len(faults) == 0 {
		return errors.New("recovery.seconds needs a fault to recover from: the scenario has none, so it would never be measured")
	}
	return nil
}

// checkTarget checks a fault's target against a stack of replicas API nodes; replicas 0 means not known
// yet (an attached project), where any api-N is taken. The Redis replicas and Sentinels of a Redis HA
// stack (redis-2, redis-3, sentinel-1..3) are targets only when every architecture has them: single
// names the one that does not ("" when all do).
func checkTarget(t string, replicas int, single string) error {
	known := fmt.Sprintf("any-api, api-1..api-%d, redis or nginx; with Redis HA also redis-2..redis-%d and sentinel-1..sentinel-%d",
		replicas, arch.RedisReplicas+1, arch.Sentinels)
	switch {
	case t == "":
		return fmt.Errorf("is required (%s)", known)
	case t == chaos.AnyAPI || t == "redis" || t == "nginx":
		return nil
	case strings.HasPrefix(t, "api-"):
		n, err := strconv.Atoi(strings.TrimPrefix(t, "api-"))
		if err == nil && n >= 1 && (n <= replicas || replicas == 0) {
			return nil
		}
	case haName(t):
		if single != "" {
			return fmt.Errorf("%s is %s of a Redis HA stack: %s has one Redis and no Sentinels (use stateless-ha)",
				t, map[arch.Role]string{arch.RoleReplica: "a Redis replica", arch.RoleSentinel: "a Sentinel"}[arch.RoleOf(t)], single)
		}
		return nil
	}
	return fmt.Errorf("unknown target %q (%s)", t, known)
}

// haName reports whether t names one of a Redis HA stack's replicas or Sentinels.
func haName(t string) bool {
	for i := range arch.RedisReplicas {
		if t == arch.RedisReplicaName(i+1) {
			return true
		}
	}
	for i := range arch.Sentinels {
		if t == arch.SentinelName(i+1) {
			return true
		}
	}
	return false
}

// singleRedis names an architecture of p that runs one Redis, without Sentinels ("" when every one has
// them): an attached project is one, since chaosbench knows no Sentinels of it.
func singleRedis(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	for _, a := range p.Architectures {
		if !a.RedisHA {
			return "architecture " + a.Name
		}
	}
	return ""
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

// applyEdge sets the edge knobs a custom architecture names; the others keep their base's values.
func applyEdge(e *arch.Edge, c customArch) {
	if c.TLS != nil || c.ClientKeepAlive != nil || c.UpstreamKeepAlive != nil {
		e.Measure = true
	}
	if c.TLS != nil {
		e.TLS = *c.TLS
	}
	if c.ClientKeepAlive != nil {
		e.NoClientKeepAlive = !*c.ClientKeepAlive
	}
	if c.UpstreamKeepAlive != nil {
		e.NoUpstreamKeepAlive = !*c.UpstreamKeepAlive
	}
}
