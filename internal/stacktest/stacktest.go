// Package stacktest holds what the Docker tests of several packages check about the stacks they started:
// that nothing labelled is left when a run ends, and a sweep for what a failed test left behind. Both go
// by run-id prefix, so that a test never touches another test's (or a user's) run.
package stacktest

import (
	"context"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/target/stack"
)

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
