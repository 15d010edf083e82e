package chaos

import (
	"context"
	"fmt"
	"strings"
)

// iptablesFault inserts DROP rules in a target's network namespace through a sidecar and deletes exactly
// those rules on revert. Rules are inserted first in their chain so that nothing accepts the packets
// before them; loopback is never touched (a process talking to itself is not the network).
func iptablesFault(ctx context.Context, env *Env, t Target, rules []string, mechanism string) (Effect, error) {
	script := func(op string) string {
		var b strings.Builder
		for _, r := range rules {
			chain, spec, _ := strings.Cut(r, " ")
			if op == "-I" {
				fmt.Fprintf(&b, "iptables -w -I %s 1 %s\n", chain, spec)
			} else {
				fmt.Fprintf(&b, "iptables -w -D %s %s\n", chain, spec)
			}
		}
		return b.String()
	}
	if _, err := env.Stack.Sidecar(ctx, t.Name, script("-I")); err != nil {
		// A partial insert must not stay behind: delete what made it, ignoring the rules that did not.
		_, _ = env.Stack.Sidecar(context.WithoutCancel(ctx), t.Name, strings.ReplaceAll(script("-D"), "\n", " || true\n"))
		return Effect{}, err
	}
	return Effect{Mechanism: mechanism, Revert: func(ctx context.Context) error {
		_, err := env.Stack.Sidecar(ctx, t.Name, script("-D"))
		return err
	}}, nil
}
