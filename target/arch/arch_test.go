package arch

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPresets(t *testing.T) {
	require.Equal(t, []string{"stateful", "stateless", "stateless-cluster", "stateless-ha", "stateless-no-idempotency", "stateless-postgres"}, PresetNames())
	for _, n := range PresetNames() {
		a, err := Preset(n)
		require.NoError(t, err)
		require.Equal(t, n, a.Name)
		require.Empty(t, a.Validate(), "preset %s is valid", n)
	}
	_, err := Preset("serverless")
	require.ErrorContains(t, err, `unknown architecture "serverless" (known: stateful, stateless, stateless-cluster, stateless-ha, stateless-no-idempotency, stateless-postgres)`)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		arch Arch
		want []string // every error, each starting with its knob
	}{
		{"stateless knobs", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin}, nil},
		{"stateful knobs", Arch{Auth: "cookie", Sessions: "memory", Concurrency: "none", Balancer: Sticky}, nil},
		// Every bad knob is reported at once, not the first only.
		{"all wrong", Arch{Auth: "basic", Sessions: "disk", Concurrency: "lock", Balancer: "ip-hash"}, []string{
			`auth "basic": want jwt or cookie`, `sessions "disk": want redis or memory`,
			`concurrency "lock": want etag or none`, `balancer "ip-hash": want round-robin, least-conn, sticky or haproxy`}},
		// HAProxy in NGINX's place, for the reference API and for a user's image alike.
		{"haproxy", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: HAProxy}, nil},
		{"haproxy on an image", Arch{Service: Service{Image: "mine:1"}, Balancer: HAProxy}, nil},
		// The edge knobs render NGINX's configuration (TLS, keep-alive to the nodes, stub_status): refused.
		{"haproxy with tls", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: HAProxy,
			Edge: Edge{TLS: true, Measure: true}}, []string{"balancer haproxy: the edge knobs"}},
		// HTTP/2 over TLS with keep-alive: what NGINX and the load engine speak.
		{"http2 over tls", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin,
			Edge: Edge{TLS: true, HTTP2: true, Measure: true}}, nil},
		// No cleartext h2c: HTTP/2 is negotiated in the TLS handshake.
		{"http2 without tls", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin,
			Edge: Edge{HTTP2: true, Measure: true}}, []string{"http2 needs tls: true"}},
		// A connection per request leaves HTTP/2 nothing to multiplex.
		{"http2 without keep-alive", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin,
			Edge: Edge{TLS: true, HTTP2: true, NoClientKeepAlive: true, Measure: true}}, []string{"http2 needs client_keepalive: true"}},
		// HTTP/2 is NGINX's listen option like the other edge knobs: refused on HAProxy.
		{"haproxy with http2", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: HAProxy,
			Edge: Edge{TLS: true, HTTP2: true, Measure: true}}, []string{"balancer haproxy: the edge knobs (tls, http2,"}},
		// An empty balancer is not NGINX's default: the scenario or the preset must say.
		{"no balancer", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag"}, []string{`balancer "": want`}},
		// A token pad within 0..256 KiB is a reference API knob like the others.
		{"token pad", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin, TokenPad: 70 << 10}, nil},
		// A negative or huge pad is a typo, named by the scenario's field.
		{"token pad out of range", Arch{Auth: "jwt", Sessions: "redis", Concurrency: "etag", Balancer: RoundRobin, TokenPad: -1},
			[]string{"token_pad_bytes -1: want 0 (off) to 262144"}},
		// A user's image has no pad knob.
		{"token pad on an image", Arch{Service: Service{Image: "mine:1"}, Balancer: RoundRobin, TokenPad: 1024},
			[]string{"token_pad_bytes is a knob of the reference API"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.arch.Validate()
			require.Len(t, errs, len(tt.want))
			for i, w := range tt.want {
				require.ErrorContains(t, errs[i], w)
			}
		})
	}
}

func TestAPIEnv(t *testing.T) {
	a, err := Preset("stateful")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"AUTH": "cookie", "SESSIONS": "memory", "IDEMPOTENCY": "off",
		"CONCURRENCY": "none"}, a.APIEnv())
	a, err = Preset("stateless")
	require.NoError(t, err)
	require.Equal(t, "on", a.APIEnv()["IDEMPOTENCY"])
	_, set := a.APIEnv()["TOKEN_PAD_BYTES"]
	require.False(t, set, "no pad: the environment is as it always was")
	a.TokenPad = 8 << 10
	require.Equal(t, "8192", a.APIEnv()["TOKEN_PAD_BYTES"])
}

