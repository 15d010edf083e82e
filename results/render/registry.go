package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Named is what a Registry holds: a report format, known by the name --format takes.
type Named interface{ Format() string }

// Registry is one kind of report format (a run's reports, a suite's, a comparison's), each registered once
// with an explicit rank: All and Names list them by rank, never by the order Go ran the init functions of
// the files that registered them (which follows the files' names). The CLI's --format help and errors read
// Names, so a format added in a file of its own is listed with no other edit.
type Registry[T Named] struct {
	what string // "report", "suite report", "compare": for errors
	mu   sync.RWMutex
	all  []ranked[T]
}

type ranked[T Named] struct {
	rank int
	v    T
}

// NewRegistry returns an empty registry; what names its kind in errors ("unknown report format").
func NewRegistry[T Named](what string) *Registry[T] { return &Registry[T]{what: what} }

// Register adds v at rank (lower first). A name or a rank used twice is a programming error: it panics.
func (r *Registry[T]) Register(rank int, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, have := range r.all {
		if have.v.Format() == v.Format() {
			panic(fmt.Sprintf("render: %s format %q registered twice", r.what, v.Format()))
		}
		if have.rank == rank {
			panic(fmt.Sprintf("render: %s formats %q and %q both at rank %d", r.what, have.v.Format(), v.Format(), rank))
		}
	}
	r.all = append(r.all, ranked[T]{rank, v})
	slices.SortStableFunc(r.all, func(a, b ranked[T]) int { return cmp.Compare(a.rank, b.rank) })
}

// All lists every format by rank.
func (r *Registry[T]) All() []T {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]T, len(r.all))
	for i, e := range r.all {
		out[i] = e.v
	}
	return out
}

// Names lists every format's name by rank: what --format takes.
func (r *Registry[T]) Names() []string {
	var names []string
	for _, v := range r.All() {
		names = append(names, v.Format())
	}
	return names
}

// Lookup returns the format called name, or an error listing the ones there are.
func (r *Registry[T]) Lookup(name string) (T, error) {
	for _, v := range r.All() {
		if v.Format() == name {
			return v, nil
		}
	}
	var none T
	return none, fmt.Errorf("unknown %s format %q (want one of %s)", r.what, name, strings.Join(r.Names(), ", "))
}
