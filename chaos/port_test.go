package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/target/arch"
)

// fakeStack implements the chaos.Stack port in memory: it records every call as a line ("kill api-2",
// "sidecar api-3: SCRIPT", "exec redis: redis-cli ...") so that a test sees what a fault asks of the
// stack, with no Docker.
type fakeStack struct {
	mu    sync.Mutex
	calls []string
	// fail makes the call whose line starts with a key fail with its error.
	fail map[string]error
	// answer is the output of the call whose line starts with a key.
	answer map[string]string
	ready  error
	// ha adds a Redis HA stack's replicas and Sentinels; primary is who CurrentPrimary names.
	ha      bool
	primary string
}

var _ chaos.Stack = (*fakeStack)(nil)

// rcacheRule is how `iptables -L OUTPUT -v -n -x` lists cache-invalidation-loss's rule after 2 resets.
const rcacheRule = "Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n    pkts      bytes target     prot opt in     out     source               destination\n" +
	"       2      166 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:6379 STRING match  \"|0d0a44454c0d0a|\" ALGO name bm ICASE STRING match  \"v1:rcache:\" ALGO name bm reject-with tcp-reset\n"

func newFake() *fakeStack {
	return &fakeStack{fail: map[string]error{}, answer: map[string]string{
		"exec redis: redis-cli CONFIG GET": "maxmemory\n0\nmaxmemory-policy\nnoeviction\nmaxmemory-samples\n5",
		"exec redis: redis-cli CONFIG SET": "OK",
		// cache-invalidation-loss reads its rule's packet count on revert: 2 resets per node.
		"sidecar api-1: iptables -w -L OUTPUT": rcacheRule, "sidecar api-2: iptables -w -L OUTPUT": rcacheRule,
		"sidecar api-3: iptables -w -L OUTPUT": rcacheRule,
	}}
}

func (f *fakeStack) call(line string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, line)
	for k, err := range f.fail {
		if strings.HasPrefix(line, k) {
			return f.answer[k], err
		}
	}
	for k, out := range f.answer {
		if strings.HasPrefix(line, k) {
			return out, nil
		}
	}
	return "", nil
}

// take returns the calls so far and forgets them.
func (f *fakeStack) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeStack) Containers() []arch.Container {
	cs := []arch.Container{
		{Name: "api-1", Role: arch.RoleAPI, IP: netip.MustParseAddr("10.0.0.11"), Port: 8080},
		{Name: "api-2", Role: arch.RoleAPI, IP: netip.MustParseAddr("10.0.0.12"), Port: 8080},
		{Name: "api-3", Role: arch.RoleAPI, IP: netip.MustParseAddr("10.0.0.13"), Port: 8080},
		{Name: "redis", Role: arch.RoleRedis, IP: netip.MustParseAddr("10.0.0.2")},
		{Name: "nginx", Role: arch.RoleNginx, IP: netip.MustParseAddr("10.0.0.3")},
	}
	if f.ha {
		cs = append(cs, arch.Container{Name: "redis-2", Role: arch.RoleReplica, IP: netip.MustParseAddr("10.0.0.4")},
			arch.Container{Name: "redis-3", Role: arch.RoleReplica, IP: netip.MustParseAddr("10.0.0.5")},
			arch.Container{Name: "sentinel-1", Role: arch.RoleSentinel, IP: netip.MustParseAddr("10.0.0.6")},
			arch.Container{Name: "sentinel-2", Role: arch.RoleSentinel, IP: netip.MustParseAddr("10.0.0.7")})
	}
	return cs
}

func (f *fakeStack) CurrentPrimary(context.Context) (string, error) {
	if _, err := f.call("primary"); err != nil {
		return "", err
	}
	if f.primary == "" {
		return "redis", nil
	}
	return f.primary, nil
}

func (f *fakeStack) Ready(context.Context) error     { return f.ready }
func (f *fakeStack) WaitReady(context.Context) error { return f.ready }

func (f *fakeStack) Kill(_ context.Context, name string) error {
	_, err := f.call("kill " + name)
	return err
}

