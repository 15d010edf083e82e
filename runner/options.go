package runner

import (
	"io"

	"github.com/chaosbench/chaosbench/target/stack"
)

// RunConfig says how to run a scenarios.RunSpec: where its output goes and what it tells a person.
// What runs (architectures, scale, seed, workers) is the spec's. Build it with Options.
type RunConfig struct {
	OutDir   string // the run folder (default runs/<timestamp>-<name>)
	Log      io.Writer
	Progress bool // a live progress line (a terminal)
	// StackOptions are appended to the ones the plan implies (images, timeouts).
	StackOptions []stack.Option
	// CrossCheck also reads the reference API's ground truth through its HTTP contract (the black-box
	// checker a user's image gets) and records those findings beside Redis's (Arch.BlackBox).
	CrossCheck bool
	// Observer is told about the run as it goes (WithObserver); nil: nobody watches.
	Observer Observer
}

// Option configures a run.
type Option func(*RunConfig) error

// WithOutDir sets the run folder.
func WithOutDir(dir string) Option { return func(c *RunConfig) error { c.OutDir = dir; return nil } }

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
