package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/spf13/cobra"
)

func init() { register(newListCmd) }

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios, architectures, faults and threshold metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := scenarios.Catalogue()
			if err != nil {
				return fmt.Errorf("built-in catalogue: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "SCENARIO\tARCHITECTURES\tLOAD\tFAULTS\tDESCRIPTION")
			for _, e := range entries {
				var archs, faults []string
				for _, a := range e.Plan.Architectures {
					archs = append(archs, a.Name)
				}
				for _, f := range e.Plan.Faults {
					faults = append(faults, f.Kind)
				}
				if len(faults) == 0 {
					faults = []string{"-"}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Name, strings.Join(archs, ","), e.Plan.Duration(),
					strings.Join(faults, ","), firstSentence(e.Description))
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "ARCHITECTURE\tAUTH\tSESSIONS\tIDEMPOTENCY\tCONCURRENCY\tBALANCER\tSTORE")
			for _, n := range arch.PresetNames() {
				a, _ := arch.Preset(n)
				store := a.Store
				if store == "" {
					store = arch.StoreRedis
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", a.Name, a.Auth, a.Sessions, a.Idempotency, a.Concurrency, a.Balancer, store)
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "FAULT\tTARGETS\tNEEDS")
			for _, n := range chaos.Names() {
				k, _ := chaos.Default.Kind(n)
				fmt.Fprintf(w, "%s\t%s\t%s\n", n, chaos.TargetsText(k.Roles), faultNeeds(k))
			}
			fmt.Fprintln(w)
			var metrics []string
			for _, m := range results.Metrics() {
				metrics = append(metrics, m.Name)
			}
			fmt.Fprintf(w, "THRESHOLD METRICS\t%s\n", strings.Join(metrics, ", "))
			fmt.Fprintf(w, "ONE FAULT'S WINDOW\tfaults[INDEX].METRIC (0-based) or faults[KIND].METRIC (the one fault of that kind), METRIC one of %s\n",
				strings.Join(results.FaultMetricNames(), ", "))
			return w.Flush()
		},
	}
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// faultNeeds says what a fault needs of the stack beyond its targets, as validation refuses it without
// (the flags a fault declares when it registers); "-" for nothing.
func faultNeeds(k chaos.Kind) string {
	var needs []string
	if k.RedisHA {
		needs = append(needs, "Redis Sentinels (stateless-ha)")
	}
	if k.PostgresStandby {
		needs = append(needs, "a PostgreSQL standby (postgres_standby: async or sync)")
	} else if k.Postgres {
		needs = append(needs, "PostgreSQL (store: postgres, stateless-postgres)")
	}
	if k.RefapiOnly {
		needs = append(needs, "the reference API (not a user's image or an attached project)")
	}
	if k.Routes {
		needs = append(needs, "chaosbench's own NGINX (not an attached project)")
	}
	if k.Peers != nil {
		// The containers it acts on whatever its parameters, besides its target: an attached project
		// must name their services (it always names its API).
		for _, peer := range k.Peers(nil) {
			if r := arch.RoleOf(peer); r != arch.RoleAPI {
				needs = append(needs, fmt.Sprintf("%s (attached: a %s service in target.compose)", peer, r))
			}
		}
	}
	if len(needs) == 0 {
		return "-"
	}
	return strings.Join(needs, "; ")
}
