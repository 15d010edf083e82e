package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/conform"
	"github.com/chaosbench/chaosbench/internal/local"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/spf13/cobra"
)

func init() { register(newConformCmd) }

func newConformCmd() *cobra.Command {
	var format, secret, image, health string
	var rules []string
	var inStack bool
	var port int
	cmd := &cobra.Command{
		Use:   "conform URL | conform --stack [--image IMAGE]",
		Short: "Check a running service against chaosbench's HTTP contract (docs/contract.md)",
		Long: `conform runs the contract's conformance rules against a running service: signup and login, JWT
attacks (when its tokens are JWTs), idempotency keys (replay, 422, 400, 20 concurrent sends of one key),
ETag and If-Match (428, 412), error bodies, 413 and 431. Each rule is passed, failed or skipped (when the
suite cannot exercise it: JWT rules on opaque tokens, forged-token rules without --jwt-secret, the state
store outage on a plain URL), with the specification it comes from. It sends a few hundred requests,
one at a time except for the concurrency rule, and only to this machine (loopback or a Docker bridge).

With --stack it starts chaosbench's stack first (the reference API, or --image with --port and --health:
a user's image behind chaosbench's NGINX, beside its Redis), runs every rule against it, stopping Redis
for the state-store rule and knowing the reference API's JWT secret, and removes the stack at the end.

Exit codes: 0 every required rule passed; 3 a required rule failed; 2 bad input; 1 the service could not
be reached.`,
		Example: `  chaosbench conform http://127.0.0.1:8080
  chaosbench conform http://127.0.0.1:8080 --format junit > conform.xml
  chaosbench conform http://127.0.0.1:8080 --jwt-secret "$JWT_SECRET" --rules idempotency.,jwt.
  chaosbench conform --stack                                   # the reference API: only refresh.* skipped (off)
  chaosbench conform --stack --image shop-api:dev --port 8080  # your image, with the state-store rule`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case inStack && len(args) > 0:
				return badInput("conform --stack starts its own stack: give no URL")
			case !inStack && len(args) != 1:
				return badInput("conform takes the service's URL, e.g. chaosbench conform http://127.0.0.1:8080 (or --stack)")
			case !inStack && (image != "" || port != 0 || health != ""):
				return badInput("--image, --port and --health go with --stack")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
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
			if secret == "" {
				secret = os.Getenv("CHAOSBENCH_JWT_SECRET")
			}
			opts := []conform.Option{conform.WithRules(rules...)}
			var url string
			if inStack {
				st, err := conformStack(cmd.Context(), arch.Service{Image: image, Port: port, Health: health})
				if err != nil {
					return err
				}
				defer func() {
					dctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), time.Minute)
					defer cancel()
					_ = st.Down(dctx)
				}()
				url = st.Entry
				opts = append(opts, conform.WithStoreOutage(redisOutage(st)))
				if !st.Config.Arch.Service.Custom() && secret == "" {
					secret = st.Config.JWTSecret
				}
			} else {
				url = args[0]
				if err := local.CheckURL(cmd.Context(), url); err != nil {
					return badInput("%w", err)
				}
			}
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
	cmd.Flags().BoolVar(&inStack, "stack", false, "start chaosbench's stack and check it (every rule, the state-store outage included)")
	cmd.Flags().StringVar(&image, "image", "", "with --stack: a user's image instead of the reference API")
	cmd.Flags().IntVar(&port, "port", 0, "with --image: the port it listens on in its container (default 8080)")
	cmd.Flags().StringVar(&health, "health", "", "with --image: its readiness path (default /readyz)")
	cmd.Flags().StringSliceVar(&rules, "rules", nil, "run only the rules whose names start with these prefixes (e.g. idempotency.,etag.)")
	return cmd
}

// conformStack starts a one-node stack of svc (the reference API when svc is zero) for conform --stack.
func conformStack(ctx context.Context, svc arch.Service) (*stack.Stack, error) {
	a, err := arch.Preset("stateless")
	if err != nil {
		return nil, err
	}
	if svc.Custom() {
		a = arch.Arch{Name: "service", Service: svc, Balancer: arch.RoundRobin}
	}
	opts := []stack.Option{stack.WithArchitecture(a), stack.WithReplicas(1), stack.WithLog(os.Stderr),
		stack.WithRunID(fmt.Sprintf("conform-%04x", rand.IntN(1<<16)))}
	if _, err := stack.NewConfig(opts...); err != nil {
		return nil, usageError{err}
	}
	st, err := stack.Up(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("stack up: %w", err)
	}
	return st, nil
}

// redisOutage stops the stack's Redis for the state-store rule; restore starts it and waits until the
// stack serves again.
func redisOutage(st *stack.Stack) func(context.Context) (func(context.Context) error, error) {
	return func(ctx context.Context) (func(context.Context) error, error) {
		if err := st.Stop(ctx, "redis", 0); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			if err := st.Start(ctx, "redis"); err != nil {
				return err
			}
			return st.WaitReadyWithin(ctx, 30*time.Second)
		}, nil
	}
}
