package main

// stub until ciout merges

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/chaosbench/chaosbench/results"
)

// ciOutputs is the CI outputs of a run (--junit FILE, --bench-json FILE, GITHUB_STEP_SUMMARY); the real
// one is cmd/chaosbench/ciout.go on the ciout branch. This stub registers nothing and writes nothing.
type ciOutputs struct{}

func (c *ciOutputs) register(f *pflag.FlagSet) {}

func (c *ciOutputs) write(runs []results.Summary, markdown func(w io.Writer, compact bool) error) error {
	return nil
}
