package chaos

import (
	"context"
	"fmt"
	"strings"
)

// iptablesFault inserts DROP rules in a target's network namespace through a sidecar and deletes exactly
// those rules on revert. Rules are inserted first in their chains so that nothing accepts the packets
// before them; loopback is never touched (a process talking to itself is not the network).
func iptablesFault(ctx context.Context, env *Env, t Target, rules []string, mechanism string) (Effect, error) {
	steps := make([]step, len(rules))
	for i, r := range rules {
		steps[i] = step{rule: r}
	}
	revert, err := insertRules(ctx, env, t.Name, steps)
	if err != nil {
		return Effect{}, err
	}
	return Effect{Mechanism: mechanism, Revert: revert}, nil
}

// step is one part of a sidecar script: an iptables rule, "CHAIN spec" (filter table) or "-t TABLE CHAIN
// spec", to insert first in its chain and to delete on revert; or else a shell command, run as it is.
type step struct{ rule, cmd string }

// insertRules runs steps, in order, in node's network namespace with one sidecar script, and returns the
// revert that deletes exactly the rules it inserted, last first, as an undo does. When the script fails,
// what it inserted is deleted before the error returns.
func insertRules(ctx context.Context, env *Env, node string, steps []step) (func(context.Context) error, error) {
	script := func(op string) string {
		var b strings.Builder
		for i := range steps {
			s := steps[i]
			if op == "-D" {
				s = steps[len(steps)-1-i]
			}
			r := s.rule
			if r == "" {
				if op == "-I" {
					b.WriteString(strings.TrimSuffix(s.cmd, "\n") + "\n")
				}
				continue
			}
			table := ""
			if rest, ok := strings.CutPrefix(r, "-t "); ok {
				name, rule, _ := strings.Cut(rest, " ")
				table, r = "-t "+name+" ", rule
			}
			chain, spec, _ := strings.Cut(r, " ")
			if op == "-I" {
				fmt.Fprintf(&b, "iptables -w %s-I %s 1 %s\n", table, chain, spec)
			} else {
				fmt.Fprintf(&b, "iptables -w %s-D %s %s\n", table, chain, spec)
			}
		}
		return b.String()
	}
	if _, err := env.Stack.Sidecar(ctx, node, script("-I")); err != nil {
		// A partial insert must not stay behind: delete what made it, ignoring the rules that did not.
		_, _ = env.Stack.Sidecar(context.WithoutCancel(ctx), node, strings.ReplaceAll(script("-D"), "\n", " || true\n"))
		return nil, err
	}
	return func(ctx context.Context) error {
		_, err := env.Stack.Sidecar(ctx, node, script("-D"))
		return err
	}, nil
}
