package target

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// TestFailoverOptions: with REDIS_SENTINELS the failover client gets the Sentinels, the primary's name,
// REDIS_URL's database and password, and the same no-retry timeouts as the plain client.
func TestFailoverOptions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RedisSentinels = " 10.0.0.6:26379,10.0.0.7:26379,,10.0.0.8:26379 "
	opt, err := redis.ParseURL("redis://:pw@127.0.0.1:6379/3")
	require.NoError(t, err)
	opt.MaxRetries, opt.ReadTimeout = -1, 700*time.Millisecond
	fo := failoverOptions(cfg, opt)
	require.Equal(t, []string{"10.0.0.6:26379", "10.0.0.7:26379", "10.0.0.8:26379"}, fo.SentinelAddrs)
	require.Equal(t, "mymaster", fo.MasterName)
	require.Equal(t, 3, fo.DB)
	require.Equal(t, "pw", fo.Password)
	require.Equal(t, -1, fo.MaxRetries, "a lost reply must not run a script twice")
	require.Equal(t, 700*time.Millisecond, fo.ReadTimeout)
}
