package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/conform"
	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/spf13/cobra"
)

func init() { register(newConformCmd) }

func newConformCmd() *cobra.Command {
	var format, secret string
	var rules []string
	cmd := &cobra.Command{
		Use:   "conform URL",
		Short: "Check a running service against chaosbench's HTTP contract (docs/contract.md)",
		Long: `conform runs the contract's conformance rules against a running service: signup and login, JWT
attacks (when its tokens are JWTs), idempotency keys (replay, 422, 400, 20 concurrent sends of one key),
ETag and If-Match (428, 412), error bodies, 413 and 431. Each rule is passed, failed or skipped (when the
suite cannot exercise it: JWT rules on opaque tokens, forged-token rules without --jwt-secret, the state
store outage on a plain URL), with the specification it comes from. It sends a few hundred requests,
one at a time except for the concurrency rule, and only to this machine (loopback or a Docker bridge).

Exit codes: 0 every required rule passed; 3 a required rule failed; 2 bad input; 1 the service could not
be reached.`,
		Example: `  chaosbench conform http://127.0.0.1:8080
  chaosbench conform http://127.0.0.1:8080 --format junit > conform.xml
  chaosbench conform http://127.0.0.1:8080 --jwt-secret "$JWT_SECRET" --rules idempotency.,jwt.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput("conform takes the service's URL, e.g. chaosbench conform http://127.0.0.1:8080")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			url := args[0]
			if !slices.Contains(conform.Formats(), format) {
				return badInput("--format %q: want one of %s", format, strings.Join(conform.Formats(), ", "))
			}
			for _, p := range rules {
				if !slices.ContainsFunc(conform.Rules(), func(r conform.Rule) bool { return strings.HasPrefix(r.ID, p) }) {
					var ids []string
					for _, r := range conform.Rules() {
						ids = append(ids, r.ID)
					}
					return badInput("--rules %q names no rule (rules: %s)", p, strings.Join(ids, ", "))
				}
			}
			if err := local.CheckURL(cmd.Context(), url); err != nil {
				return badInput("%w", err)
			}
			if secret == "" {
				secret = os.Getenv("CHAOSBENCH_JWT_SECRET")
			}
			opts := []conform.Option{conform.WithRules(rules...)}
			if secret != "" {
				opts = append(opts, conform.WithJWTSecret(secret))
			}
			rep, err := conform.Run(cmd.Context(), url, opts...)
			if err != nil && len(rep.Results) == 0 {
				return err
			}
			if werr := conform.Write(cmd.OutOrStdout(), format, rep); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			if rep.Failed() > 0 {
				return failedError{fmt.Errorf("%s does not conform: %d required rule(s) failed", url, rep.Failed())}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(conform.Formats(), ", "))
	cmd.Flags().StringVar(&secret, "jwt-secret", "", "the service's HS256 secret, to forge expired and wrong-issuer tokens (or $CHAOSBENCH_JWT_SECRET)")
	cmd.Flags().StringSliceVar(&rules, "rules", nil, "run only the rules whose names start with these prefixes (e.g. idempotency.,etag.)")
	return cmd
}
