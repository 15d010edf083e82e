package chaos_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/pgtest"
	"github.com/chaosbench/chaosbench/internal/stacktest"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/stack"
)

// TestCacheInvalidationLoss: on stateless-postgres with a 60 s resource cache, the fault resets the one
// command that invalidates a cached copy and nothing else on the node's link to Redis. Sequential, so no
// step depends on timing: the copy is filled at the first read after a write and lives 60 s, far longer
// than the test's few seconds.
//   - Before: a write's DEL works, the next read misses and answers the new version.
//   - During: the write is committed and acknowledged (200, the new ETag), its DEL is reset, and the read
//     after it answers the older cached version: stale. Sessions (Redis) still authenticate every request.
//   - After the revert the stale copy is still there (the fault's harm outlives it until the TTL), and
//     the next write's DEL works again: the read after it is current.
func TestCacheInvalidationLoss(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := arch.Preset("stateless-postgres")
	require.NoError(t, err)
	a.CacheTTL = time.Minute
	s := stacktest.Up(t, ctx, stack.WithRunID(fmt.Sprintf("test-cacheinv-%d", os.Getpid())),
		stack.WithArchitecture(a), stack.WithReplicas(1))
	auth, err := pgtest.Login(s.Entry, "cache-user")
	require.NoError(t, err)
	url := s.Entry + "/v1/resources/cached"
	send := func(method, ifMatch, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res.StatusCode, res.Header.Get("ETag")
	}
	read := func() string {
		t.Helper()
		code, tag := send(http.MethodGet, "", "")
		require.Equal(t, http.StatusOK, code)
		return tag
	}
	write := func(ifMatch, want string) {
		t.Helper()
		code, tag := send(http.MethodPatch, ifMatch, `{"value":7}`)
		require.Equal(t, http.StatusOK, code, "the write commits in PostgreSQL whatever happens to its DEL")
		require.Equal(t, want, tag)
	}

	require.Equal(t, `"0"`, read()) // a miss fills the copy at 0
	write(`"0"`, `"1"`)
	require.Equal(t, `"1"`, read(), "the DEL worked: the read missed and filled 1")

	in, id := inject(t, s, "cache-invalidation-loss", nil, "redis")
	write(`"1"`, `"2"`)
	require.Equal(t, `"1"`, read(), "version 2 was acknowledged, its invalidation lost: the cached 1 is stale")

	require.NoError(t, in.Revert(ctx, id))
	// One write during the fault, one DEL reset: the rule's count says so.
	require.Equal(t, "iptables string match on 1 node(s), tcp-reset of each DEL of v1:rcache:* to :6379: 1 invalidations reset",
		in.Records()[0].Mechanism)
	require.Empty(t, in.Records()[0].Error)
	require.Equal(t, `"1"`, read(), "the stale copy outlives the fault until its TTL")
	write(`"2"`, `"3"`) // If-Match checks PostgreSQL, not the cache
	require.Equal(t, `"3"`, read(), "reverted: the DEL works again")
}