func (f *fakeStack) Stop(_ context.Context, name string, grace time.Duration) error {
	_, err := f.call(fmt.Sprintf("stop %s %s", name, grace))
	return err
}

func (f *fakeStack) Start(_ context.Context, name string) error {
	_, err := f.call("start " + name)
	return err
}

func (f *fakeStack) Restart(_ context.Context, name string, grace time.Duration) error {
	_, err := f.call(fmt.Sprintf("restart %s %s", name, grace))
	return err
}

func (f *fakeStack) Pause(_ context.Context, name string) error {
	_, err := f.call("pause " + name)
	return err
}

func (f *fakeStack) Unpause(_ context.Context, name string) error {
	_, err := f.call("unpause " + name)
	return err
}

func (f *fakeStack) Sidecar(_ context.Context, name, script string) (string, error) {
	return f.call("sidecar " + name + ": " + strings.TrimSpace(script))
}

func (f *fakeStack) Exec(_ context.Context, name string, cmd ...string) (string, error) {
	return f.call("exec " + name + ": " + strings.Join(cmd, " "))
}

func (f *fakeStack) HostIP() netip.Addr { return netip.MustParseAddr("127.0.0.1") }

func (f *fakeStack) Route(_ context.Context, node, addr string) error {
	if addr != "" {
		addr = "PROXY" // a free port of this host, different every run
	}
	_, err := f.call("route " + node + " " + addr)
	return err
}

func (f *fakeStack) SetClockOffset(_ context.Context, node string, offset time.Duration) error {
	_, err := f.call(fmt.Sprintf("clock %s %s", node, offset))
	return err
}

