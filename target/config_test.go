package target

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // every fragment must appear; none means valid
	}{
		// The documented defaults plus a secret form a valid node.
		{"defaults", func(c *Config) {}, nil},
		// Sentinel discovery needs the primary's name.
		{"sentinels without master name", func(c *Config) { c.RedisSentinels, c.RedisMasterName = "10.0.0.6:26379", "" }, []string{"REDIS_MASTER_NAME"}},
		// jwt mode without a secret must refuse to start, naming the variable.
		{"missing secret", func(c *Config) { c.JWTSecret = "" }, []string{"JWT_SECRET: is required"}},
		// A short secret is brute-forceable.
		{"short secret", func(c *Config) { c.JWTSecret = "short" }, []string{"JWT_SECRET: is 5 bytes; at least 32"}},
		// Cookie mode needs no secret.
		{"cookie without secret", func(c *Config) { c.Auth, c.JWTSecret = AuthCookie, "" }, nil},
		// All problems are reported at once.
		{"several", func(c *Config) { c.Auth = "x"; c.Sessions = "disk"; c.BcryptCost = 2 }, []string{"AUTH", "SESSIONS", "BCRYPT_COST"}},
		{"asymmetric without key", func(c *Config) { c.JWTAlg = "RS256" }, []string{"JWT_PRIVATE_KEY_FILE"}},
		{"unknown alg", func(c *Config) { c.JWTAlg = "none" }, []string{`JWT_ALG: "none"`}},
		// A negative pad, or one past any header limit on the path, is a typo.
		{"pad out of range", func(c *Config) { c.TokenPadBytes = MaxTokenPadBytes + 1 }, []string{"TOKEN_PAD_BYTES"}},
		// The resource cache sits in front of PostgreSQL: with STORE=redis there is nothing behind it.
		{"cache without postgres", func(c *Config) { c.CacheTTL = 5 * time.Second }, []string{"CACHE_TTL: needs STORE=postgres"}},
		// With PostgreSQL it is accepted.
		{"cache with postgres", func(c *Config) {
			c.Store, c.PostgresDSN, c.CacheTTL = StorePostgres, "postgres://postgres@127.0.0.1:1/postgres", 5*time.Second
		}, nil},
		// A negative TTL is a typo, not "off".
		{"negative cache ttl", func(c *Config) { c.CacheTTL = -time.Second }, []string{"CACHE_TTL: must not be negative"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("redis://127.0.0.1:1/0", "n")
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, frag := range tc.wantErr {
				require.Contains(t, err.Error(), frag)
			}
		})
	}
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"AUTH": "cookie", "SESSIONS": "memory", "IDEMPOTENCY": "off", "CONCURRENCY": "none",
		"SESSION_TTL": "90s", "BCRYPT_COST": "5", "NODE_ID": "from-env",
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	finish := cfg.RegisterFlags(fs, func(k string) string { return env[k] })
	require.NoError(t, fs.Parse([]string{"--node-id", "from-flag"}))
	require.NoError(t, finish())
	require.Equal(t, AuthCookie, cfg.Auth)
	require.Equal(t, SessionsMemory, cfg.Sessions)
	require.False(t, cfg.Idempotency)
	require.Equal(t, ConcurrencyNone, cfg.Concurrency)
	require.Equal(t, 90*time.Second, cfg.SessionTTL)
	require.Equal(t, 5, cfg.BcryptCost)
	require.Equal(t, "from-flag", cfg.NodeID, "a flag wins over the environment")

	bad := DefaultConfig()
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	finish = bad.RegisterFlags(fs, func(k string) string {
		return map[string]string{"SESSION_TTL": "soon", "IDEMPOTENCY": "maybe"}[k]
	})
	require.NoError(t, fs.Parse(nil))
	err := finish()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "SESSION_TTL") && strings.Contains(err.Error(), "IDEMPOTENCY"), err.Error())
}
