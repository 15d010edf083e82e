package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "redis-reshard", Roles: []arch.Role{arch.RoleRedis}, New: func(p Params) (Fault, error) {
		if err := p.check("slots"); err != nil {
			return nil, err
		}
		n := 1000
		if v, ok := p["slots"]; ok && v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 5461 {
				return nil, fmt.Errorf("parameter slots=%q: want 1 to 5461 (a primary's share of the 16384 slots)", v)
			}
		}
		return &RedisReshard{Slots: n}, nil
	}})
}

// RedisReshard migrates slots between two primaries of a Redis Cluster (stateless-cluster) under load,
// with redis-cli --cluster reshard run inside the "redis" container: Slots slots from the primary of slot 0
// of the moment to the next primary, key by key (MIGRATE). While a slot moves, a command on a key already
// moved gets ASK, and a script whose keys are split between the two nodes TRYAGAIN; once it has moved, the
// old owner answers MOVED. The API follows no redirect (it fails that request, 503, and reloads its slot
// map): the clients' retries with their keys carry the requests. Revert moves as many slots back. On a
// stack without a cluster it refuses to run.
type RedisReshard struct {
	Slots int
}

var _ Fault = (*RedisReshard)(nil)

func (*RedisReshard) Name() string { return "redis-reshard" }

func (f *RedisReshard) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	redis, err := env.one(arch.RoleRedis)
	if err != nil {
		return Effect{}, err
	}
	out, err := env.Stack.Exec(ctx, redis.Name, "redis-cli", "CLUSTER", "NODES")
	if err != nil {
		if strings.Contains(err.Error(), "cluster support disabled") {
			return Effect{}, errors.New("redis-reshard needs a Redis Cluster (architecture stateless-cluster): this stack's Redis is one server")
		}
		return Effect{}, fmt.Errorf("redis-reshard: cluster nodes: %w", err)
	}
	masters, err := clusterMasters(out)
	if err != nil {
		return Effect{}, fmt.Errorf("redis-reshard: %w", err)
	}
	from, to := masters[0], masters[1] // the primary of slot 0, and the next by first slot
	name := func(m clusterMaster) string {
		for _, c := range env.Stack.Containers() {
			if c.IP == m.IP {
				return c.Name
			}
		}
		return m.IP.String()
	}
	move := func(ctx context.Context, src, dst clusterMaster) error {
		_, err := env.Stack.Exec(ctx, redis.Name, "redis-cli", "--cluster", "reshard",
			netip.AddrPortFrom(redis.IP, arch.RedisPort).String(), "--cluster-from", src.ID, "--cluster-to", dst.ID,
			"--cluster-slots", strconv.Itoa(f.Slots), "--cluster-yes")
		if err != nil {
			return fmt.Errorf("redis-reshard: %d slots from %s to %s: %w", f.Slots, name(src), name(dst), err)
		}
		return nil
	}
	// The migration runs while the fault holds, not before its window opens: the injector records the
	// start when Inject returns, and moving 1000 slots takes about 11 s here. Revert waits for it, then
	// moves as many back, inside the window (the end is recorded when Revert returns). A migration that
	// failed is Revert's error, recorded on the injection.
	var there, back time.Duration
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		err := move(context.WithoutCancel(ctx), from, to)
		there = time.Since(start)
		done <- err
	}()
	return Effect{
		Mechanism: fmt.Sprintf("redis-cli --cluster reshard: %d slots from %s to %s, then back",
			f.Slots, name(from), name(to)),
		Hit: name(from),
		Revert: func(ctx context.Context) error {
			select {
			case err := <-done:
				if err != nil {
					return err
				}
			case <-ctx.Done():
				return fmt.Errorf("redis-reshard: the migration to %s did not end: %w", name(to), ctx.Err())
			}
			t := time.Now()
			err := move(ctx, to, from)
			back = time.Since(t)
			return err
		},
		Tally: func() (string, error) {
			return fmt.Sprintf("moved there in %s, back in %s", there.Round(100*time.Millisecond),
				back.Round(100*time.Millisecond)), nil
		},
	}, nil
}

// clusterMaster is a live primary of CLUSTER NODES: its id, address and first slot.
type clusterMaster struct {
	ID    string
	IP    netip.Addr
	First int
}

// clusterMasters reads CLUSTER NODES (id ip:port@bus flags master ping pong epoch link slots...) and
// returns the live primaries that serve slots, ordered by their first slot: the primary of slot 0 first.
func clusterMasters(nodes string) ([]clusterMaster, error) {
	var out []clusterMaster
	for line := range strings.SplitSeq(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		first := -1
		for _, r := range f[8:] {
			lo, _, _ := strings.Cut(r, "-")
			if n, err := strconv.Atoi(lo); err == nil && (first < 0 || n < first) {
				first = n // ranges only: an importing or migrating slot is written [n-<-id] and skipped
			}
		}
		if first < 0 {
			continue
		}
		host, _, _ := strings.Cut(f[1], "@")
		ap, err := netip.ParseAddrPort(host)
		if err != nil {
			return nil, fmt.Errorf("unexpected address %q in CLUSTER NODES", f[1])
		}
		out = append(out, clusterMaster{ID: f[0], IP: ap.Addr(), First: first})
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("want two primaries serving slots in CLUSTER NODES, found %d", len(out))
	}
	slices.SortFunc(out, func(a, b clusterMaster) int { return a.First - b.First })
	return out, nil
}
