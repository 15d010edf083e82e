package chaos

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Factory builds a fault from its parameters, refusing bad ones.
type Factory func(Params) (Fault, error)

// Kind is what a fault declares when it registers: its name, the roles of container it can hit, and
// the factory that builds it from its parameters. The roles are declared, not discovered at run time, so
// that `chaosbench validate` refuses a fault on a target it cannot break before anything runs.
type Kind struct {
	Name  string
	Roles []arch.Role
	New   Factory
	// Routes marks a fault that sends a node's traffic through a proxy of its own (Router): it needs
	// chaosbench's balancer, so an attached project, whose balancer is its own, cannot take it.
	Routes bool
	// RefapiOnly marks a fault that acts through the reference API's own hooks (Admin): a user's image
	// (target.image) or an attached service does not have them.
	RefapiOnly bool
	// RedisHA marks a fault that needs Redis Sentinels (the RedisHA port: a primary that can change, and
	// replicas to take over): an architecture with one Redis cannot take it.
	RedisHA bool
	// Postgres marks a fault that needs the architecture's PostgreSQL (store: postgres): an architecture
	// that keeps everything in Redis cannot take it.
	Postgres bool
	// PostgresStandby marks a fault that needs a PostgreSQL standby (postgres_standby: async or sync) to
	// promote: an architecture with one server cannot take it.
	PostgresStandby bool
	// Cache marks a fault that needs the reference API's resource cache (store: postgres with cache_ttl):
	// an architecture without it has no invalidation to lose.
	Cache bool
	// Peers lists the other containers the fault acts on, besides its target, as a scenario names them
	// (redis-split-brain's params.with: api-1): validation checks that the stack has each. Nil: none.
	Peers func(Params) []string
}

// Registry maps fault names to their kinds.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Kind
}

// Register adds a fault. A duplicate name, or a kind that declares no role, is a programming error: it
// panics, loudly, instead of silently replacing the first fault or accepting every target.
func (r *Registry) Register(k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Kind{}
	}
	if _, dup := r.m[k.Name]; dup {
		panic(fmt.Sprintf("chaos: fault %q registered twice", k.Name))
	}
	if len(k.Roles) == 0 || k.New == nil {
		panic(fmt.Sprintf("chaos: fault %q declares no role or no factory", k.Name))
	}
	r.m[k.Name] = k
}

// Kind returns the registered kind called name.
func (r *Registry) Kind(name string) (Kind, error) {
	r.mu.RLock()
	k, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		return Kind{}, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	return k, nil
}

// New builds the named fault.
func (r *Registry) New(name string, p Params) (Fault, error) {
	k, err := r.Kind(name)
	if err != nil {
		return nil, err
	}
	ft, err := k.New(p)
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", name, err)
	}
	return ft, nil
}

// Names lists the registered faults, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Default holds every fault of this package; each registers itself from its own file.
var Default = &Registry{}

// Register adds a fault to Default.
func Register(k Kind) { Default.Register(k) }

// CheckTarget says whether the named fault can hit a target spec (any-api, api-2, redis, nginx, redis-2,
// sentinel-1), from
// the roles it declared: the check validation runs on every fault of a scenario.
func CheckTarget(fault, spec string) error {
	k, err := Default.Kind(fault)
	if err != nil {
		return err
	}
	return k.check(spec, RoleOf(spec))
}

func (k Kind) check(name string, role arch.Role) error {
	if slices.Contains(k.Roles, role) {
		return nil
	}
	what := map[arch.Role]string{arch.RoleAPI: "an API node", arch.RoleRedis: "Redis", arch.RoleNginx: "NGINX",
		arch.RoleReplica: "a Redis replica", arch.RoleSentinel: "a Redis Sentinel", arch.RolePostgres: "PostgreSQL",
		arch.RolePostgresStandby: "the PostgreSQL standby"}[role]
	if what == "" {
		what = "no container of the stack"
	}
	return fmt.Errorf("%s cannot target %s (%s): it targets %s", k.Name, name, what, TargetsText(k.Roles))
}

// TargetsText says which targets roles allow, as a scenario writes them.
func TargetsText(roles []arch.Role) string {
	texts := make([]string, len(roles))
	for i, r := range roles {
		texts[i] = targets(r)
	}
	return strings.Join(texts, " or ")
}

// New builds a fault from Default.
func New(name string, p Params) (Fault, error) { return Default.New(name, p) }

// Names lists Default's faults.
func Names() []string { return Default.Names() }