// TestFaultsThroughThePort injects every fault into a fake stack and checks what it asks of the stack to
// break it and to undo it: the policy of each fault, apart from Docker's mechanism.
func TestFaultsThroughThePort(t *testing.T) {
	drop := "-m statistic --mode random --probability 0.3000 -j DROP"
	del := "-p tcp --dport 6379 -m string --algo bm --icase --hex-string '|0d0a|DEL|0d0a|' -m string --algo bm --string 'v1:rcache:' -j REJECT --reject-with tcp-reset"
	tests := []struct {
		fault     string
		params    chaos.Params
		target    string
		mechanism string
		inject    []string // calls on injection
		revert    []string // calls on revert
	}{
		// A killed container is started again.
		{"kill", nil, "api-2", "docker kill SIGKILL", []string{"kill api-2"}, []string{"start api-2"}},
		// A stop gives its grace period; the revert starts the container.
		{"stop", chaos.Params{"grace": "2s"}, "nginx", "docker stop SIGTERM", []string{"stop nginx 2s"}, []string{"start nginx"}},
		{"pause", nil, "redis", "docker pause (cgroup freezer)", []string{"pause redis"}, []string{"unpause redis"}},
		// A restart is over once injected: nothing to revert.
		{"restart", nil, "api-1", "docker restart", []string{"restart api-1 10s"}, nil},
		// redis-outage hits the stack's Redis, in either mode.
		{"redis-outage", chaos.Params{"mode": "pause"}, "redis", "redis docker pause (cgroup freezer)", []string{"pause redis"}, []string{"unpause redis"}},
		{"redis-outage", nil, "redis", "redis docker kill SIGKILL", []string{"kill redis"}, []string{"start redis"}},
		// Without Sentinels, redis-failover is an outage of the one Redis: it asks no one who is primary.
		{"redis-failover", nil, "redis", "single redis (no Sentinels, no failover): docker kill SIGKILL", []string{"kill redis"}, []string{"start redis"}},
		{"redis-failover", chaos.Params{"mode": "pause"}, "redis", "single redis (no Sentinels, no failover): docker pause (cgroup freezer)", []string{"pause redis"}, []string{"unpause redis"}},
		// Packet loss: rules first in their chains, loopback spared; the revert deletes exactly those.
		{"packet-loss", chaos.Params{"percent": "30"}, "api-3", "iptables random drop 30% via sidecar",
			[]string{"sidecar api-3: iptables -w -I INPUT 1 ! -i lo " + drop + "\niptables -w -I OUTPUT 1 ! -o lo " + drop},
			[]string{"sidecar api-3: iptables -w -D OUTPUT ! -o lo " + drop + "\niptables -w -D INPUT ! -i lo " + drop}},
		// A partition drops the peer's address both ways.
		{"partition", chaos.Params{"from": "redis"}, "api-1", "iptables drop api-1<->redis via sidecar",
			[]string{"sidecar api-1: iptables -w -I INPUT 1 -s 10.0.0.2 -j DROP\niptables -w -I OUTPUT 1 -d 10.0.0.2 -j DROP"},
			[]string{"sidecar api-1: iptables -w -D OUTPUT -d 10.0.0.2 -j DROP\niptables -w -D INPUT -s 10.0.0.2 -j DROP"}},
		{"partition", chaos.Params{"from": "nginx"}, "api-2", "iptables drop api-2<->nginx via sidecar",
			[]string{"sidecar api-2: iptables -w -I INPUT 1 -s 10.0.0.3 -j DROP\niptables -w -I OUTPUT 1 -d 10.0.0.3 -j DROP"},
			[]string{"sidecar api-2: iptables -w -D OUTPUT -d 10.0.0.3 -j DROP\niptables -w -D INPUT -s 10.0.0.3 -j DROP"}},
		// redis-link's loss: drop rules on the node's packets to Redis' port and from it, nothing else.
		{"redis-link", chaos.Params{"loss": "30"}, "api-2", "iptables random drop 30% on api-2 -> redis:6379 via sidecar",
			[]string{"sidecar api-2: iptables -w -I OUTPUT 1 -d 10.0.0.2 -p tcp --dport 6379 " + drop + "\niptables -w -I INPUT 1 -s 10.0.0.2 -p tcp --sport 6379 " + drop},
			[]string{"sidecar api-2: iptables -w -D INPUT -s 10.0.0.2 -p tcp --sport 6379 " + drop + "\niptables -w -D OUTPUT -d 10.0.0.2 -p tcp --dport 6379 " + drop}},
		// cache-invalidation-loss resets the DEL of a cached resource on one node's link to Redis...
		// The revert reads the rule's count first; the mechanism ends with it.
		{"cache-invalidation-loss", nil, "api-2", "iptables string match on 1 node(s), tcp-reset of each DEL of v1:rcache:* to :6379: 2 invalidations reset",
			[]string{"sidecar api-2: iptables -w -I OUTPUT 1 " + del}, []string{"sidecar api-2: iptables -w -L OUTPUT -v -n -x", "sidecar api-2: iptables -w -D OUTPUT " + del}},
		// ... or, aimed at redis, on every node's.
		{"cache-invalidation-loss", nil, "redis", "iptables string match on 3 node(s), tcp-reset of each DEL of v1:rcache:* to :6379: 6 invalidations reset",
			[]string{"sidecar api-1: iptables -w -I OUTPUT 1 " + del, "sidecar api-2: iptables -w -I OUTPUT 1 " + del, "sidecar api-3: iptables -w -I OUTPUT 1 " + del},
			[]string{"sidecar api-1: iptables -w -L OUTPUT -v -n -x", "sidecar api-1: iptables -w -D OUTPUT " + del,
				"sidecar api-2: iptables -w -L OUTPUT -v -n -x", "sidecar api-2: iptables -w -D OUTPUT " + del,
				"sidecar api-3: iptables -w -L OUTPUT -v -n -x", "sidecar api-3: iptables -w -D OUTPUT " + del}},
		// Where the kernel has netem, latency is a qdisc on the node's interface.
		{"latency", chaos.Params{"delay": "200ms", "jitter": "50ms"}, "api-1", "netem",
			[]string{"sidecar api-1: tc qdisc add dev eth0 root netem delay 200ms 50ms distribution normal"},
			[]string{"sidecar api-1: tc qdisc del dev eth0 root"}},
		// Clock skew sets the node's API clock offset and puts it back to 0.
		{"clock-skew", chaos.Params{"offset": "30s"}, "api-2", "API clock offset 30s", []string{"clock api-2 30s"}, []string{"clock api-2 0s"}},
		{"clock-skew", chaos.Params{"offset": "-90s"}, "api-1", "API clock offset -1m30s", []string{"clock api-1 -1m30s"}, []string{"clock api-1 0s"}},
		// Memory pressure reads the settings it changes and restores them as they were.
		{"redis-memory-pressure", chaos.Params{"maxmemory": "3mb"}, "redis", "redis CONFIG SET maxmemory 3mb allkeys-lru",
			[]string{"exec redis: redis-cli CONFIG GET maxmemory*", "exec redis: redis-cli CONFIG SET maxmemory-policy allkeys-lru",
				"exec redis: redis-cli CONFIG SET maxmemory 3mb"},
			[]string{"exec redis: redis-cli CONFIG SET maxmemory 0", "exec redis: redis-cli CONFIG SET maxmemory-policy noeviction"}},
	}
	for _, tt := range tests {
		t.Run(tt.fault+"/"+tt.target, func(t *testing.T) {
			fs := newFake()
			f, err := chaos.New(tt.fault, tt.params)
			require.NoError(t, err)
			in := chaos.NewInjector(chaos.NewEnv(fs, 1))
			id, err := in.Inject(context.Background(), f, tt.params, tt.target)
			require.NoError(t, err)
			require.Equal(t, tt.inject, fs.take())
			require.NoError(t, in.Revert(context.Background(), id))
			require.Equal(t, tt.revert, fs.take())
			rec := in.Records()[0]
			require.Equal(t, tt.mechanism, rec.Mechanism)
			require.Equal(t, tt.target, rec.Resolved)
			require.Empty(t, rec.Error)
			require.GreaterOrEqual(t, rec.Ready, time.Duration(0))
		})
	}
}

