package chaos

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Factory builds a fault from its parameters, refusing bad ones.
type Factory func(Params) (Fault, error)

// Registry maps fault names to factories.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Factory
}

// Register adds a fault. A duplicate name is a programming error: it panics, loudly, instead of silently
// replacing the first fault.
func (r *Registry) Register(name string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Factory{}
	}
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("chaos: fault %q registered twice", name))
	}
	r.m[name] = f
}

// New builds the named fault.
func (r *Registry) New(name string, p Params) (Fault, error) {
	r.mu.RLock()
	f, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	ft, err := f(p)
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
func Register(name string, f Factory) { Default.Register(name, f) }

// New builds a fault from Default.
func New(name string, p Params) (Fault, error) { return Default.New(name, p) }

// Names lists Default's faults.
func Names() []string { return Default.Names() }
