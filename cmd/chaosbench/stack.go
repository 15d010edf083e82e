package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

func newStackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Start, stop and list the reference stack (NGINX, N API nodes, Redis) in Docker",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return badInput("stack: want a subcommand: up, down or status")
		},
	}
	cmd.AddCommand(newStackUpCmd(), newStackDownCmd(), newStackStatusCmd())
	return cmd
}

func newStackUpCmd() *cobra.Command {
	var (
		preset, balancer, runID, persistence, maxmemory string
		replicas                                        int
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a stack, print its addresses, and remove it on Ctrl-C",
		Long: "Start a stack from the locally built images (make images), print `entry: URL` and\n" +
			"`redis: HOST:PORT`, then wait; Ctrl-C or `chaosbench stack down` removes everything.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := []stack.Option{stack.WithArch(preset), stack.WithReplicas(replicas), stack.WithLog(os.Stderr),
				stack.WithRedis(arch.RedisConfig{Persistence: arch.Persistence(persistence), MaxMemory: maxmemory})}
			if balancer != "" {
				opts = append(opts, stack.WithBalancer(arch.Balancer(balancer)))
			}
			if runID != "" {
				opts = append(opts, stack.WithRunID(runID))
			}
			if _, err := stack.NewConfig(opts...); err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			s, err := stack.Up(ctx, opts...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "run: %s\narch: %s\nentry: %s\nredis: %s\n", s.RunID, s.Config.Arch.Name, s.Entry, s.RedisAddr)
			for _, n := range s.Nodes {
				fmt.Fprintf(out, "node: %s %s\n", n.Name, n.IP)
			}
			fmt.Fprintln(os.Stderr, "stack is up; Ctrl-C removes it")
			// Wait for Ctrl-C, or for the stack to vanish under us (`stack down` from another shell).
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
		wait:
			for {
				select {
				case <-ctx.Done():
					break wait
				case <-tick.C:
					if s.Nginx.ID != "" && !stillThere(ctx, s) {
						fmt.Fprintln(os.Stderr, "stack was removed")
						break wait
					}
				}
			}
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := s.Down(dctx); err != nil {
				return fmt.Errorf("remove stack %s: %w", s.RunID, err)
			}
			fmt.Fprintf(os.Stderr, "stack %s removed\n", s.RunID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&preset, "arch", "stateless", "architecture preset: stateless, stateful, stateless-no-idempotency")
	f.IntVar(&replicas, "replicas", 3, "number of API nodes")
	f.StringVar(&balancer, "balancer", "", "round-robin, least-conn or sticky (NGINX's policies), or haproxy (HAProxy in NGINX's place) (default: the preset's)")
	f.StringVar(&runID, "run-id", "", "label value chaosbench.run=<id> (default: random)")
	f.StringVar(&persistence, "redis-persistence", "none", "none, everysec or always")
	f.StringVar(&maxmemory, "redis-maxmemory", "", "Redis maxmemory, e.g. 256mb (default: no limit)")
	return cmd
}

// stillThere reports whether the stack's NGINX container still exists.
func stillThere(ctx context.Context, s *stack.Stack) bool {
	runs, err := stack.List(ctx, s.Docker())
	if err != nil {
		return true // a transient Docker error is no reason to tear down
	}
	for _, r := range runs {
		if r.RunID == s.RunID && len(r.Containers) > 0 {
			return true
		}
	}
	return false
}

func newStackDownCmd() *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove every labelled stack container and network (or only one run's)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cli, runs, err := listRuns(ctx)
			if err != nil {
				return err
			}
			defer cli.Close()
			if err := stack.Sweep(ctx, cli, runID); err != nil {
				return err
			}
			n := 0
			for _, r := range runs {
				if runID == "" || r.RunID == runID {
					n++
					fmt.Fprintf(cmd.OutOrStdout(), "removed run %s (%d containers)\n", r.RunID, len(r.Containers))
				}
			}
			if n == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to remove")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&runID, "run-id", "", "remove only this run (default: every run)")
	return cmd
}

func newStackStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "List the stacks running on this Docker host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cli, runs, err := listRuns(ctx)
			if err != nil {
				return err
			}
			defer cli.Close()
			out := cmd.OutOrStdout()
			if len(runs) == 0 {
				fmt.Fprintln(out, "no stack")
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tCONTAINER\tROLE\tSTATE\tIMAGE")
			for _, r := range runs {
				for _, c := range r.Containers {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.RunID, c.Name, c.Role, c.State, c.Image)
				}
				for _, n := range r.Networks {
					fmt.Fprintf(tw, "%s\t%s\tnetwork\t\t\n", r.RunID, n)
				}
			}
			return tw.Flush()
		},
	}
}

// listRuns connects to Docker and lists the labelled runs; the caller closes the client.
func listRuns(ctx context.Context) (*stack.Docker, []stack.RunInfo, error) {
	cli, err := stack.NewDocker(ctx)
	if err != nil {
		return nil, nil, err
	}
	runs, err := stack.List(ctx, cli)
	if err != nil {
		_ = cli.Close()
		return nil, nil, err
	}
	return cli, runs, nil
}