// TestLatencyFallsBackToTheProxy: on a kernel without netem, NGINX is pointed at a delaying proxy of this
// process, and back at the node on revert.
func TestLatencyFallsBackToTheProxy(t *testing.T) {
	fs := newFake()
	fs.answer["sidecar api-2: tc qdisc add"] = "Error: Specified qdisc kind is unknown."
	fs.fail["sidecar api-2: tc qdisc add"] = errors.New("sidecar on api-2 exited 2")
	f, err := chaos.New("latency", chaos.Params{"delay": "50ms"})
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	id, err := in.Inject(context.Background(), f, nil, "api-2")
	require.NoError(t, err)
	require.Equal(t, []string{"sidecar api-2: tc qdisc add dev eth0 root netem delay 50ms", "route api-2 PROXY"}, fs.take())
	require.Equal(t, "tcp-proxy", in.Records()[0].Mechanism)
	require.NoError(t, in.Revert(context.Background(), id))
	require.Equal(t, []string{"route api-2 "}, fs.take())
}

// TestFailedInjectionLeavesNothingBroken: a fault whose mechanism fails is on the record with the
// stack's error, and a half-made iptables change is cleaned up.
func TestFailedInjectionLeavesNothingBroken(t *testing.T) {
	fs := newFake()
	fs.fail["kill api-1"] = errors.New("kill api-1: no such container")
	fs.fail["sidecar api-3: iptables -w -I"] = errors.New("sidecar on api-3 exited 4")
	ctx := context.Background()
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))

	kill, err := chaos.New("kill", nil)
	require.NoError(t, err)
	rec, err := in.Run(ctx, kill, nil, "api-1", time.Hour)
	require.ErrorContains(t, err, "no such container")
	require.Equal(t, "inject kill on api-1: kill api-1: no such container", rec.Error)
	require.Equal(t, []string{"kill api-1"}, fs.take(), "nothing to revert")

	loss, err := chaos.New("packet-loss", nil)
	require.NoError(t, err)
	_, err = in.Run(ctx, loss, nil, "api-3", time.Hour)
	require.ErrorContains(t, err, "exited 4")
	calls := fs.take()
	require.Len(t, calls, 2)
	require.Equal(t, "sidecar api-3: iptables -w -D OUTPUT ! -o lo -j DROP || true\niptables -w -D INPUT ! -i lo -j DROP || true",
		calls[1], "a partial insert is deleted, rule by rule, last first")
}

