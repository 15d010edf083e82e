package target

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

func metricLine(t *testing.T, n *node, prefix string) string {
	t.Helper()
	res, err := http.Get(n.URL + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// requireBreakerOpens drives failing calls until the breaker is open and
// checks what clients see meanwhile: JSON 503 with Retry-After.
func requireBreakerOpens(t *testing.T, n *node, c client) {
	t.Helper()
	for range 4 {
		r := n.do("GET", "/v1/profile", nil, c.auth...)
		require.Equal(t, http.StatusServiceUnavailable, r.Code, "%s", r.Body)
		require.Equal(t, CodeStateStore, r.code(t))
		require.Equal(t, "1", r.Header.Get("Retry-After"))
	}
	// Open: further calls are refused without waiting on Redis, which the
	// breaker gauge and /readyz show.
	require.Equal(t, `refapi_redis_breaker_state{node="a"} 2`, metricLine(t, n, "refapi_redis_breaker_state"))
	ready := n.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, ready.Code)
	require.Equal(t, "open", ready.json(t)["breaker"])
	// Liveness is not readiness: the process itself is fine.
	require.Equal(t, http.StatusOK, n.do("GET", "/healthz", nil).Code)
}

// Redis killed and restarted empty (no persistence): the API recovers by
// itself, and the old session is honestly reported as not found.
func TestBreakerRedisKilledAndRestarted(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", nil)
	c := n.newClient("ada")
	require.Equal(t, http.StatusOK, n.do("GET", "/v1/profile", nil, c.auth...).Code)

	rs.Stop()
	requireBreakerOpens(t, n, c)

	rs.Start()
	require.Eventually(t, func() bool { return n.do("GET", "/readyz", nil).Code == http.StatusOK },
		10*time.Second, 100*time.Millisecond, "the API becomes ready by itself once Redis is back")
	// The breaker lets a probe through within its open period (1s) and closes.
	require.Eventually(t, func() bool {
		return n.do("GET", "/v1/profile", nil, c.auth...).code(t) == CodeSessionNotFound
	}, 5*time.Second, 100*time.Millisecond, "the restarted Redis has no data: the session is lost, and said so")
	require.Equal(t, `refapi_redis_breaker_state{node="a"} 0`, metricLine(t, n, "refapi_redis_breaker_state"))
}

// Redis frozen (SIGSTOP): calls time out until the breaker opens, then are
// refused fast; after SIGCONT the same session works again.
func TestBreakerRedisPausedAndResumed(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", func(c *Config) { c.RedisTimeout = 200 * time.Millisecond })
	c := n.newClient("ada")
	require.Equal(t, http.StatusOK, n.do("GET", "/v1/profile", nil, c.auth...).Code)

	rs.Pause()
	requireBreakerOpens(t, n, c)
	rs.Resume()
	require.Eventually(t, func() bool {
		return n.do("GET", "/v1/profile", nil, c.auth...).Code == http.StatusOK
	}, 10*time.Second, 100*time.Millisecond, "the same session is served again once Redis answers")
}
