package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-link", Roles: []arch.Role{arch.RoleAPI, arch.RoleRedis}, New: newRedisLink,
		// Whatever the target, the fault needs Redis' address: an attached project must name its Redis.
		Peers: func(Params) []string { return []string{string(arch.RoleRedis)} }})
}

func newRedisLink(p Params) (Fault, error) {
	if err := p.check("delay", "jitter", "loss"); err != nil {
		return nil, err
	}
	d, err := p.Duration("delay", 0)
	if err != nil {
		return nil, err
	}
	j, err := p.Duration("jitter", 0)
	if err != nil {
		return nil, err
	}
	loss, err := p.Percent("loss", 0)
	if err != nil {
		return nil, err
	}
	switch {
	case p["delay"] != "" && d == 0:
		return nil, fmt.Errorf("delay must be > 0 (leave it out for loss alone)")
	case j > 0 && d == 0:
		return nil, fmt.Errorf("jitter %s needs a delay: each chunk is held for delay ± jitter", j)
	case j > d:
		return nil, fmt.Errorf("jitter %s exceeds delay %s: a chunk cannot be held for less than no time", j, d)
	case d == 0 && loss == 0:
		return nil, fmt.Errorf("give delay, loss or both (e.g. delay: 20ms, jitter: 10ms, loss: 1)")
	}
	return &RedisLink{Delay: d, Jitter: j, Loss: loss}, nil
}

// A proxy's connections are closed on revert once idle for drainQuiet, far longer than Redis takes to
// answer a command, so that a command in flight is seldom cut; drainTimeout bounds the wait on a connection
// that is never idle that long. Closing them all at once cut 2 to 10 commands per revert (200 signups/s
// through NGINX, 5 ms ± 5 ms on every node's link), and in two runs of three that opened a node's circuit
// breaker (3 failures in a row) for a second of 503s; drained, 1 failed command in 13 reverts.
const (
	drainQuiet   = 10 * time.Millisecond
	drainTimeout = 2 * time.Second
)

// RedisLink degrades the link between API nodes and Redis, and nothing else: clients still reach the
// nodes as fast as before, Redis still answers everyone else (the checker, the other nodes). Target an API
// node for its link alone, or redis for every API node's. On a Redis HA stack (stateless-ha) the link is
// to every Redis data node (redis, redis-2, redis-3, on port 6379: the primary of the moment and the
// replicas that may become it during the fault), not to the Sentinels, which the nodes ask only where the
// primary is.
//
// Loss: iptables statistic DROP rules in each node's network namespace (a sidecar), on the packets it
// sends to Redis' port and receives from it, both directions.
//
// Delay ± jitter: this kernel has no netem (and a netem qdisc would delay packets where the proxy delays
// data, so that one scenario would measure two things on two kernels): the proxy runs everywhere. One TCP
// delay proxy per Redis data node in this process, on Stack.HostIP, holds every chunk delay ± jitter
// (uniform, from the run's seeded source) in each direction, so a Redis round trip gains 2 × delay; in
// each node's namespace an iptables nat OUTPUT DNAT rule sends new connections to Redis on to its proxy.
// The node's pool keeps its direct connections, which the nat table no longer sees: the sidecar closes
// each as soon as it is idle (closeDirect; the pool drops a closed connection before its next use), and
// a REJECT (tcp-reset) rule on direct packets to Redis catches any it could not. With a delay, the loss
// rules match the link to the proxy, where the node's packets to Redis now go.
//
// Revert deletes every rule (the REJECT ones first), then drains the proxies: each passes data on at
// once and closes a connection when it is idle, and the pool reconnects directly.
type RedisLink struct {
	Delay, Jitter time.Duration
	Loss          float64 // percent of packets dropped, each direction; 0: none
	// link is the store whose link is degraded: nil is Redis; postgres-link sets PostgreSQL's
	// (postgreslink.go). The mechanism is the same, only the port and the servers differ.
	link *storeLink
}

// storeLink names the state store a link fault degrades the path to.
type storeLink struct {
	fault string      // the fault's name, in its messages
	port  int         // the store's port on its servers
	store arch.Role   // the target that means "every API node's link"
	data  []arch.Role // the servers the nodes may talk to
	// replica is the target that means "this server's own link to the other data servers": a standby's
	// replication link (postgres-link on postgres-2). "": none.
	replica arch.Role
}

