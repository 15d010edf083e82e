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

// stopSignals end a command early and cleanly: Ctrl-C, a termination request, and the terminal going
// away (SIGHUP: the window closed, an SSH session dropped, a CI runner's shell ended). Without SIGHUP
// here, closing the terminal killed chaosbench at once and left the stack running.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := handleSignals(cancel, os.Stderr)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// handleSignals cancels the commands' context on the first stop signal, so that they revert faults,
// write what they measured and remove what they started. Later signals do not cut that cleanup short
// (a half-removed stack is the worst outcome): they are acknowledged and ignored; cleanup is bounded
// by its own timeouts. SIGPIPE is caught too, so that writing to a terminal or pipe that has gone away
// returns an error instead of killing the process mid-cleanup.
// The context's cause names the signal, so that what was cut short can say why ("interrupted (signal
// hangup)").
func handleSignals(cancel context.CancelCauseFunc, log *os.File) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, append(stopSignals, syscall.SIGPIPE)...)
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case sig := <-ch:
				if sig == syscall.SIGPIPE {
					continue
				}
				if first {
					first = false
					fmt.Fprintf(log, "\nchaosbench: %v: stopping; reverting faults, writing what was measured, removing the stack\n", sig)
					cancel(fmt.Errorf("signal %v", sig))
					continue
				}
				fmt.Fprintf(log, "chaosbench: %v: still cleaning up, please wait (it is bounded and stops by itself)\n", sig)
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done); cancel(nil) }
}

func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "chaosbench:", err)
	return exitCode(err)
}

// exitCode maps a command's error to the process's exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
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
