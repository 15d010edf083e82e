package main

import (
	"encoding/json"
	"fmt"
	"time"

	flowrun "github.com/chaosbench/chaosbench/flowrun"
	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/spf13/cobra"
)

func init() { register(newTryCmd) }

func newTryCmd() *cobra.Command {
	var target, format string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "try FILE",
		Short: "Send a scenario's declared requests (and its invariants' reads) once and show each request, status, captures and expectations",
		Long: `Run one virtual client (client.id 1, a fresh run.id) through the scenario's client setup once,
then through each declared op once, in name order, against target.url or --target (which must be on
this machine), and print every request: the step, method, URL, status, time taken, each capture as
name=value and whether its expectation held. A capture that matches nothing names the step and the
path and shows the start of the body. restart_on is honoured (at most 3 restarts). Then each invariant's
read is sent once, as this client: a set's first page (how many elements, and what comes next) and
each counter the ops incremented (its value), printed as read name=value. No load, no faults: this is
how to get a scenario's requests and invariants right before running it (docs/scenarios.md, "Your own
API").

Exit 0 when every expectation held and every capture matched, 3 when one did not, 2 for bad input,
1 when the target cannot be reached.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return badInput("--format %q: want text or json", format)
			}
			plan, err := scenarios.Load(args[0])
			if err != nil {
				return usageError{err}
			}
			if !plan.Declared() {
				return badInput("%s declares no requests of its own (client, ops): try runs those (docs/scenarios.md, \"Your own API\")", args[0])
			}
			if target == "" && plan.Attach != nil {
				target = plan.Attach.URL
			}
			if target == "" {
				return badInput("%s has no target.url: give --target http://127.0.0.1:PORT", args[0])
			}
			if err := local.CheckURL(cmd.Context(), target); err != nil {
				return badInput("target: %v", err)
			}
			if !cmd.Flags().Changed("seed") {
				seed = uint64(time.Now().UnixNano())
			}
			timeout := plan.Timeout
			if timeout < 5*time.Second {
				timeout = 5 * time.Second // one request at a time: give a slow first request room
			}
			rep, err := flowrun.Try(cmd.Context(), plan, flowrun.Options{Target: target, Seed: seed, Timeout: timeout})
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if werr := enc.Encode(rep); werr != nil {
					return werr
				}
			} else if werr := flowrun.WriteText(cmd.OutOrStdout(), rep); werr != nil {
				return werr
			}
			switch {
			case err != nil:
				return err
			case rep.Unreachable():
				return fmt.Errorf("%s could not be reached", target)
			case rep.Failed():
				return failedError{fmt.Errorf("%s: an expectation failed or a capture matched nothing", args[0])}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "base URL of the API (default: the scenario's target.url); must be on this machine")
	f.StringVar(&format, "format", "text", "text or json")
	f.Uint64Var(&seed, "seed", 0, "seed of the templates' randomness (default: from the clock)")
	return cmd
}
