package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "cache-invalidation-loss", Roles: []arch.Role{arch.RoleAPI, arch.RoleRedis}, Cache: true,
		New: func(p Params) (Fault, error) {
			if err := p.check(); err != nil {
				return nil, err
			}
			return &CacheInvalidationLoss{}, nil
		}})
}

// CacheInvalidationLoss cuts the API nodes' link to Redis for one kind of command only: the DEL that
// invalidates a resource's cached copy (arch.ResourceCacheKey) after a write committed in PostgreSQL.
// Everything else on that link (sessions, the cache's reads and fills, other DELs) passes. Target an API
// node for its invalidations alone, or redis for every node's.
//
// Mechanism: in each node's network namespace (a sidecar), one iptables rule on the packets the node
// sends to port 6379 that carry both the RESP command name DEL (case-insensitive: go-redis sends "del",
// framed by CRLFs) and the cache's key prefix, answered with a TCP reset (REJECT --reject-with tcp-reset
// in OUTPUT resets the node's own socket): the command never reaches Redis and the node's client fails
// at once instead of after its timeout. The reference API does not retry the DEL (a naive cache-aside,
// target/rcache.go) and still answers the write 200, so the old copy serves reads until CACHE_TTL ends.
// A reset rather than a silent drop: a dropped segment is retransmitted and dropped again until the
// Redis timeout (500 ms), which would add that to every write and hide what is measured behind latency.
//
// Why on the wire and not a switch in the API: the harness breaks the link as a network would, and the
// API's code path is the one it runs in production. Why not a partition from Redis during writes: the
// sessions live in Redis too, so a partition refuses the writes themselves (401/503) instead of losing
// only their invalidation. The match needs the xt_string module (checked here on Debian's 6.x kernels);
// the reset is per command, so a connection that carried one is closed and the pool dials a new one.
type CacheInvalidationLoss struct{}

var _ Fault = (*CacheInvalidationLoss)(nil)

func (*CacheInvalidationLoss) Name() string { return "cache-invalidation-loss" }

// invalidationRule matches one invalidation of a cached resource on its way to Redis.
var invalidationRule = fmt.Sprintf("OUTPUT -p tcp --dport %d -m string --algo bm --icase --hex-string '|0d0a|DEL|0d0a|' "+
	"-m string --algo bm --string '%s' -j REJECT --reject-with tcp-reset", arch.RedisPort, arch.ResourceCacheKey)

func (f *CacheInvalidationLoss) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	var nodes []arch.Container
	for _, c := range env.Stack.Containers() {
		if c.Role == arch.RoleAPI && (t.Role == arch.RoleRedis || c.Name == t.Name) {
			nodes = append(nodes, c)
		}
	}
	if len(nodes) == 0 {
		return Effect{}, errors.New("cache-invalidation-loss: the stack has no API node")
	}
	var reverts []func(context.Context) error
	lost := 0
	revert := func(ctx context.Context) error {
		var errs []error
		for i, r := range reverts {
			// The rule's packet count before it goes: each is one invalidation reset (the API never resends it).
			n, err := resetCount(ctx, env, nodes[i].Name)
			lost += n
			errs = append(errs, err, r(ctx))
		}
		return errors.Join(errs...)
	}
	for _, n := range nodes {
		eff, err := iptablesFault(ctx, env, Target{Spec: t.Spec, Container: n}, []string{invalidationRule}, "")
		if err != nil {
			// What was inserted on the nodes before this one must not stay behind.
			return Effect{}, errors.Join(fmt.Errorf("cache-invalidation-loss on %s: %w", n.Name, err), revert(context.WithoutCancel(ctx)))
		}
		reverts = append(reverts, eff.Revert)
	}
	return Effect{Revert: revert,
		Mechanism: fmt.Sprintf("iptables string match on %d node(s), tcp-reset of each DEL of %s* to :%d", len(nodes), arch.ResourceCacheKey, arch.RedisPort),
		// A fault that reset nothing lost no invalidation: the run is invalid, never passed on it. The
		// likely cause is a node without the cache, e.g. a refapi image built before CACHE_TTL.
		Tally: func() (string, error) {
			if lost == 0 {
				return "", errors.New("no invalidation was reset: the nodes sent no DEL of a cached resource while it lasted " +
					"(no acknowledged write, or no resource cache: an image built before CACHE_TTL ignores it; rebuild with make images)")
			}
			return fmt.Sprintf("%d invalidations reset", lost), nil
		}}, nil
}

// resetCount reads how many packets node's invalidation rule has reset.
func resetCount(ctx context.Context, env *Env, node string) (int, error) {
	out, err := env.Stack.Sidecar(ctx, node, "iptables -w -L OUTPUT -v -n -x")
	if err != nil {
		return 0, fmt.Errorf("count the invalidations reset on %s: %w", node, err)
	}
	n := 0
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, `"`+arch.ResourceCacheKey+`"`) {
			k, _ := strconv.Atoi(f[0])
			n += k
		}
	}
	return n, nil
}