// TestHealthBracketsTheInjection: the stack's health before the fault is on the record, and a stack that
// is not ready after the revert makes the revert fail.
func TestHealthBracketsTheInjection(t *testing.T) {
	fs := newFake()
	fs.ready = errors.New("api-3: connection refused")
	env := chaos.NewEnv(fs, 1)
	env.RecoverTimeout = 10 * time.Millisecond
	in := chaos.NewInjector(env)
	f, err := chaos.New("pause", nil)
	require.NoError(t, err)
	rec, err := in.Run(context.Background(), f, nil, "api-1", 0)
	require.ErrorContains(t, err, "not ready")
	require.Equal(t, "api-3: connection refused", rec.HealthBefore)
	require.EqualValues(t, -1, rec.Ready)
}

// TestAnyAPIPicksANode: any-api resolves to an API node, the same ones for the same seed.
func TestAnyAPIPicksANode(t *testing.T) {
	pick := func(seed int64) []string {
		env := chaos.NewEnv(newFake(), seed)
		var out []string
		for range 8 {
			tg, err := env.Resolve(chaos.AnyAPI)
			require.NoError(t, err)
			require.Equal(t, arch.RoleAPI, tg.Role)
			out = append(out, tg.Name)
		}
		return out
	}
	require.Equal(t, pick(42), pick(42))
	_, err := chaos.NewEnv(newFake(), 1).Resolve("postgres")
	require.ErrorContains(t, err, `unknown target "postgres" (known: any-api, api-1, api-2, api-3, redis, nginx)`)
}

// TestRedisFailoverHitsTheCurrentPrimary: with Sentinels, the fault asks who is primary at injection and
// hits that container, not the initial primary; a failed question leaves nothing broken.
func TestRedisFailoverHitsTheCurrentPrimary(t *testing.T) {
	tests := []struct {
		mode           string
		inject, revert []string
	}{
		// After an earlier failover redis-2 is primary: it is the one killed and started again.
		{"kill", []string{"primary", "kill redis-2"}, []string{"start redis-2"}},
		{"pause", []string{"primary", "pause redis-2"}, []string{"unpause redis-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			fs := newFake()
			fs.ha, fs.primary = true, "redis-2"
			p := chaos.Params{"mode": tt.mode}
			f, err := chaos.New("redis-failover", p)
			require.NoError(t, err)
			in := chaos.NewInjector(chaos.NewEnv(fs, 1))
			id, err := in.Inject(context.Background(), f, p, "redis")
			require.NoError(t, err)
			require.Equal(t, tt.inject, fs.take())
			require.NoError(t, in.Revert(context.Background(), id))
			require.Equal(t, tt.revert, fs.take())
			require.Contains(t, in.Records()[0].Mechanism, "redis primary redis-2: ")
			require.Equal(t, "redis", in.Records()[0].Target, "as written")
			require.Equal(t, "redis-2", in.Records()[0].Resolved, "the container really hit")
		})
	}
	fs := newFake()
	fs.ha, fs.fail["primary"] = true, errors.New("no sentinel answers")
	f, err := chaos.New("redis-failover", nil)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, nil, "redis")
	require.ErrorContains(t, err, "redis-failover: who is primary: no sentinel answers")
	require.NotContains(t, fs.take(), "kill redis", "nothing is killed when the primary is unknown")
}

