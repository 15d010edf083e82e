package chaos

import (
	"context"
	"fmt"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "packet-loss", Roles: arch.Roles, New: func(p Params) (Fault, error) {
		if err := p.check("percent"); err != nil {
			return nil, err
		}
		pct, err := p.Percent("percent", 100)
		return &PacketLoss{Percent: pct}, err
	}})
}

// PacketLoss drops Percent% of the packets the target sends and receives, on all of its interfaces but
// loopback, with iptables' statistic match in its network namespace (netem's loss is not available on
// every kernel, ours included). At 100% the node is silent: peers time out rather than fail fast.
type PacketLoss struct{ Percent float64 }

var _ Fault = (*PacketLoss)(nil)

func (*PacketLoss) Name() string { return "packet-loss" }

func (f *PacketLoss) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	match := "-j DROP"
	if f.Percent < 100 {
		match = fmt.Sprintf("-m statistic --mode random --probability %.4f -j DROP", f.Percent/100)
	}
	rules := []string{"INPUT ! -i lo " + match, "OUTPUT ! -o lo " + match}
	return iptablesFault(ctx, env, t, rules, fmt.Sprintf("iptables random drop %.4g%% via sidecar", f.Percent))
}
