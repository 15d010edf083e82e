package load

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ops maps op names to ops: each built-in op registers itself from its own
// file (op_*.go), and an op written elsewhere registers the same way, so
// that a scenario's mix can name it.
var ops = struct {
	mu sync.RWMutex
	m  map[string]Op
}{m: map[string]Op{}}

// RegisterOp adds op under op.Name(), the name records, histograms and a
// scenario's mix use. Call it from an init function. An empty or duplicate
// name is a programming error: it panics instead of replacing the first op.
// An op is shared by every request that picks it (Do runs concurrently), so
// it holds configuration, not state.
func RegisterOp(op Op) {
	name := op.Name()
	ops.mu.Lock()
	defer ops.mu.Unlock()
	if name == "" {
		panic(fmt.Sprintf("load: op %T registered without a name", op))
	}
	if _, dup := ops.m[name]; dup {
		panic(fmt.Sprintf("load: op %q registered twice", name))
	}
	ops.m[name] = op
}

// LookupOp returns the op registered as name; an unknown name is an error
// that lists the known ones.
func LookupOp(name string) (Op, error) {
	ops.mu.RLock()
	op, ok := ops.m[name]
	ops.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown operation %q (known: %s)", name, strings.Join(OpNames(), ", "))
	}
	return op, nil
}

// OpNames lists the registered ops, sorted.
func OpNames() []string {
	ops.mu.RLock()
	defer ops.mu.RUnlock()
	names := make([]string, 0, len(ops.m))
	for n := range ops.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// defaultMix is DefaultMix by op name. Its order is part of a seeded run:
// the scheduler picks an op by its place in the mix.
var defaultMix = []struct {
	name   string
	weight int
}{
	{"profile.read", 50},
	{"cart.write", 20},
	{"order.create", 20},
	{"resource.update", 10},
}

// DefaultMix is read-heavy with every write kind present (50/20/20/10),
// built from the registered ops.
func DefaultMix() Mix {
	m := make(Mix, len(defaultMix))
	for i, d := range defaultMix {
		op, err := LookupOp(d.name)
		if err != nil {
			panic(fmt.Sprintf("load: default mix: %v", err)) // a built-in op's file is missing
		}
		m[i] = Weighted{Op: op, Weight: d.weight}
	}
	return m
}