func TestRoleOf(t *testing.T) {
	tests := []struct {
		name string
		want Role
	}{
		{NodeName(1), RoleAPI}, // api-1
		{"api-12", RoleAPI},
		{"redis", RoleRedis},
		{"nginx", RoleNginx},
		{RedisReplicaName(1), RoleReplica},  // redis-2, a RedisHA replica
		{SentinelName(3), RoleSentinel},     // sentinel-3
		{"any-api", ""},                     // a target spec, not a container name (chaos.RoleOf reads it)
		{"postgres", RolePostgres},          // the PostgreSQL server of a store: postgres architecture
		{"postgres-2", RolePostgresStandby}, // its standby (postgres_standby)
		{"mysql", ""},                       // no container of the stack
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, RoleOf(tt.name), tt.name)
	}
}

// TestRedisHA checks the HA preset's environment and the Sentinels' configuration.
func TestRedisHA(t *testing.T) {
	a, err := Preset("stateless-ha")
	require.NoError(t, err)
	require.True(t, a.RedisHA)
	require.Equal(t, MasterName, a.APIEnv()["REDIS_MASTER_NAME"])
	s, err := Preset("stateless")
	require.NoError(t, err)
	require.NotContains(t, s.APIEnv(), "REDIS_MASTER_NAME", "without HA the environment is as it always was")
	ips := []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")}
	require.Equal(t, "10.0.0.5:26379,10.0.0.6:26379", SentinelAddrs(ips))
	conf := SentinelConf(netip.MustParseAddr("10.0.0.2"))
	require.Contains(t, conf, "sentinel monitor mymaster 10.0.0.2 6379 2\n")
	require.Contains(t, conf, "sentinel down-after-milliseconds mymaster 1500\n")
	require.Contains(t, conf, "sentinel failover-timeout mymaster 6000\n")

	// min-replicas-to-write counts replicas: 1 or 2 with Redis HA, none on one Redis.
	for _, tt := range []struct {
		base string
		n    int
		err  string
	}{
		{"stateless-ha", 1, ""},
		{"stateless-ha", 2, ""},
		{"stateless-ha", 3, "min_replicas_to_write 3: want 0 (off) to 2"}, // more than there are
		{"stateless", 0, ""}, // off is fine anywhere
		{"stateless", 1, "min_replicas_to_write 1 needs Redis replicas: architecture stateless has one Redis"},
		{"stateless-cluster", 1, ""}, // each cluster primary has one replica
		{"stateless-cluster", 2, "min_replicas_to_write 2: a Redis Cluster primary has 1 replica"},
	} {
		a, err := Preset(tt.base)
		require.NoError(t, err)
		a.MinReplicasToWrite = tt.n
		if tt.err == "" {
			require.Empty(t, a.Validate(), "%s %d", tt.base, tt.n)
		} else {
			require.ErrorContains(t, errors.Join(a.Validate()...), tt.err)
		}
	}
}

func TestRedisClusterArch(t *testing.T) {
	a, err := Preset("stateless-cluster")
	require.NoError(t, err)
	require.True(t, a.RedisCluster)
	require.Empty(t, a.Validate())
	require.Equal(t, []string{"redis", "redis-2", "redis-6"}, []string{ClusterNodeName(1), ClusterNodeName(2), ClusterNodeName(6)})
	ips := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.4")}
	require.Equal(t, "10.0.0.2:6379,10.0.0.4:6379", ClusterAddrs(ips))
	require.Contains(t, strings.Join(ClusterServerArgs(ips[1]), " "), "--cluster-enabled yes --cluster-config-file /tmp/nodes.conf --cluster-node-timeout 1500 --cluster-announce-ip 10.0.0.4")
	// What a cluster does not go with, each named.
	for _, tt := range []struct {
		edit func(*Arch)
		err  string
	}{
		{func(a *Arch) { a.RedisHA = true }, "does not go with Sentinels"},             // two failover mechanisms
		{func(a *Arch) { a.Store = StorePostgres }, "does not go with store postgres"}, // untried together
	} {
		b := a
		tt.edit(&b)
		require.ErrorContains(t, errors.Join(b.Validate()...), tt.err)
	}
}