var redisStoreLink = storeLink{fault: "redis-link", port: arch.RedisPort, store: arch.RoleRedis,
	data: []arch.Role{arch.RoleRedis, arch.RoleReplica}}

func (f *RedisLink) store() storeLink {
	if f.link == nil {
		return redisStoreLink
	}
	return *f.link
}

var _ Fault = (*RedisLink)(nil)

func (f *RedisLink) Name() string { return f.store().fault }

func (f *RedisLink) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	// The nodes whose link is degraded: the target, or every API node when the target is redis; and the
	// Redis data nodes they may talk to.
	link := f.store()
	var nodes, data []arch.Container
	for _, c := range env.Stack.Containers() {
		switch {
		case link.replica != "" && t.Role == link.replica && c.Name == t.Name:
			nodes = append(nodes, c) // the standby itself, its link to the others
		case c.Role == arch.RoleAPI && (t.Role == link.store || c.Name == t.Name):
			nodes = append(nodes, c)
		case slices.Contains(link.data, c.Role):
			data = append(data, c)
		}
	}
	if len(nodes) == 0 {
		return Effect{}, fmt.Errorf("%s: the stack has no API node to degrade", link.fault)
	}
	if len(data) == 0 {
		return Effect{}, fmt.Errorf("%s: the stack has no %s", link.fault, link.store)
	}

	// Every node's sidecar runs at once, on injection and on revert, so that a fault on redis starts and
	// ends on the nodes together (one sidecar takes about half a second here).
	var proxies []*delayProxy
	reverts := make([]func(context.Context) error, len(nodes))
	revert := func(ctx context.Context) error {
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, r := range reverts {
			if r != nil {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = r(ctx) }()
			}
		}
		wg.Wait()
		// After the rules, so that no new connection goes to a proxy any more: the proxies close their
		// connections as each goes idle (Drain), and the nodes' pools dial Redis directly again.
		start, busy := time.Now(), 0
		for _, p := range proxies {
			busy += p.Drain(drainQuiet, drainTimeout)
		}
		if len(proxies) > 0 {
			env.logf("chaos: %s: proxies drained in %s, %d connection(s) closed busy at the %s limit", link.fault,
				time.Since(start).Round(time.Millisecond), busy, drainTimeout)
		}
		return errors.Join(errs...)
	}

	// One script per node: (with a delay) list its direct connections to Redis, send new ones to the
	// proxies, add the loss rules, close the listed connections as they go idle, then reject what is
	// left of them. The revert deletes the rules last first: the REJECT rules before the DNAT ones, so
	// that no new direct connection is rejected in between.
	var steps, rejects []step
	var ips []netip.Addr
	for _, r := range data {
		redis := netip.AddrPortFrom(r.IP, uint16(link.port))
		peer := redis // where the node's packets to this Redis go
		if f.Delay > 0 {
			listen := netip.AddrPortFrom(env.Stack.HostIP(), 0).String()
			p, err := startDelayProxy(listen, redis.String(), f.Delay, f.Jitter, env.Float64)
			if err != nil {
				_ = revert(ctx)
				return Effect{}, fmt.Errorf("%s: delay proxy for %s: %w", link.fault, r.Name, err)
			}
			proxies = append(proxies, p)
			if peer, err = netip.ParseAddrPort(p.Addr()); err != nil {
				_ = revert(ctx)
				return Effect{}, fmt.Errorf("%s: delay proxy for %s: %w", link.fault, r.Name, err)
			}
			ips = append(ips, r.IP)
			to := fmt.Sprintf("-d %s -p tcp --dport %d", redis.Addr(), redis.Port())
			steps = append(steps, step{rule: "-t nat OUTPUT " + to + " -j DNAT --to-destination " + peer.String()})
			// RSTs pass, so that Redis forgets a connection the node aborts.
			rejects = append(rejects, step{rule: "OUTPUT " + to + " ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset"})
		}
		if f.Loss > 0 {
			drop := "-j DROP"
			if f.Loss < 100 {
				drop = fmt.Sprintf("-m statistic --mode random --probability %.4f -j DROP", f.Loss/100)
			}
			steps = append(steps, step{rule: fmt.Sprintf("OUTPUT -d %s -p tcp --dport %d %s", peer.Addr(), peer.Port(), drop)},
				step{rule: fmt.Sprintf("INPUT -s %s -p tcp --sport %d %s", peer.Addr(), peer.Port(), drop)})
		}
	}
	if f.Delay > 0 {
		before, after := closeDirect(ips, link.port)
		steps = append(append([]step{{cmd: before}}, steps...), step{cmd: after})
		steps = append(steps, rejects...)
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if reverts[i], errs[i] = insertRules(ctx, env, n.Name, steps); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: rules on %s: %w", link.fault, n.Name, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = revert(context.WithoutCancel(ctx)) // the nodes whose rules went in
		return Effect{}, err
	}
	return Effect{Mechanism: f.mechanism(nodes, data), Revert: revert}, nil
}

