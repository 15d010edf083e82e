package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"

	"github.com/stretchr/testify/require"
)

func TestCatalogueIsValid(t *testing.T) {
	entries, err := Catalogue()
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
		require.NotEmpty(t, e.Description, e.Name)
		require.True(t, e.Plan.SeedSet, "%s: built-ins are reproducible", e.Name)
		// Every built-in file is named after its scenario.
		require.Equal(t, "builtin:catalogue/"+e.Name+".yaml", e.Plan.Source)
	}
	require.Equal(t, []string{"balancer-compare", "cache-invalidation", "clock-skew-leeway", "clock-skew", "compare-architectures", "giant-tokens", "http2-edge", "kill-node", "packet-loss", "postgres-failover", "postgres-outage", "postgres-store", "redis-cluster", "redis-eviction",
		"redis-failover-min-replicas", "redis-failover", "redis-link", "redis-outage", "redis-split-brain", "refresh-tokens", "response-loss", "retry-storm", "rolling-restart", "steady-baseline", "tls-keepalive"}, names)
}

// TestClockSkewScenario: the offsets cross the leeway one after the other, each with steady state before it
// (at least MinFaultAt), so that each fault's window in the report holds one offset only.
func TestClockSkewScenario(t *testing.T) {
	p, err := Load("clock-skew")
	require.NoError(t, err)
	require.NotNil(t, p.TokenLeeway)
	require.Equal(t, 5*time.Second, *p.TokenLeeway)
	var offsets []string
	var end time.Duration
	for _, f := range p.Faults {
		require.Equal(t, "clock-skew", f.Kind)
		require.GreaterOrEqual(t, f.At-end, MinFaultAt, "steady state before %s", f.Params["offset"])
		offsets, end = append(offsets, f.Params["offset"]), f.At+f.For
	}
	require.Equal(t, []string{"3s", "10s", "60s"}, offsets)
}

func TestLoadBuiltinAndFile(t *testing.T) {
	p, err := Load("kill-node")
	require.NoError(t, err)
	require.Equal(t, "kill-node", p.Name)
	require.Equal(t, 40*time.Second, p.Duration())
	require.Len(t, p.Faults, 1)
	require.Equal(t, 10*time.Second, p.Faults[0].At)

	_, err = Load("no-such-scenario")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, err, "kill-node")
	_, err = Load("missing/file.yaml")
	require.ErrorContains(t, err, "missing/file.yaml")
}

func TestScaled(t *testing.T) {
	p, err := Load("kill-node")
	require.NoError(t, err)
	q := p.Scaled(0.25)
	require.Equal(t, 10*time.Second, q.Duration())
	require.Equal(t, 2500*time.Millisecond, q.Faults[0].At)
	require.Equal(t, 40*time.Second, p.Duration(), "scaling copies; the original is unchanged")
}

const good = `name: custom
seed: 9
architectures: [stateless, mine]
custom_architectures:
  - {name: mine, base: stateful, balancer: least-conn}
stack:
  replicas: 2
  redis: {persistence: everysec, maxmemory: 64mb, eviction: allkeys-lru}
clients: 10
phases:
  - {name: up, duration: 10s, from: 10/s, to: 600/m}
  - {duration: 20s, rate: 50}
mix: {profile.read: 3, order.create: 1}
retry: {attempts: 3, backoff: 20ms, max_backoff: 200ms, budget: 2s}
timeout: 1s
faults:
  - {at: 5s, for: 5s, kind: packet-loss, target: api-2, params: {percent: 25}}
thresholds:
  all: [latency.p99 < 300ms]
  mine: [sessions.lost == 0]
`

