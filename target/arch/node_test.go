package arch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRedisServerArgs: the settings a scenario gives Redis reach its command line, in Docker and in a cluster.
func TestRedisServerArgs(t *testing.T) {
	base := []string{"redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--port", "6379", "--dir", "/tmp", "--save", ""}
	tests := []struct {
		name string
		cfg  RedisConfig
		a    Arch
		want []string // after base
	}{
		// no persistence: no AOF, and no snapshots (base)
		{"none", RedisConfig{Persistence: PersistNone}, Arch{}, []string{"--appendonly", "no"}},
		// AOF fsynced every second, with a memory limit and its eviction policy
		{"everysec", RedisConfig{Persistence: PersistEverysec, MaxMemory: "64mb", Eviction: "allkeys-lru"}, Arch{},
			[]string{"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"}},
		// the architecture's replica guard comes with its lag
		{"min replicas", RedisConfig{}, Arch{MinReplicasToWrite: 1},
			[]string{"--appendonly", "no", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, append(base, tt.want...), tt.a.RedisServerArgs(tt.cfg))
		})
	}
}

// TestNodeEnv: the reference API gets its knobs and settings; a user's image only NODE_ID, REDIS_URL and its
// own target.env, and none of the reference API's secrets.
func TestNodeEnv(t *testing.T) {
	ref, err := Preset("stateless")
	require.NoError(t, err)
	env := ref.NodeEnv("api-1", "redis://r:6379/0", "s3cret")
	for k, v := range map[string]string{"NODE_ID": "api-1", "REDIS_URL": "redis://r:6379/0", "JWT_SECRET": "s3cret",
		"AUTH": "jwt", "SESSIONS": "redis", "IDEMPOTENCY": "on", "ADDR": ":8080", "ADMIN_ADDR": ":9090"} {
		require.Equal(t, v, env[k], k)
	}
	custom := Arch{Name: "shop", Service: Service{Image: "shop:dev", Env: map[string]string{"PAY": "1"}}}
	require.Equal(t, map[string]string{"NODE_ID": "api-2", "REDIS_URL": "redis://r:6379/0", "PAY": "1"},
		custom.NodeEnv("api-2", "redis://r:6379/0", "s3cret"))
}
