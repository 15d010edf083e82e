package main

import (
	"fmt"
	"os"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/spf13/cobra"
)

func init() { register(newValidateCmd) }

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|NAME|SUITE...",
		Short: "Check scenario and suite files without running anything",
		Long: `Check scenario files (or built-in names) against the schema in docs/scenarios.md: unknown
fields, bad durations and rates, unknown faults, targets, architectures and threshold metrics,
thresholds on one fault (faults[1].errors.rate, faults[kill].latency.p99) that name no fault of
the scenario or, by kind, several; and suite files (docs/suites.md) with every scenario they name. Every problem is reported with
file:line:column and the field. Exit 2 if any file is invalid.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bad []error
			for _, a := range args {
				if raw, err := os.ReadFile(a); err == nil && scenarios.IsSuite(raw) {
					s, err := scenarios.ParseSuite(a, raw)
					if err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
						bad = append(bad, err)
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (suite %s: %d scenario(s))\n", a, s.Name, len(s.Entries))
					continue
				}
				plan, err := scenarios.Load(a)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad = append(bad, err)
					continue
				}
				declared := ""
				if plan.Declared() {
					declared = fmt.Sprintf(", %d declared op(s)", len(plan.Ops))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (%s: %d architecture(s), %d phase(s), %s of load, %d fault(s), %d threshold(s)%s)\n",
					a, plan.Name, len(plan.Architectures), len(plan.Phases), plan.Duration(), len(plan.Faults), len(plan.Thresholds), declared)
			}
			if len(bad) > 0 {
				return usageError{fmt.Errorf("%d of %d scenario(s) invalid", len(bad), len(args))}
			}
			return nil
		},
	}
}