// mechanism says what ran, e.g. "tcp-proxy 20ms ± 10ms each way (iptables DNAT; direct connections
// closed: ss -K, REJECT) + iptables random drop 1% on api-2 -> redis:6379 via sidecar".
func (f *RedisLink) mechanism(nodes, data []arch.Container) string {
	var parts []string
	if f.Delay > 0 {
		d := f.Delay.String()
		if f.Jitter > 0 {
			d += " ± " + f.Jitter.String()
		}
		parts = append(parts, "tcp-proxy "+d+" each way (iptables DNAT; direct connections closed: ss -K, REJECT)")
	}
	if f.Loss > 0 {
		parts = append(parts, fmt.Sprintf("iptables random drop %.4g%%", f.Loss))
	}
	sidecar := "sidecar"
	if len(nodes) > 1 {
		sidecar += "s"
	}
	return fmt.Sprintf("%s on %s -> %s:%d via %s", strings.Join(parts, " + "), names(nodes), names(data), f.store().port, sidecar)
}

// closeDirect returns the sidecar's commands that close a node's direct connections to the Redis data
// nodes at ips once the DNAT rules are in. before lists them, by local address, before the rules (a
// socket through a proxy keeps the address it dialled: new ones look the same). after closes each with
// ss -K once it is idle, which the pool then drops before its next use: nothing queued, and its last reply
// received after its last request was sent (or both in the same millisecond, ss's unit, and nothing since
// for 5 ms). It polls every 5 ms for at most 100 rounds; what stays busy that long is left to the REJECT
// rules, inserted after it. Closing a connection with a command in flight fails that command, and so
// does a REJECT rule in place before the connections are closed: with the rules first, injections failed
// 2 to 3 commands per node (200 signups/s through NGINX) and opened a node's circuit breaker (3 failures
// in a row) once in three; closing every listed connection at once, 1 failure in three injections; idle
// ones only, 1 in ten (a connection reused in the milliseconds between ss reading it idle and closing it).
func closeDirect(ips []netip.Addr, port int) (before, after string) {
	var dst []string
	for _, ip := range ips {
		dst = append(dst, "dst "+ip.String())
	}
	filter := fmt.Sprintf("dport = :%d and ( %s )", port, strings.Join(dst, " or "))
	before = fmt.Sprintf("direct=$(ss -Htn '%s' | awk '{print $4}')\n", filter)
	after = strings.ReplaceAll(`for try in $(seq 100); do
  [ -n "$direct" ] || break
  set -- $(ss -Htni 'FILTER' | awk -v want=" $(echo $direct) " '
    /^[A-Z]/ { addr = $4; queued = $2 + $3; next }
    index(want, " " addr " ") {
      snd = rcv = 0
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^lastsnd:/) snd = substr($i, 9) + 0
        if ($i ~ /^lastrcv:/) rcv = substr($i, 9) + 0
      }
      print (queued == 0 && (rcv < snd || rcv == snd && rcv >= 5) ? "idle" : "busy"), addr
    }')
  direct= idle=
  while [ $# -gt 0 ]; do
    if [ "$1" = idle ]; then idle="$idle${idle:+ or }src $2"; else direct="$direct $2"; fi
    shift 2
  done
  [ -z "$idle" ] || ss -K -tn "FILTER and ( $idle )" >/dev/null 2>&1 || true
  [ -z "$direct" ] || sleep 0.005
done
`, "FILTER", filter)
	return before, after
}