// TestRedisSplitBrainCutsBothSides: the fault asks who is primary at injection, cuts it and the API nodes
// of params.with from every other container but NGINX (rules in the minority's namespaces only, both
// directions), and heals exactly those rules. It refuses a stack without Sentinels and an API node the
// stack lacks, and a failed cut heals the members already cut.
func TestRedisSplitBrainCutsBothSides(t *testing.T) {
	// The rules are deleted last first.
	cut := func(op string, ips ...string) string {
		var b strings.Builder
		for i := range ips {
			if op == "-I" {
				fmt.Fprintf(&b, "iptables -w -I INPUT 1 -s %s -j DROP\niptables -w -I OUTPUT 1 -d %s -j DROP\n", ips[i], ips[i])
			} else {
				ip := ips[len(ips)-1-i]
				fmt.Fprintf(&b, "iptables -w -D OUTPUT -d %s -j DROP\niptables -w -D INPUT -s %s -j DROP\n", ip, ip)
			}
		}
		return strings.TrimSpace(b.String())
	}
	// After an earlier failover redis-2 is primary: the minority is redis-2 and api-1; the majority is
	// api-2, api-3, redis (now a replica), redis-3 and the Sentinels. nginx (10.0.0.3) is in neither.
	majority := []string{"10.0.0.12", "10.0.0.13", "10.0.0.2", "10.0.0.5", "10.0.0.6", "10.0.0.7"}
	fs := newFake()
	fs.ha, fs.primary = true, "redis-2"
	p := chaos.Params{"with": "[api-1]"}
	f, err := chaos.New("redis-split-brain", p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	id, err := in.Inject(context.Background(), f, p, "redis")
	require.NoError(t, err)
	require.Equal(t, []string{"primary", "sidecar redis-2: " + cut("-I", majority...), "sidecar api-1: " + cut("-I", majority...)}, fs.take())
	require.NoError(t, in.Revert(context.Background(), id))
	require.Equal(t, []string{"sidecar redis-2: " + cut("-D", majority...), "sidecar api-1: " + cut("-D", majority...)}, fs.take())
	require.Equal(t, "iptables drop {redis-2, api-1} <-> {api-2, api-3, redis, redis-3, sentinel-1, sentinel-2} via sidecars (redis primary redis-2)",
		in.Records()[0].Mechanism)
	require.Equal(t, "redis-2", in.Records()[0].Resolved, "the primary of that moment")

	// A failed cut on api-1 heals redis-2, already cut, and reports the error.
	fs = newFake()
	fs.ha = true
	fs.fail["sidecar api-1: iptables -w -I"] = errors.New("sidecar on api-1 exited 1")
	in = chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, p, "redis")
	require.ErrorContains(t, err, "redis-split-brain: cut api-1: sidecar on api-1 exited 1")
	calls := fs.take()
	require.Contains(t, calls, "sidecar redis: "+cut("-D", "10.0.0.12", "10.0.0.13", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"))

	// Without with, the primary is cut off alone: from every API node too.
	fs = newFake()
	fs.ha = true
	f, err = chaos.New("redis-split-brain", nil)
	require.NoError(t, err)
	in = chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, nil, "redis")
	require.NoError(t, err)
	require.Equal(t, []string{"primary", "sidecar redis: " + cut("-I", "10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7")}, fs.take())
	require.NoError(t, in.RevertAll(context.Background()))

	// Without Sentinels there is no split brain to make: refused, nothing touched.
	fs = newFake()
	in = chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, p, "redis")
	require.ErrorContains(t, err, "needs Redis Sentinels")
	require.Empty(t, fs.take())

	// An API node the stack does not have: refused before any rule.
	fs = newFake()
	fs.ha = true
	p = chaos.Params{"with": "api-9"}
	f, err = chaos.New("redis-split-brain", p)
	require.NoError(t, err)
	in = chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, p, "redis")
	require.ErrorContains(t, err, "with api-9: no such API node")
	require.Equal(t, []string{"primary"}, fs.take())
}

