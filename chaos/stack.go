package chaos

import (
	"context"
	"net/netip"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Stack is the port through which faults act on a running stack: the mechanism (Docker calls, sidecars,
// NGINX reloads) lives behind it, the policy (what to break, how, and how to undo it) in the faults. Package
// chaos imports no container runtime: *stack.Stack (target/stack) implements Stack with Docker and the
// runner wires it in; a test may implement it with a fake. Containers are named as in a scenario's
// targets (api-2, redis, nginx).
type Stack interface {
	// Containers lists the stack's containers: the API nodes in order, then redis and nginx, then a Redis
	// HA stack's replicas and Sentinels.
	Containers() []arch.Container
	Health
	Lifecycle
	Shell
	Router
	Admin
	RedisHA
}

// Health is what brackets every injection: the stack serves, every node through the balancer.
type Health interface {
	// Ready checks once, returning every failure.
	Ready(ctx context.Context) error
	// WaitReady polls Ready until it succeeds or ctx ends, returning the last failure.
	WaitReady(ctx context.Context) error
}

// Lifecycle stops and starts one container.
type Lifecycle interface {
	Kill(ctx context.Context, name string) error                         // SIGKILL
	Stop(ctx context.Context, name string, grace time.Duration) error    // SIGTERM, SIGKILL after grace
	Start(ctx context.Context, name string) error                        // again, same address and host port
	Restart(ctx context.Context, name string, grace time.Duration) error // Stop, then Start at once
	Pause(ctx context.Context, name string) error                        // freeze every process
	Unpause(ctx context.Context, name string) error
}

// Shell runs commands against one container.
type Shell interface {
	// Sidecar runs a shell script in a short-lived container that shares name's network namespace, with
	// NET_ADMIN and iptables and tc at hand (the API image has neither). It returns the script's output,
	// or an error with that output when the script fails.
	Sidecar(ctx context.Context, name, script string) (string, error)
	// Exec runs cmd inside the container and returns its output, or an error with that output when it
	// exits non-zero.
	Exec(ctx context.Context, name string, cmd ...string) (string, error)
}

// Router sends an API node's traffic somewhere else: a fault's TCP proxy in this process.
type Router interface {
	// HostIP is this host's address on the stack's network, where the balancer can reach a listener.
	HostIP() netip.Addr
	// Route makes the balancer send node's traffic to addr (ip:port), or to the node itself again when
	// addr is empty, and returns once the balancer does.
	Route(ctx context.Context, node, addr string) error
}

// Admin calls the reference API's admin endpoints, which listen on a port of their own that the balancer
// never routes (arch.AdminPort). A user's image has none: the faults that need them are RefapiOnly.
type Admin interface {
	// SetClockOffset moves the API node's wall clock, as its token and session checks read it, by offset
	// from the real one (0 puts it back).
	SetClockOffset(ctx context.Context, node string, offset time.Duration) error
}

// RedisHA answers for a stack whose Redis fails over (Sentinels, architecture stateless-ha).
type RedisHA interface {
	// CurrentPrimary names the Redis container that is primary now (redis, redis-2, ...), as the
	// Sentinels say; on a stack with one Redis, that one.
	CurrentPrimary(ctx context.Context) (string, error)
}
