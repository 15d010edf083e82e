// Command chaosbench drives load and faults against the reference stack and checks what happened. Each
// subcommand lives in its own file and stays a thin layer over the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, for scripts and CI.
const (
	exitOK       = 0
	exitError    = 1 // the run or an operation failed
	exitBadInput = 2 // bad flags, arguments or configuration
	exitFailed   = 3 // the run finished but failed its thresholds or was invalid; compare found a regression
)

// failedError marks a finished run that did not pass (exit 3): the
// difference CI needs between "the system is worse" and "the tool broke".
type failedError struct{ err error }

func (e failedError) Error() string { return e.err.Error() }
func (e failedError) Unwrap() error { return e.err }

// subcommands are added by each command's file (init), so that every
// subcommand lives in its own file and none edits the root.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// usageError marks an error as the user's input being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "chaosbench",
		Short:         "Load testing and chaos verification for HTTP APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// cobra's own flag errors are bad input too.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newStackCmd())
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

func main() {
	// The first Ctrl-C cancels the context so that commands clean up; a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "chaosbench:", err)
	var ue usageError
	var fe failedError
	switch {
	case errors.As(err, &ue) || isCobraUsage(err):
		return exitBadInput
	case errors.As(err, &fe):
		return exitFailed
	}
	return exitError
}

// isCobraUsage recognises cobra's unknown-command and argument-count errors, which it does not type.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
