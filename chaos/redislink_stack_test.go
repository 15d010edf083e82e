package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

var signups atomic.Int64

// signupVia creates a user through one node (NGINX's per-node route): one Redis round trip on the
// reference API. It returns the status (0 on a transport error) and how long it took.
func signupVia(s *stack.Stack, node string) (int, time.Duration) {
	start := time.Now()
	code, _, _ := do(http.MethodPost, nodeURL(s, node, "/v1/users"),
		fmt.Sprintf(`{"username":"link-%d-%d","password":"correct-horse"}`, os.Getpid(), signups.Add(1)))
	return code, time.Since(start)
}

// redisClientsFrom counts Redis' client connections whose source address is ip: a node's direct
// connections come from its own address, the ones a redis-link proxy makes for it from the host's.
func redisClientsFrom(t *testing.T, rdb *redis.Client, ip string) int {
	t.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	require.NoError(t, err)
	return strings.Count(list, " addr="+ip+":")
}

// noRulesLeft checks a node's namespace for anything redis-link inserts.
func noRulesLeft(t *testing.T, s *stack.Stack, node string) {
	t.Helper()
	out, err := s.Sidecar(context.Background(), node, "iptables-save")
	require.NoError(t, err)
	for _, bit := range []string{"6379", "DNAT --to-destination " + s.HostIP().String(), "statistic"} {
		require.NotContains(t, out, bit, "revert left a rule in %s's namespace", node)
	}
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// TestRedisLinkDelaysOneNodesRedisCalls: a 50 ms delay on api-2's link to Redis slows api-2's requests
// that touch Redis by at least the round trip (2 × 50 ms) and nothing else: api-1 keeps its direct
// connections, and a request of api-2 that does not touch Redis is not delayed at all. After the revert
// api-2 talks to Redis directly again and no rule is left.
//
// Margins: the proxy holds each chunk with time.Sleep until arrival + delay, which never returns early,
// so every signup through api-2 (one Redis command: its request and its reply each pass the proxy once)
// takes at least 100 ms, however noisy the machine: a hard lower bound, asserted per request. That api-1
// is not slowed is asserted by where its connections come from (no timing), and by comparing medians of
// requests sent in alternation to api-1 and api-2, so that a stall of this 2-core machine hits both
// alike: api-2's median carries the 100 ms that api-1's does not.
func TestRedisLinkDelaysOneNodesRedisCalls(t *testing.T) {
	s := sharedStack(t)
	const delay = 50 * time.Millisecond
	rdb := redis.NewClient(&redis.Options{Addr: s.RedisAddr})
	defer rdb.Close()
	api1, _ := s.Lookup("api-1")
	api2, _ := s.Lookup("api-2")
	// pairs signs up through api-1 then api-2, n times, and returns the durations of each.
	pairs := func(n int) (d1, d2 []time.Duration) {
		for range n {
			c1, t1 := signupVia(s, "api-1")
			c2, t2 := signupVia(s, "api-2")
			require.Equal(t, http.StatusCreated, c1)
			require.Equal(t, http.StatusCreated, c2)
			d1, d2 = append(d1, t1), append(d2, t2)
		}
		return d1, d2
	}
	b1, b2 := pairs(9)
	t.Logf("before: api-1 median %s, api-2 median %s", median(b1), median(b2))

	in, id := inject(t, s, "redis-link", chaos.Params{"delay": delay.String()}, "api-2")
	require.Equal(t, "tcp-proxy 50ms each way (iptables DNAT; direct connections closed: ss -K, REJECT) on api-2 -> redis:6379 via sidecar",
		in.Records()[0].Mechanism)
	d1, d2 := pairs(9)
	t.Logf("during: api-1 median %s, api-2 median %s (min %s)", median(d1), median(d2), slices.Min(d2))
	for i, d := range d2 {
		require.GreaterOrEqual(t, d, 2*delay, "signup %d through api-2 carries a delayed Redis round trip", i)
	}
	require.Less(t, median(d1), median(d2), "api-1, asked in alternation with api-2, is not delayed")
	require.Zero(t, redisClientsFrom(t, rdb, api2.IP.String()), "api-2 reaches Redis only through the proxy")
	require.Positive(t, redisClientsFrom(t, rdb, api1.IP.String()), "api-1 still reaches Redis directly")
	// The client side of api-2 is not touched: /healthz does not ask Redis, and is not delayed by the proxy.
	start := time.Now()
	code, node, err := do(http.MethodGet, nodeURL(s, "api-2", "/healthz"), "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "api-2", node)
	t.Logf("during: api-2 /healthz %s", time.Since(start))

	require.NoError(t, in.Revert(context.Background(), id))
	noRulesLeft(t, s, "api-2")
	a1, a2 := pairs(9)
	t.Logf("after: api-1 median %s, api-2 median %s", median(a1), median(a2))
	require.Positive(t, redisClientsFrom(t, rdb, api2.IP.String()), "api-2 reconnected to Redis directly")
	// Not timed: the proxy is gone, so no request can carry its delay; the medians are logged above.
}

// TestRedisLinkLossCutsOneNodesRedisCalls: 100% loss on api-3's link to Redis fails every request of api-3
// that needs Redis (its Redis timeout, 500 ms, then its circuit breaker: 503) while api-1 serves them, and
// api-3 still answers what needs no Redis: the client side is not cut. Revert heals it. No timing is
// asserted: at 100% no Redis command of api-3 can complete, so the outcome is certain.
func TestRedisLinkLossCutsOneNodesRedisCalls(t *testing.T) {
	s := sharedStack(t)
	in, id := inject(t, s, "redis-link", chaos.Params{"loss": "100"}, "api-3")
	require.Equal(t, "iptables random drop 100% on api-3 -> redis:6379 via sidecar", in.Records()[0].Mechanism)
	for i := range 5 {
		code, d := signupVia(s, "api-3")
		require.NotEqual(t, http.StatusCreated, code, "signup %d through api-3 (%s)", i, d)
		t.Logf("api-3 signup %d: %d in %s", i, code, d)
		code, _ = signupVia(s, "api-1")
		require.Equal(t, http.StatusCreated, code, "api-1 still writes to Redis")
	}
	code, node, err := do(http.MethodGet, nodeURL(s, "api-3", "/healthz"), "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "api-3 itself is reachable")
	require.Equal(t, "api-3", node)

	require.NoError(t, in.Revert(context.Background(), id))
	noRulesLeft(t, s, "api-3")
	require.Eventually(t, func() bool { c, _ := signupVia(s, "api-3"); return c == http.StatusCreated },
		10*time.Second, 100*time.Millisecond, "api-3 writes to Redis again after the revert")
}

// TestRedisLinkOnAUsersImage: the fault needs nothing of the reference API. On a stack whose nodes run a
// user's image (examples/naiveshop, which pings Redis with no timeout of its own on /readyz), a 40 ms delay
// on every node's link (target redis) slows each node's /readyz by at least the round trip, 80 ms (hard
// lower bound, as above); every node reaches Redis through the proxies only; revert leaves no rule.
func TestRedisLinkOnAUsersImage(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shop := arch.Arch{Name: "naiveshop", Balancer: arch.RoundRobin,
		Service: arch.Service{Image: "chaosbench/naiveshop:dev", Port: 8080, Health: "/readyz", Env: map[string]string{"PAYMENT_DELAY": "1ms"}}}
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-link-image-%d", os.Getpid())),
		stack.WithArchitecture(shop), stack.WithReplicas(2), stack.WithUpstreamTimeout(2*time.Second))
	rdb := redis.NewClient(&redis.Options{Addr: s.RedisAddr})
	defer rdb.Close()
	const delay = 40 * time.Millisecond
	ready := func(node string) time.Duration {
		start := time.Now()
		code, _, err := do(http.MethodGet, nodeURL(s, node, "/readyz"), "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		return time.Since(start)
	}
	in, id := inject(t, s, "redis-link", chaos.Params{"delay": delay.String()}, "redis")
	require.Contains(t, in.Records()[0].Mechanism, "on api-1, api-2 -> redis:6379 via sidecars")
	for _, node := range []string{"api-1", "api-2"} {
		for i := range 3 {
			require.GreaterOrEqual(t, ready(node), 2*delay, "%s /readyz %d pings Redis through the proxy", node, i)
		}
		c, _ := s.Lookup(node)
		require.Zero(t, redisClientsFrom(t, rdb, c.IP.String()), "%s reaches Redis only through the proxy", node)
	}
	require.NoError(t, in.Revert(ctx, id))
	for _, node := range []string{"api-1", "api-2"} {
		noRulesLeft(t, s, node)
		t.Logf("after: %s /readyz %s", node, ready(node))
		c, _ := s.Lookup(node)
		require.Positive(t, redisClientsFrom(t, rdb, c.IP.String()), "%s reconnected directly", node)
	}
}

// TestRedisLinkOnRedisHA: on a stateless-ha stack the API nodes find the primary through the Sentinels
// (go-redis' failover client) and then dial it like any Redis: the DNAT rules for every data node send
// that connection through the primary's proxy too, so api-1's writes carry the round trip (hard lower
// bound, as above) while api-2 keeps its direct connections to the primary.
func TestRedisLinkOnRedisHA(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-link-ha-%d", os.Getpid())),
		stack.WithArch("stateless-ha"), stack.WithReplicas(2), stack.WithUpstreamTimeout(2*time.Second))
	rdb := redis.NewClient(&redis.Options{Addr: s.RedisAddr})
	defer rdb.Close()
	const delay = 50 * time.Millisecond
	in, id := inject(t, s, "redis-link", chaos.Params{"delay": delay.String()}, "api-1")
	require.Equal(t, "tcp-proxy 50ms each way (iptables DNAT; direct connections closed: ss -K, REJECT) on api-1 -> redis, redis-2, redis-3:6379 via sidecar",
		in.Records()[0].Mechanism)
	for i := range 5 {
		code, d := signupVia(s, "api-1")
		require.Equal(t, http.StatusCreated, code)
		require.GreaterOrEqual(t, d, 2*delay, "signup %d through api-1 carries a delayed round trip to the primary", i)
		code, _ = signupVia(s, "api-2")
		require.Equal(t, http.StatusCreated, code)
	}
	api1, _ := s.Lookup("api-1")
	api2, _ := s.Lookup("api-2")
	require.Zero(t, redisClientsFrom(t, rdb, api1.IP.String()), "api-1 reaches the primary only through the proxy")
	require.Positive(t, redisClientsFrom(t, rdb, api2.IP.String()), "api-2 reaches the primary directly")
	require.NoError(t, in.Revert(ctx, id))
	noRulesLeft(t, s, "api-1")
}
