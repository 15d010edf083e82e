// Package stacktest holds what the Docker tests of several packages do with the stacks they start: start
// one for a test and remove it after, check that nothing labelled is left when a run ends, and sweep what a
// failed test left behind. Both go
// by run-id prefix, so that a test never touches another test's (or a user's) run.
package stacktest

import (
	"context"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/target/stack"
)

// Up starts a stack for t (skipping, or failing in CI, without Docker: dockertest.Require) and removes it
// when t ends, also when Up failed half-way.
func Up(t testing.TB, ctx context.Context, opts ...stack.Option) *stack.Stack {
	t.Helper()
	dockertest.Require(t)
	s, err := stack.Up(ctx, opts...)
	if s != nil {
		t.Cleanup(func() { _ = s.Down(context.Background()) })
	}
	if err != nil {
		t.Fatalf("stack up: %v", err)
	}
	return s
}

// RequireNoRuns fails t when a labelled container or network of a run whose id starts with prefix is left.
func RequireNoRuns(t testing.TB, prefix string) {
	t.Helper()
	cli, err := stack.NewDocker(context.Background())
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	defer cli.Close()
	runs, err := stack.List(context.Background(), cli)
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	for _, r := range runs {
		if strings.HasPrefix(r.RunID, prefix) {
			t.Fatalf("left behind: run %s: %+v", r.RunID, r)
		}
	}
}

// Sweep removes the runs whose id starts with prefix, and nothing of anyone else's: a test's cleanup, for
// when it failed before its run removed its own.
func Sweep(t testing.TB, prefix string) {
	cli, err := stack.NewDocker(context.Background())
	if err != nil {
		return
	}
	defer cli.Close()
	runs, _ := stack.List(context.Background(), cli)
	for _, r := range runs {
		if strings.HasPrefix(r.RunID, prefix) {
			_ = stack.Sweep(context.Background(), cli, r.RunID)
		}
	}
}
