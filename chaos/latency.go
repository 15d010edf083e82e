package chaos

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Latency targets API nodes only: the netem path would serve any container, but the proxy fallback only
// API nodes (NGINX's upstreams), and a scenario must mean the same on every kernel.
func init() {
	Register(Kind{Name: "latency", Roles: []arch.Role{arch.RoleAPI}, Routes: true, New: func(p Params) (Fault, error) {
		if err := p.check("delay", "jitter"); err != nil {
			return nil, err
		}
		d, err := p.Duration("delay", 100*time.Millisecond)
		if err != nil {
			return nil, err
		}
		j, err := p.Duration("jitter", 0)
		if err != nil {
			return nil, err
		}
		if d == 0 {
			return nil, fmt.Errorf("delay must be > 0")
		}
		return &Latency{Delay: d, Jitter: j}, nil
	}})
}

// Latency delays an API node's traffic by Delay ± Jitter. Where the kernel has netem, a sidecar adds a
// netem qdisc on the node's eth0 (every packet it sends, so both directions of each exchange are slowed
// once). Where it does not (our kernel: "Specified qdisc kind is unknown"), NGINX is pointed at a TCP
// proxy in this process that holds every chunk for Delay ± Jitter before passing it on; that slows the
// node as its clients see it, but not its own calls to Redis. Effect.Mechanism says which ran.
type Latency struct {
	Delay, Jitter time.Duration
}

var _ Fault = (*Latency)(nil)

func (*Latency) Name() string { return "latency" }

func (f *Latency) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	netem := fmt.Sprintf("tc qdisc add dev eth0 root netem delay %dms", f.Delay.Milliseconds())
	if f.Jitter > 0 {
		netem += fmt.Sprintf(" %dms distribution normal", f.Jitter.Milliseconds())
	}
	out, err := env.Stack.Sidecar(ctx, t.Name, netem)
	if err == nil {
		return Effect{Mechanism: "netem", Revert: func(ctx context.Context) error {
			_, err := env.Stack.Sidecar(ctx, t.Name, "tc qdisc del dev eth0 root")
			return err
		}}, nil
	}
	if !strings.Contains(out, "unknown") && !strings.Contains(out, "No such file") && !strings.Contains(out, "not supported") {
		env.logf("chaos: latency: netem failed (%v); using the TCP proxy", err)
	}
	return f.proxy(ctx, env, t)
}

func (f *Latency) proxy(ctx context.Context, env *Env, t Target) (Effect, error) {
	// The proxy listens on the host's address on the stack's network, where NGINX can reach it.
	listen := netip.AddrPortFrom(env.Stack.HostIP(), 0).String()
	p, err := startDelayProxy(listen, t.Addr(), f.Delay, f.Jitter, env.Float64)
	if err != nil {
		return Effect{}, fmt.Errorf("latency proxy for %s: %w", t.Name, err)
	}
	if err := env.Stack.Route(ctx, t.Name, p.Addr()); err != nil {
		p.Close()
		return Effect{}, fmt.Errorf("route %s through the latency proxy: %w", t.Name, err)
	}
	return Effect{Mechanism: "tcp-proxy", Revert: func(ctx context.Context) error {
		err := env.Stack.Route(ctx, t.Name, "")
		p.Close() // after NGINX's reload, so that no request is cut mid-way by the revert itself
		return err
	}}, nil
}