// TestPartitionFromTheCurrentPrimary: with Sentinels, partition from redis cuts the node from the primary
// of that moment (redis-2 after a failover), not from the container named redis, now a replica the node
// does not write to.
func TestPartitionFromTheCurrentPrimary(t *testing.T) {
	fs := newFake()
	fs.ha, fs.primary = true, "redis-2"
	p := chaos.Params{"from": "redis"}
	f, err := chaos.New("partition", p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	id, err := in.Inject(context.Background(), f, p, "api-1")
	require.NoError(t, err)
	require.Equal(t, []string{"primary", "sidecar api-1: iptables -w -I INPUT 1 -s 10.0.0.4 -j DROP\niptables -w -I OUTPUT 1 -d 10.0.0.4 -j DROP"}, fs.take())
	require.NoError(t, in.Revert(context.Background(), id))
	require.Equal(t, "iptables drop api-1<->redis-2 via sidecar", in.Records()[0].Mechanism)
}

// TestRedisLinkDelaysThroughAProxy: with a delay, each Redis data node gets a proxy of this process on
// Stack.HostIP; every node of the target lists its direct connections to Redis, sends new ones to the
// proxies (nat DNAT), adds its loss rules (on the link to the proxy, where its packets now go), closes the
// listed connections as they go idle, then rejects what is left of them. Targeting redis degrades every
// API node's link, and on a Redis HA stack the link to every data node (a replica may become primary
// during the fault), never the Sentinels'. Revert deletes every rule, last first, then closes the proxies.
func TestRedisLinkDelaysThroughAProxy(t *testing.T) {
	fs := newFake()
	fs.ha = true
	p := chaos.Params{"delay": "20ms", "jitter": "5ms", "loss": "100"}
	f, err := chaos.New("redis-link", p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	id, err := in.Inject(context.Background(), f, p, "redis")
	require.NoError(t, err)
	calls := fs.take()
	require.Len(t, calls, 3, "one sidecar per API node")
	slices.Sort(calls) // they run at once

	// The proxies' ports are free ports of this host, different every run: read them from the rules.
	ports := regexp.MustCompile(`--to-destination 127\.0\.0\.1:(\d+)`).FindAllStringSubmatch(calls[0], -1)
	require.Len(t, ports, 3, "one proxy per data node: redis, redis-2, redis-3")
	ips := []string{"10.0.0.2", "10.0.0.4", "10.0.0.5"}
	filter := "dport = :6379 and ( dst 10.0.0.2 or dst 10.0.0.4 or dst 10.0.0.5 )"
	var rules, rejects, deletes []string
	for i, ip := range ips {
		port := ports[i][1]
		rules = append(rules, fmt.Sprintf("-t nat %%s OUTPUT%%s -d %s -p tcp --dport 6379 -j DNAT --to-destination 127.0.0.1:%s", ip, port),
			fmt.Sprintf("%%s OUTPUT%%s -d 127.0.0.1 -p tcp --dport %s -j DROP", port),
			fmt.Sprintf("%%s INPUT%%s -s 127.0.0.1 -p tcp --sport %s -j DROP", port))
		rejects = append(rejects, fmt.Sprintf("%%s OUTPUT%%s -d %s -p tcp --dport 6379 ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset", ip))
	}
	all := append(append([]string(nil), rules...), rejects...)
	for i := range all {
		deletes = append(deletes, "iptables -w "+fmt.Sprintf(all[len(all)-1-i], "-D", ""))
	}
	for i := range rules {
		rules[i] = "iptables -w " + fmt.Sprintf(rules[i], "-I", " 1")
	}
	for i := range rejects {
		rejects[i] = "iptables -w " + fmt.Sprintf(rejects[i], "-I", " 1")
	}
	for i, node := range []string{"api-1", "api-2", "api-3"} {
		before, rest, ok := strings.Cut(calls[i], "\nfor try in $(seq 100); do\n")
		require.True(t, ok, calls[i])
		require.Equal(t, "sidecar "+node+": direct=$(ss -Htn '"+filter+"' | awk '{print $4}')\n"+strings.Join(rules, "\n"), before)
		loop, after, ok := strings.Cut(rest, "\ndone\n")
		require.True(t, ok, rest)
		require.Contains(t, loop, `ss -K -tn "`+filter+` and ( $idle )"`, "the loop closes the idle ones of the listed connections")
		require.Equal(t, strings.Join(rejects, "\n"), after, "the REJECT rules come after")
	}
	require.Equal(t, "tcp-proxy 20ms ± 5ms each way (iptables DNAT; direct connections closed: ss -K, REJECT) + iptables random drop 100% "+
		"on api-1, api-2, api-3 -> redis, redis-2, redis-3:6379 via sidecars", in.Records()[0].Mechanism)
	for _, port := range ports {
		c, err := net.Dial("tcp", "127.0.0.1:"+port[1])
		require.NoError(t, err, "the proxy listens while the fault lasts")
		c.Close()
	}

	require.NoError(t, in.Revert(context.Background(), id))
	calls = fs.take()
	require.Len(t, calls, 3)
	slices.Sort(calls)
	for i, node := range []string{"api-1", "api-2", "api-3"} {
		require.Equal(t, "sidecar "+node+": "+strings.Join(deletes, "\n"), calls[i], "every rule inserted is deleted, REJECTs first")
	}
	for _, port := range ports {
		_, err := net.Dial("tcp", "127.0.0.1:"+port[1])
		require.Error(t, err, "the proxy is closed")
	}
}

// TestRedisLinkFailsCleanly: when a node's rules cannot be inserted, the other nodes (their sidecars run
// at the same time) are healed, its own half-made insert is deleted and the proxy is closed: a failed
// injection leaves nothing.
func TestRedisLinkFailsCleanly(t *testing.T) {
	fs := newFake()
	fs.fail["sidecar api-2: "] = errors.New("sidecar on api-2 exited 1")
	p := chaos.Params{"delay": "10ms"}
	f, err := chaos.New("redis-link", p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(fs, 1))
	_, err = in.Inject(context.Background(), f, p, "redis")
	require.ErrorContains(t, err, "redis-link: rules on api-2: sidecar on api-2 exited 1")
	require.Equal(t, "inject redis-link on redis: redis-link: rules on api-2: sidecar on api-2 exited 1", in.Records()[0].Error)
	calls := fs.take()
	proxy := regexp.MustCompile(`127\.0\.0\.1:\d+`).FindString(calls[0])
	deletes := "iptables -w -D OUTPUT -d 10.0.0.2 -p tcp --dport 6379 ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset\n" +
		"iptables -w -t nat -D OUTPUT -d 10.0.0.2 -p tcp --dport 6379 -j DNAT --to-destination " + proxy
	var inserts, rest []string
	for _, c := range calls {
		if strings.Contains(c, ": direct=$(ss") {
			inserts = append(inserts, strings.SplitN(c, ":", 2)[0])
		} else {
			rest = append(rest, c)
		}
	}
	slices.Sort(inserts)
	slices.Sort(rest)
	require.Equal(t, []string{"sidecar api-1", "sidecar api-2", "sidecar api-3"}, inserts, "all at once")
	require.Equal(t, []string{"sidecar api-1: " + deletes, "sidecar api-2: " + strings.ReplaceAll(deletes, "\n", " || true\n") + " || true",
		"sidecar api-3: " + deletes}, rest, "api-1 and api-3 healed, api-2's partial insert deleted")
	_, err = net.Dial("tcp", proxy)
	require.Error(t, err, "the proxy is closed")
}

// TestResponseLossThatLostNothingIsAnError: a response-loss whose filter matched no request did nothing, and
// its record says so as an error (the run is invalid, as for a fault that did not run), with the count in the
// mechanism; the route is put back all the same.
func TestResponseLossThatLostNothingIsAnError(t *testing.T) {
	f := newFake()
	p := chaos.Params{"method": "POST", "path": "/v1/order"}
	fault, err := chaos.New("response-loss", p)
	require.NoError(t, err)
	in := chaos.NewInjector(chaos.NewEnv(f, 1))
	id, err := in.Inject(context.Background(), fault, p, "api-2")
	require.NoError(t, err)
	require.NoError(t, in.Revert(context.Background(), id))
	rec := in.Records()[0]
	require.Contains(t, rec.Mechanism, ": 0 of 0 matching answers lost")
	require.Contains(t, rec.Error, "response-loss lost no answer (0 requests matched all the answers to POST /v1/order* reset)")
	require.Equal(t, []string{"route api-2 PROXY", "route api-2 "}, f.take(), "routed through the proxy, then back")
}
