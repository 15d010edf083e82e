package runner

import (
	"fmt"
	"io"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/stack"
)

// RunConfig says how to run a plan. Build it with Options.
type RunConfig struct {
	Archs    []string // run only these architectures of the plan (default all)
	Scale    float64  // multiplies every duration and fault time (default 1)
	OutDir   string   // the run folder (default runs/<timestamp>-<name>)
	Seed     *int64   // overrides the scenario's seed
	Log      io.Writer
	Progress bool // a live progress line (a terminal)
	// StackOptions are appended to the ones the plan implies (images, timeouts).
	StackOptions []stack.Option
	// CrossCheck also reads the reference API's ground truth through its HTTP contract (the black-box
	// checker a user's image gets) and records those findings beside Redis's (Arch.BlackBox).
	CrossCheck bool
	// Workers, when > 0, sends the load from that many loader containers (WithWorkers, workers.go).
	Workers int
}

// Option configures a run.
type Option func(*RunConfig) error

// WithArchs restricts the run to some of the plan's architectures.
func WithArchs(names ...string) Option {
	return func(c *RunConfig) error { c.Archs = names; return nil }
}

// WithScale multiplies every duration and fault time by f (0 < f ≤ 10).
func WithScale(f float64) Option {
	return func(c *RunConfig) error {
		if err := scenarios.CheckScale(f); err != nil {
			return fmt.Errorf("scale %w", err)
		}
		c.Scale = f
		return nil
	}
}

// WithOutDir sets the run folder.
func WithOutDir(dir string) Option { return func(c *RunConfig) error { c.OutDir = dir; return nil } }

// WithSeed overrides the scenario's seed.
func WithSeed(seed int64) Option { return func(c *RunConfig) error { c.Seed = &seed; return nil } }

// WithLog sends progress lines to w.
func WithLog(w io.Writer, live bool) Option {
	return func(c *RunConfig) error { c.Log, c.Progress = w, live; return nil }
}

// WithStackOptions passes options to every stack of the run.
func WithStackOptions(opts ...stack.Option) Option {
	return func(c *RunConfig) error { c.StackOptions = append(c.StackOptions, opts...); return nil }
}

// WithCrossCheck runs the black-box checker beside the Redis one on the reference API.
func WithCrossCheck() Option { return func(c *RunConfig) error { c.CrossCheck = true; return nil } }