func TestParseFull(t *testing.T) {
	p, err := Parse("custom.yaml", []byte(good))
	require.NoError(t, err)
	require.Len(t, p.Architectures, 2)
	mine := p.Architectures[1]
	require.Equal(t, "mine", mine.Name)
	require.Equal(t, "cookie", mine.Auth, "inherited from the stateful base")
	require.Equal(t, "least-conn", string(mine.Balancer), "overridden")
	require.Zero(t, mine.TokenPad, "no pad unless the scenario asks")
	require.Equal(t, 2, p.Replicas)
	require.Equal(t, []Phase{{Name: "up", Duration: 10 * time.Second, From: 10, To: 10}, {Name: "phase-2", Duration: 20 * time.Second, From: 50, To: 50}}, p.Phases)
	require.Len(t, p.Mix, 2)
	require.Equal(t, "25", p.Faults[0].Params["percent"])
	require.Len(t, p.ThresholdsFor("stateless"), 1)
	require.Len(t, p.ThresholdsFor("mine"), 2)
}

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // each must appear in the error text
	}{
		// A typo in a field name is refused, with its position.
		{"unknown field", "name: x\nphasez: []\n", []string{"bad.yaml:2:1", `unknown field "phasez"`}},
		// Broken YAML.
		{"syntax", "name: x\nphases: [\n", []string{"bad.yaml:"}},
		// A duration that is not one.
		{"bad duration", "name: x\nphases:\n  - {duration: 10x, rate: 10/s}\n", []string{"bad.yaml:3:", "phases[0].duration", `"10x" is not a duration`}},
		// Rates: a bad unit, zero, and one no 2-core machine can send.
		{"bad rate unit", "name: x\nphases:\n  - {duration: 10s, rate: 10/h}\n", []string{"bad.yaml:3:", "phases[0].rate", "unknown unit /h"}},
		{"zero rate", "name: x\nphases:\n  - {duration: 10s, rate: 0/s}\n", []string{"phases[0].rate", "must be positive"}},
		{"impossible rate", "name: x\nphases:\n  - {duration: 10s, rate: 1000000/s}\n", []string{"phases[0].rate", "impossible here"}},
		// An unknown fault lists the known ones.
		{"unknown fault", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: meteor, target: api-1}\n", []string{"bad.yaml:5:", "faults[0].kind", `unknown fault "meteor"`, "packet-loss"}},
		// A known fault with a parameter it does not take.
		{"bad fault param", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1, params: {force: 1}}\n", []string{"faults[0].params", `unknown parameter "force"`}},
		{"bad percent", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: packet-loss, target: api-1, params: {percent: 150}}\n", []string{"faults[0].params", "percentage"}},
		// A node the stack will not have.
		{"bad target", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-4}\n", []string{"faults[0].target", `unknown target "api-4"`}},
		// A fault on a role it cannot break: before, the run skipped it and could pass without it.
		{"fault on wrong role", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 4s, for: 4s, kind: redis-outage, target: api-1}\n", []string{"bad.yaml:5:", "faults[0].target", "redis-outage cannot target api-1 (an API node): it targets redis"}},
		// A split brain needs Sentinels to elect another primary: one Redis has none.
		{"split brain without HA", "name: x\narchitectures: [stateless-ha, stateless]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-split-brain, target: redis, params: {with: [api-1]}}\n", []string{"bad.yaml:6:", "faults[0].kind", "redis-split-brain needs Redis Sentinels and replicas: architecture stateless has one Redis (use stateless-ha)"}},
		// Its API nodes are checked like a target: the stack has three.
		{"split brain with absent node", "name: x\narchitectures: [stateless-ha]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-split-brain, target: redis, params: {with: [api-1, api-5]}}\n", []string{"bad.yaml:6:", "faults[0].params", `redis-split-brain: unknown target "api-5"`}},
		{"split brain on a node", "name: x\narchitectures: [stateless-ha]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-split-brain, target: api-1, params: {with: api-2}}\n", []string{"faults[0].target", "cannot target api-1 (an API node): it targets redis"}},
		// A replica or a Sentinel is a target only where every architecture has one.
		{"replica without HA", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: redis-2}\n", []string{"bad.yaml:5:", "faults[0].target", "redis-2 is a Redis replica of a Redis HA stack, or a node of a Redis Cluster: architecture stateless has no such server"}},
		{"sentinel without HA", "name: x\narchitectures: [stateless-ha, stateful]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: pause, target: sentinel-1}\n", []string{"faults[0].target", "sentinel-1 is a Sentinel of a Redis HA stack: architecture stateful has no such server"}},
		{"sentinel past the three", "name: x\narchitectures: [stateless-ha]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: pause, target: sentinel-4}\n", []string{"faults[0].target", `unknown target "sentinel-4"`, "sentinel-1..sentinel-3"}},
		{"replica on attach", "name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api, redis: cache}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: redis-2}\n", []string{"faults[0].target", "an attached service (target.url) has no such server"}},
		// A Redis Cluster's nodes past redis-3 are no Redis HA stack's, and a cluster has no Sentinels.
		{"cluster node on HA", "name: x\narchitectures: [stateless-ha]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: redis-5}\n", []string{"faults[0].target", "redis-5 is a node of a Redis Cluster: architecture stateless-ha has no such server"}},
		{"sentinel on a cluster", "name: x\narchitectures: [stateless-cluster]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: pause, target: sentinel-2}\n", []string{"faults[0].target", "sentinel-2 is a Sentinel of a Redis HA stack: architecture stateless-cluster has no such server"}},
		// The Redis-wide faults hit "the stack's Redis", never a replica.
		{"redis-outage on a replica", "name: x\narchitectures: [stateless-ha]\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-outage, target: redis-3}\n", []string{"faults[0].target", "redis-outage cannot target redis-3 (a Redis replica): it targets redis"}},
		// min-replicas-to-write needs replicas: a single Redis would refuse every write.
		{"min replicas without HA", "name: x\narchitectures: [stateless-ha, stateless]\nstack:\n  redis: {min_replicas_to_write: 1}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"stack.redis.min_replicas_to_write", "architecture stateless has one Redis"}},
		// Per architecture: a base without Redis HA cannot take it either; the error names the entry's field.
		{"custom min replicas without HA", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, base: stateless, min_replicas_to_write: 1}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].min_replicas_to_write", "min_replicas_to_write 1 needs Redis replicas: architecture c has one Redis"}},
		{"min replicas past the replicas", "name: x\narchitectures: [stateless-ha]\nstack:\n  redis: {min_replicas_to_write: 3}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"stack.redis.min_replicas_to_write", "3: want 0 (off) to 2"}},
		{"latency on nginx", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 9s, for: 3s, kind: latency, target: nginx, params: {delay: 500ms}}\n", []string{"faults[0].target", "latency cannot target nginx"}},
		// A fault that outlasts the load, and one with no baseline before it.
		{"fault after end", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 25s, for: 10s, kind: kill, target: api-1}\n", []string{"faults[0].for", "after the load ends at 30s"}},
		{"no baseline", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 1s, for: 10s, kind: kill, target: api-1}\n", []string{"faults[0].at", "no baseline"}},
		{"unknown architecture", "name: x\narchitectures: [stateless, serverless]\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:2:", "architectures[1]", `unknown architecture "serverless"`, "stateful"}},
		{"bad custom knob", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, sessions: disk}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].sessions", `"disk"`}},
		{"unknown op", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nmix: {profile.read: 1, profile.delete: 1}\n", []string{"bad.yaml:4:", `mix."profile.delete"`, "unknown operation", "order.create"}},
		{"bad threshold", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nthresholds:\n  all: [latency.p99 < fast]\n", []string{"bad.yaml:5:", "thresholds.all[0]"}},
		// A recovery threshold with no fault: never measured, so never passed.
		{"recovery without fault", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nthresholds:\n  all: [recovery.seconds < 5]\n", []string{"bad.yaml:5:", "thresholds.all[0]", "recovery.seconds needs a fault"}},
		// A threshold on one fault's window must name a fault of the scenario, exactly one: by an index in
		// range, 0-based as the faults[0] of these messages...
		{"fault index out of range", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1}\nthresholds:\n  all:\n    - faults[1].errors.rate < 5%\n",
			[]string{"bad.yaml:8:7:", "thresholds.all[0]", "faults[1]: the scenario has 1 fault, faults[0] to faults[0] (faults[0] kill)"}},
		{"fault index without faults", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nthresholds:\n  all: [\"faults[0].latency.p99 < 1s\"]\n",
			[]string{"bad.yaml:5:9:", "thresholds.all[0]", "faults[0]: the scenario has no faults"}},
		// ...or by a kind the scenario has...
		{"fault kind absent", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1}\nthresholds:\n  stateless: ['faults[pause].errors.rate < 5%']\n",
			[]string{"bad.yaml:7:15:", "thresholds.stateless[0]", "faults[pause]: the scenario has no pause fault (faults[0] kill)"}},
		// ...once: two faults of the kind are refused, with the indexes to choose from.
		{"fault kind ambiguous", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1}\n  - {at: 15s, for: 5s, kind: kill, target: api-2}\nthresholds:\n  all:\n    - errors.rate < 1%\n    - faults[kill].errors.rate < 5%\n",
			[]string{"bad.yaml:10:7:", "thresholds.all[1]", "faults[kill] is ambiguous: faults[0], faults[1] are all kill; name one by its index, e.g. faults[0]"}},
		// The selector's own syntax is the parser's: the short name is refused with the one to write.
		{"fault metric short", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1}\nthresholds:\n  all:\n    - faults[0].p99 < 800ms\n",
			[]string{"bad.yaml:8:7:", "thresholds.all[0]", "column 11", "write faults[0].latency.p99"}},
		// In a flow list YAML reads the selector's brackets as a nested list: the decoder's error says how to write it.
		{"fault threshold in flow list", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-1}\nthresholds:\n  all: [errors.rate < 1%, faults[0].errors.rate < 5%]\n",
			[]string{"bad.yaml:7:", "a threshold on one fault has brackets", `quote it, "faults[0].errors.rate < 5%"`}},
		{"threshold for absent arch", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nthresholds:\n  stateful: [sessions.lost == 0]\n", []string{"bad.yaml:5:", "thresholds.stateful", "not an architecture of this scenario"}},
		// A user's image: the reference API's presets and knobs mean nothing to it.
		{"preset with image", "name: x\ntarget: {image: shop:dev}\narchitectures: [stateless]\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:3:", "architectures[0]", `"stateless" is a preset`, "target.image (shop:dev)"}},
		{"refapi knob with image", "name: x\ntarget: {image: shop:dev}\ncustom_architectures:\n  - {name: c, idempotency: false}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].idempotency", "only balancer applies"}},
		{"token pad with image", "name: x\ntarget: {image: shop:dev}\ncustom_architectures:\n  - {name: c, token_pad_bytes: 4096}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].token_pad_bytes", "only balancer applies"}},
		// A pad past every header limit on the path measures nothing new; the error names the field.
		// Refresh tokens live in the Redis session of a jwt design: the stateful preset has neither.
		{"refresh on stateful", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, base: stateful, refresh: 30s}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].refresh", "needs auth jwt and sessions redis"}},
		// An access token the API would count as 0 s.
		{"refresh too short", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, refresh: 500ms}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].refresh", "want at least 2s"}},
		// A grace without refresh means nothing.
		{"grace without refresh", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, refresh_grace: 5s}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].refresh_grace", "needs refresh"}},
		// Not a duration.
		{"refresh not a duration", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, refresh: soon}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].refresh", "is not a duration"}},
		// Access tokens that outlive the session.
		{"refresh past session", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, refresh: 2m}\nstack: {session_ttl: 1m}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"stack.session_ttl", "architecture c's refresh (2m0s)"}},
		// A user's image has no such knob.
		{"refresh with image", "name: x\ntarget: {image: shop:dev}\ncustom_architectures:\n  - {name: c, refresh: 30s}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].refresh", "only balancer applies"}},
		{"token pad too big", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, token_pad_bytes: 999999}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:4:", "custom_architectures[0].token_pad_bytes", "want 0 (off) to 262144"}},
		{"bad target port", "name: x\ntarget: {image: shop:dev, port: 70000}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:2:", "target.port", "70000"}},
		{"target env overrides", "name: x\ntarget: {image: shop:dev, env: {REDIS_URL: x}}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"target.env.REDIS_URL", "sets REDIS_URL itself"}},
		{"target without image", "name: x\ntarget: {port: 9090}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"target.image", "is required"}},
		// Attaching to a running project: chaosbench builds nothing, so what it would build is refused.
		{"attach without url", "name: x\ntarget: {compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:2:", "target.url", "is required"}},
		{"attach with architectures", "name: x\ntarget: {url: http://127.0.0.1:8080}\narchitectures: [stateless]\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:3:", "architectures", "starts nothing"}},
		{"attach fault on absent role", "name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-outage, target: redis}\n", []string{"bad.yaml:6:", "faults[0].target", "target.compose names no redis service"}},
		{"attach latency", "name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: latency, target: api-1}\n", []string{"faults[0].kind", "needs chaosbench's own NGINX"}},
		// clock-skew sets the reference API's clock offset through its admin endpoint: neither a user's image
		// nor an attached service has one.
		{"attach clock-skew", "name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: clock-skew, target: api-1, params: {offset: 30s}}\n", []string{"bad.yaml:6:", "faults[0].kind", "clock-skew acts through the reference API's admin endpoint", "an attached service (target.url)"}},
		// redis-link needs Redis' address whatever its target: an attached project must name its Redis.
		{"attach redis-link without redis", "name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-link, target: api-1, params: {loss: 5}}\n", []string{"bad.yaml:6:", "faults[0].kind", "redis-link acts on redis too, and target.compose names no redis service"}},
		{"redis-link without a part", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: redis-link, target: redis, params: {jitter: 5ms}}\n", []string{"faults[0].params", "jitter 5ms needs a delay"}},
		{"image clock-skew", "name: x\ntarget: {image: shop:dev}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: clock-skew, target: api-1, params: {offset: 30s}}\n", []string{"faults[0].kind", "a custom image (shop:dev)"}},
		// The token leeway is the reference API's knob.
		{"token_leeway with image", "name: x\ntarget: {image: shop:dev}\nstack: {token_leeway: 10s}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"bad.yaml:3:", "stack.token_leeway", "custom image (shop:dev)"}},
		{"bad token_leeway", "name: x\nstack: {token_leeway: -1s}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"stack.token_leeway", "must be positive"}},
		// A clock-skew fault without its offset.
		{"clock-skew without offset", "name: x\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: clock-skew, target: api-1}\n", []string{"faults[0].params", "offset is required"}},
		{"attach bad url", "name: x\ntarget: {url: 127.0.0.1:8080, compose: {project: shop, api: api}}\nphases:\n  - {duration: 30s, rate: 10/s}\n", []string{"target.url", "want http://HOST:PORT"}},
		// A value of the wrong type is named in the file's terms, not Go's.
		{"wrong type", "name: x\nclients: many\n", []string{"bad.yaml:2:10", `value "many" is of the wrong type: want a whole number`}},
		// A list where a mapping goes names the field, and for thresholds (a list in a suite file) the shape.
		{"thresholds as a list", "name: x\nthresholds:\n  - errors.rate < 1%\n", []string{"bad.yaml:3:3", "thresholds: sequence was used where mapping is expected (want a mapping of architecture names, or all, to lists"}},
		// No phases at all: nothing to run.
		{"no phases", "name: x\n", []string{"phases", "at least one phase"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// A user's image replaces the reference API in every architecture; with none named, one architecture
// is named after the image, and custom architectures vary only the balancer.
func TestTargetImage(t *testing.T) {
	p, err := Parse("t.yaml", []byte("name: x\ntarget: {image: registry.example/team/shop-api:dev, port: 9090, health: /ready, env: {MODE: strict}}\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
	require.NoError(t, err)
	require.Len(t, p.Architectures, 1)
	a := p.Architectures[0]
	require.Equal(t, "shop-api", a.Name)
	require.Equal(t, arch.Service{Image: "registry.example/team/shop-api:dev", Port: 9090, Health: "/ready", Env: map[string]string{"MODE": "strict"}}, a.Service)
	require.Empty(t, a.Auth, "no reference API knobs")
	require.Empty(t, a.Validate())

	p, err = Parse("t.yaml", []byte("name: x\ntarget: {image: shop:dev}\narchitectures: [rr, sticky]\ncustom_architectures:\n  - {name: rr}\n  - {name: sticky, balancer: sticky}\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
	require.NoError(t, err)
	require.Len(t, p.Architectures, 2)
	require.Equal(t, arch.Sticky, p.Architectures[1].Balancer)
	require.Equal(t, "shop:dev", p.Architectures[1].Service.Image)
	require.Equal(t, 8080, p.Architectures[1].Service.ListenPort())
}

// Attaching names one architecture after the project; any api-N is taken (the project's count is known
// only once attached).
func TestTargetAttach(t *testing.T) {
	p, err := Parse("t.yaml", []byte("name: x\ntarget: {url: http://127.0.0.1:8080, port: 9000, compose: {project: Shop, api: web, redis: cache}}\nphases:\n  - {duration: 30s, rate: 10/s}\nfaults:\n  - {at: 5s, for: 5s, kind: kill, target: api-7}\n  - {at: 12s, for: 5s, kind: redis-outage, target: redis}\n"))
	require.NoError(t, err)
	require.Equal(t, &Attach{URL: "http://127.0.0.1:8080", Project: "Shop", API: "web", Redis: "cache"}, p.Attach)
	require.Len(t, p.Architectures, 1)
	require.Equal(t, "shop", p.Architectures[0].Name)
	require.Equal(t, 9000, p.Architectures[0].Service.ListenPort())
}

// TestFaultThresholds: a threshold reads a fault's window by index or by a kind one fault has; the plan
// keeps which fault it reads.
func TestFaultThresholds(t *testing.T) {
	p, err := Parse("f.yaml", []byte(`name: x
phases:
  - {duration: 60s, rate: 10/s}
faults:
  - {at: 5s, for: 5s, kind: clock-skew, target: api-2, params: {offset: 3s}}
  - {at: 15s, for: 5s, kind: clock-skew, target: api-2, params: {offset: 60s}}
  - {at: 30s, for: 5s, kind: kill, target: api-1}
thresholds:
  all:
    - faults[0].errors.rate == 0
    - faults[1].errors.rate > 1%
    - faults[kill].latency.p99 < 2s
    - "faults[2].recovery.seconds < 10"
`))
	require.NoError(t, err)
	var got []string
	for _, th := range p.Thresholds {
		require.NotNil(t, th.Expr.Fault, th.Text)
		got = append(got, th.Expr.Fault.String()+" "+th.Expr.Metric.Name)
	}
	require.Equal(t, []string{"faults[0] faults[0].errors.rate", "faults[1] faults[1].errors.rate", "faults[kill] faults[kill].latency.p99",
		"faults[2] faults[2].recovery.seconds"}, got)
}

func TestEveryErrorIsReportedAtOnce(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("name: Bad Name\nclients: 0\nphases:\n  - {duration: 0s, rate: x}\ntimeout: soon\n"))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 5, err.Error())
}

// TestRedisLinkEverywhere: redis-link runs on the bundled stack (one Redis or Redis HA), on a user's
// image and on an attached project that names its Redis: the sidecars and the proxy on the stack's
// network need neither the reference API nor chaosbench's NGINX. Aimed at redis without a Redis service,
// the target's own check refuses it, once.
func TestRedisLinkEverywhere(t *testing.T) {
	faults := "faults:\n  - {at: 5s, for: 5s, kind: redis-link, target: api-1, params: {delay: 20ms, jitter: 10ms, loss: 1}}\n" +
		"  - {at: 15s, for: 5s, kind: redis-link, target: redis, params: {loss: 2}}\n"
	phases := "phases:\n  - {duration: 30s, rate: 10/s}\n"
	for _, target := range []string{
		"architectures: [stateless, stateless-ha]\n",
		"target: {image: shop:dev}\n",
		"target: {url: http://127.0.0.1:8080, compose: {project: shop, api: api, redis: cache}}\n",
	} {
		p, err := Parse("t.yaml", []byte("name: x\n"+target+phases+faults))
		require.NoError(t, err, target)
		require.Len(t, p.Faults, 2)
	}
	_, err := Parse("t.yaml", []byte("name: x\ntarget: {url: http://127.0.0.1:8080, compose: {project: shop, api: api}}\n"+phases+
		"faults:\n  - {at: 5s, for: 5s, kind: redis-link, target: redis, params: {loss: 2}}\n"))
	require.Error(t, err)
	require.Equal(t, 1, strings.Count(err.Error(), "names no redis service"), err.Error())
}

// TestRedisHATargets: on Redis HA architectures the replicas and Sentinels are targets of the
// container-wide faults, and a split brain names its API nodes.
func TestRedisHATargets(t *testing.T) {
	p, err := Parse("ha.yaml", []byte(`name: x
architectures: [stateless-ha]
phases:
  - {duration: 60s, rate: 10/s}
faults:
  - {at: 5s, for: 5s, kind: kill, target: redis-3}
  - {at: 15s, for: 5s, kind: pause, target: sentinel-2}
  - {at: 25s, for: 5s, kind: restart, target: sentinel-3}
  - {at: 35s, for: 5s, kind: redis-split-brain, target: redis, params: {with: [api-1, api-2]}}
`))
	require.NoError(t, err)
	require.Len(t, p.Faults, 4)
	require.Equal(t, "[api-1 api-2]", p.Faults[3].Params["with"])
}

// TestMinReplicasPerArchitecture: stack.redis.min_replicas_to_write is every architecture's that does not
// set its own, so that one scenario compares stateless-ha with and without it.
func TestMinReplicasPerArchitecture(t *testing.T) {
	p, err := Parse("m.yaml", []byte(`name: x
architectures: [stateless-ha, bounded, off]
custom_architectures:
  - {name: bounded, base: stateless-ha, min_replicas_to_write: 1}
  - {name: off, base: stateless-ha, min_replicas_to_write: 0}
stack:
  redis: {min_replicas_to_write: 2}
phases:
  - {duration: 30s, rate: 10/s}
`))
	require.NoError(t, err)
	var got []int
	for _, a := range p.Architectures {
		got = append(got, a.MinReplicasToWrite)
	}
	require.Equal(t, []int{2, 1, 0}, got, "the stack's for the preset, each custom architecture's own")
}

// The refresh knob reaches the API's environment, unscaled: the runner picks its architectures before it
// scales the plan, so a scaled lifetime would be the summary's word only.
func TestRefreshKnob(t *testing.T) {
	p, err := Parse("x.yaml", []byte("name: x\narchitectures: [r]\ncustom_architectures:\n  - {name: r, base: stateless-ha, refresh: 20s, refresh_grace: 5s}\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
	require.NoError(t, err)
	env := p.Architectures[0].APIEnv()
	require.Equal(t, "20s", env["ACCESS_TTL"])
	require.Equal(t, "5s", env["REFRESH_GRACE"])
	require.Equal(t, 20*time.Second, p.Scaled(0.5).Architectures[0].Refresh)
	q, err := Parse("y.yaml", []byte("name: y\nphases:\n  - {duration: 30s, rate: 10/s}\n"))
	require.NoError(t, err)
	_, on := q.Architectures[0].APIEnv()["ACCESS_TTL"]
	require.False(t, on, "no refresh unless the scenario asks")
}
