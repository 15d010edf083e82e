package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/redis/go-redis/v9"
)

// TestRedisClusterStack: a stateless-cluster stack forms its cluster (three primaries, a replica each),
// serves an order through NGINX into the cluster, where the checker's cluster client finds it; killing
// the primary of slot 0 makes its replica take over and the API serves again (the same client retrying
// its key, as the load does); the killed node rejoins as a replica; Down leaves nothing.
func TestRedisClusterStack(t *testing.T) {
	dockertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runID := fmt.Sprintf("test-cluster-%d", os.Getpid())
	s := stacktest.Up(t, ctx, stack.WithRunID(runID), stack.WithArch("stateless-cluster"), stack.WithReplicas(2))
	require.Len(t, s.Containers(), 2+6+1, "2 nodes, 6 cluster nodes, nginx")
	primary, err := s.CurrentPrimary(ctx)
	require.NoError(t, err)
	require.Equal(t, "redis", primary, "redis-cli makes the first node a primary, with slot 0")

	post := func(path, body, auth, key string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.Entry+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.Bytes()
	}
	user := `{"username":"ada","password":"password-ada"}`
	code, out := post("/v1/users", user, "", "")
	require.Less(t, code, 300, string(out))
	code, out = post("/v1/login", user, "", "")
	require.Equal(t, http.StatusOK, code, string(out))
	var login struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(out, &login))
	auth := "Bearer " + login.AccessToken
	order := func(key string) { // retried with its key until acknowledged, as the load's clients do
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, out := post("/v1/orders", `{"request_id":"req-`+key+`","items":[{"sku":"tea","qty":1}]}`, auth, key)
			if code == http.StatusCreated {
				return
			}
			require.True(t, time.Now().Before(deadline), "order %s: %d %s", key, code, out)
			time.Sleep(200 * time.Millisecond)
		}
	}
	order("before")

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: s.RedisClusterAddrs()})
	defer cc.Close()
	count := func(key string) int64 {
		n, err := keyspace.NewRedisTruth(cc).OrdersByKey(ctx, []string{key})
		require.NoError(t, err)
		return n[0]
	}
	require.EqualValues(t, 1, count("before"), "the checker reads the order from the cluster")

	// Replication is asynchronous: WAIT until every primary's replica has every write so far (the session,
	// the order), so that what the failover keeps is decided here, not by how fast replication ran.
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.Do(ctx, "WAIT", 1, 10000).Int()
		if err == nil && n < 1 {
			err = fmt.Errorf("%s: no replica acknowledged its writes", m.Options().Addr)
		}
		return err
	}))
	killed := time.Now()
	require.NoError(t, s.Kill(ctx, "redis"))
	for {
		primary, err = s.CurrentPrimary(ctx)
		if err == nil && primary != "redis" {
			break
		}
		require.Less(t, time.Since(killed), 30*time.Second, "no failover: primary %q, %v", primary, err)
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s took over slot 0 %s after the kill", primary, time.Since(killed).Round(100*time.Millisecond))
	order("after")
	t.Logf("an order acknowledged %s after the kill", time.Since(killed).Round(100*time.Millisecond))

	require.NoError(t, s.Start(ctx, "redis"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.Exec(ctx, "redis", "redis-cli", "INFO", "replication")
		if err == nil && strings.Contains(out, "role:slave") && strings.Contains(out, "master_link_status:up") {
			break
		}
		require.True(t, time.Now().Before(deadline), "the killed node did not rejoin as a replica: %s %v", out, err)
		time.Sleep(300 * time.Millisecond)
	}
	cc2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: s.RedisClusterAddrs()})
	defer cc2.Close()
	n, err := keyspace.NewRedisTruth(cc2).OrdersByKey(ctx, []string{"before", "after"})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 1}, n, "both orders, once each, on the cluster after the failover")

	require.NoError(t, s.Down(ctx))
	cli, err := stack.NewDocker(ctx)
	require.NoError(t, err)
	defer cli.Close()
	runs, err := stack.List(ctx, cli)
	require.NoError(t, err)
	for _, r := range runs {
		require.NotEqual(t, runID, r.RunID, "nothing labelled with the run is left")
	}
}
