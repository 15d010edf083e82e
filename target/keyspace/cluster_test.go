package keyspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The reference API and the checker on a real Redis Cluster (3 primaries, 3 replicas of redis-server on
// loopback): the keys of one order share a slot, orders go through, the checker finds them on every
// primary, and the API serves again after a primary is killed and its replica takes over.
func TestRefapiOnRedisCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3)
	cc := rc.Client()
	ctx := context.Background()

	t.Run("one order's keys share a slot", func(t *testing.T) {
		// CLUSTER KEYSLOT is the server's own hashing (CRC16 of the hash tag): no slot function of ours.
		l := keyspace.Layout{Cluster: true}
		const user = "4f0c7a1e-6a52-4d8e-9f8b-3f0b4c8d2a11"
		slot := func(k string) int64 {
			n, err := cc.ClusterKeySlot(ctx, k).Result()
			require.NoError(t, err)
			return n
		}
		want := slot(keyspace.Tag(user))
		for _, k := range []string{
			l.IdempotencyKey(user, "key-1"),        // the record the claim and the commit scripts share
			l.OrderKey(user, "order-1"),            // the order the commit writes
			l.UserOrdersKey(user),                  // the user's list, which listing MGETs the orders of
			l.OrderByRequestKey(user, "req-1"),     // the checker's index by request id
			l.OrderByKeyKey(user, "key-1"),         // the checker's index by idempotency key
			l.OrderByKeyKey(user, "-"),             // the placeholder a keyless order declares
			l.IdempotencyKey(user, "{other}:x{y}"), // a key with braces of its own: the user's tag comes first
			l.OrderByRequestKey(user, "}{req:{2}"), // a request id with braces
			keyspace.Session + "sid-1",             // a session and its data: one hash, one key
		} {
			if strings.HasPrefix(k, keyspace.Session) {
				continue // one key: in one slot by definition; listed to say why it needs no tag
			}
			require.Equal(t, want, slot(k), k)
		}
		// Without the tag two users' keys would not be placed by user: the layout of one Redis differs.
		require.Equal(t, "v1:order-index:key:key-1", keyspace.Layout{}.OrderByKeyKey(user, "key-1"))
	})

	srv := refapitest.Start(t, refapitest.WithConfig(func(c *target.Config) {
		c.RedisCluster = strings.Join(rc.Addrs(), ",")
		c.Idempotency = false // so that retries make duplicates the checker must find on the cluster
	}))
	a := &api{t: t, url: srv.URL}
	body := `{"username":"ada","password":"password-ada"}`
	a.post("/v1/users", body, "")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(a.post("/v1/login", body, ""), &out))
	a.auth = "Bearer " + out.AccessToken

	var ledger load.LedgerSnapshot
	for i := range 20 {
		sends := 1
		if i < 3 {
			sends = 2 // three orders sent twice without idempotency: three duplicates
		}
		ledger.Orders = append(ledger.Orders, a.order(fmt.Sprintf("k%d", i), sends))
	}
	f, c := checkOn(t, cc, ledger)
	require.EqualValues(t, 20, c.Count("writes.acknowledged"))
	require.EqualValues(t, 3, c.Count("writes.duplicates"))
	require.Zero(t, c.Count("writes.lost"))
	require.Empty(t, f["writes.unexpected"].Examples)

	// The listing MGETs one user's orders: one slot, so a cluster serves it (CROSSSLOT otherwise).
	res := a.get("/v1/orders")
	require.Equal(t, 23, strings.Count(res, `"order_id"`), res)

	// Kill the primary of the user's slot; its replica takes over after cluster-node-timeout and the
	// API's cluster client follows (refreshing its slot map on the errors), with no restart.
	userSlotKey := keyspace.Layout{Cluster: true}.UserOrdersKey(a.userID())
	primary, err := cc.MasterForKey(ctx, userSlotKey)
	require.NoError(t, err)
	// Replication is asynchronous: WAIT until the replica has every write so far (the session, the
	// orders), so that what the failover keeps is decided here, not by how fast replication ran.
	acked, err := primary.Do(ctx, "WAIT", 1, 10000).Int()
	require.NoError(t, err)
	require.Equal(t, 1, acked, "the replica acknowledged every write before the kill")
	killed := rc.Node(primary.Options().Addr)
	killed.Stop()
	rc.WaitOK()
	// Until the API's client has the new map, an order may fail (503): the client retries, as the load does.
	var ok bool
	for range 50 {
		if a.tryPost("/v1/orders", `{"request_id":"req-after","items":[{"sku":"tea","qty":1}]}`, "after") {
			ok = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, ok, "the API never served an order after the failover")
	// A new client: the old one's slot map still names the dead primary.
	n, err := rc.Client().LLen(ctx, keyspace.Layout{Cluster: true}.OrderByKeyKey(a.userID(), "after")).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

// checkOn runs every check with RedisTruth on a cluster client.
func checkOn(t *testing.T, cc *redis.ClusterClient, ledger load.LedgerSnapshot) (results.Findings, results.Arch) {
	t.Helper()
	f, err := results.CheckLedger(context.Background(), keyspace.NewRedisTruth(cc), ledger)
	require.NoError(t, err)
	var a results.Arch
	f.Fill(&a)
	return f, a
}

func (a *api) get(path string) string {
	req, _ := http.NewRequest("GET", a.url+path, nil)
	req.Header.Set("Authorization", a.auth)
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	require.Equal(a.t, http.StatusOK, res.StatusCode, "%s: %s", path, b.String())
	return b.String()
}

func (a *api) userID() string {
	var p struct {
		UserID string `json:"user_id"`
	}
	require.NoError(a.t, json.Unmarshal([]byte(a.get("/v1/profile")), &p))
	require.NotEmpty(a.t, p.UserID)
	return p.UserID
}

// tryPost reports whether a POST succeeded (a 503 while the cluster fails over is no test failure).
func (a *api) tryPost(path, body, key string) bool {
	req, _ := http.NewRequest("POST", a.url+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", a.auth)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		a.t.Logf("%s: %d %s", path, res.StatusCode, b.String())
	}
	return res.StatusCode < 300
}
