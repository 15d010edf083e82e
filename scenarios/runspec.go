package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/target/arch"
)

// Ask is what a command asks of one run of a scenario beyond the scenario itself: `run`'s flags, a suite
// entry's, a worker's. The zero Ask is the scenario as written, sent from this process.
type Ask struct {
	Archs   []string // run only these architectures, in this order (default all)
	Scale   float64  // multiplies every duration and fault time (0 means 1)
	Seed    *int64   // overrides the scenario's seed
	Workers int      // loader containers that send the load (0: this process)
}

// RunSpec is one run as it will run: the plan scaled, the architectures chosen, the seed decided and who
// sends the load. Plan.Spec makes it, and is the one validation of an Ask: `run`, `worker` and every
// suite entry go through it, so each rule (the scale's bounds, an architecture's name, what workers can
// carry) is written once and refused in the same words.
type RunSpec struct {
	Plan    Plan        // scaled by Scale
	Archs   []arch.Arch // to run, in order
	Scale   float64
	Seed    int64 // the scenario's, the Ask's, or one picked at random and recorded in the summary
	Workers int
}

// MaxWorkers bounds Ask.Workers: each worker is a container with its own connection pool, and this
// machine's cores, not the worker count, bound the load one host can send.
const MaxWorkers = 32

// Spec checks ask against p and resolves it. Its errors name the field they are about first ("scale 11:
// want a factor in (0, 10]", "arch: ...", "workers 3: ..."), so a command prefixes its flag's dashes.
func (p Plan) Spec(ask Ask) (RunSpec, error) {
	scale := cmp.Or(ask.Scale, 1)
	if err := CheckScale(scale); err != nil {
		return RunSpec{}, fmt.Errorf("scale %w", err)
	}
	archs, err := p.Archs(ask.Archs...)
	if err != nil {
		return RunSpec{}, fmt.Errorf("arch: %w", err)
	}
	if ask.Workers < 0 || ask.Workers > MaxWorkers {
		return RunSpec{}, fmt.Errorf("workers %d: want 0 (the load from this process) to %d loader containers", ask.Workers, MaxWorkers)
	}
	if ask.Workers > 0 {
		for _, a := range archs {
			if err := p.workersCarry(a, ask.Workers); err != nil {
				return RunSpec{}, fmt.Errorf("workers %d: scenario %s: %w", ask.Workers, p.Name, err)
			}
		}
	}
	seed := p.Seed
	if ask.Seed != nil {
		seed = *ask.Seed
	} else if !p.SeedSet {
		seed = rand.Int64N(1 << 40)
	}
	return RunSpec{Plan: p.Scaled(scale), Archs: archs, Scale: scale, Seed: seed, Workers: ask.Workers}, nil
}

// workersCarry says why n loader containers cannot carry architecture a's load (nil when they can).
func (p Plan) workersCarry(a arch.Arch, n int) error {
	switch {
	case p.Attach != nil:
		return errors.New("an attached project's URL is on this host, not on a network the loader containers can join")
	case a.Edge.TLS:
		return fmt.Errorf("architecture %s: the run's TLS certificate names 127.0.0.1 only, not NGINX's address on the run's network", a.Name)
	case !a.Edge.Default():
		// Its load-side measurements (TIME_WAIT towards the entry) read this host's sockets: the workers'
		// are in their containers, and would read as 0, a threshold on them passing unmeasured.
		return fmt.Errorf("architecture %s names an edge knob, whose load-side measurements read this host's sockets, not the workers'", a.Name)
	case p.Source == "":
		return errors.New("the plan has no scenario file or name to give the workers")
	}
	return p.CheckWorkers(n)
}

// LoadConfig is the load of the spec's phases against base for architecture a, as one engine sends all of
// it and each worker its segment of it (chaosbench worker): one definition, so that both plan the same
// schedule. RunDir, Segment, StartAt and TLS are the caller's.
func (s RunSpec) LoadConfig(a arch.Arch, base string) load.Config {
	p := s.Plan
	return load.Config{
		BaseURL: base, Phases: p.LoadPhases(), Clients: p.Clients, Mix: p.EngineMix(), Client: p.EngineClient(),
		Resources: p.Resources,
		Retry:     p.Retry, Timeout: p.Timeout, Seed: EngineSeed(s.Seed), NoKeepAlive: a.Edge.NoClientKeepAlive,
		HTTP2: a.Edge.HTTP2,
	}
}

// EngineSeed turns a scenario's seed into the load engine's, where 0 means "pick one at random": a
// splitmix64 step, so that every scenario seed, 0 included, is a real one and a run can be replayed from
// the seed its summary records. A worker derives its segment's from it (load.Segment.Seed).
func EngineSeed(seed int64) uint64 {
	z := uint64(seed) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) | 1
}
