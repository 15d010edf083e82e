package target

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

func TestETagPreconditions(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", nil)
	c := n.newClient("ada")

	get := n.do("GET", "/v1/resources/r1", nil, c.auth...)
	require.Equal(t, http.StatusOK, get.Code)
	require.EqualValues(t, 0, get.json(t)["value"])
	tag := get.Header.Get("ETag")
	require.Equal(t, `"0"`, tag)

	// Without If-Match the server cannot know what the writer saw.
	r := n.do("PATCH", "/v1/resources/r1", map[string]any{"value": 1}, c.auth...)
	require.Equal(t, http.StatusPreconditionRequired, r.Code)
	require.Equal(t, CodePreconditionRequired, r.code(t))

	r = n.do("PATCH", "/v1/resources/r1", map[string]any{"value": 1}, append(c.auth, "If-Match", tag)...)
	require.Equal(t, http.StatusOK, r.Code)
	newTag := r.Header.Get("ETag")
	require.NotEqual(t, tag, newTag)

	// The old tag is stale now: 412, and the answer carries the current tag.
	r = n.do("PATCH", "/v1/resources/r1", map[string]any{"value": 5}, append(c.auth, "If-Match", tag)...)
	require.Equal(t, http.StatusPreconditionFailed, r.Code)
	require.Equal(t, newTag, r.Header.Get("ETag"))
	// A weak tag never matches under strong comparison.
	r = n.do("PATCH", "/v1/resources/r1", map[string]any{"value": 5}, append(c.auth, "If-Match", "W/"+newTag)...)
	require.Equal(t, http.StatusPreconditionFailed, r.Code)

	get = n.do("GET", "/v1/resources/r1", nil, c.auth...)
	require.EqualValues(t, 1, get.json(t)["value"])
	require.Equal(t, newTag, get.Header.Get("ETag"))
}

// incrementer reads, then writes value+1 with If-Match; on 412 it re-reads
// and tries again. It returns how many increments were acknowledged.
func increment(t *testing.T, n *node, c client, id string, times int) int64 {
	var acked int64
	for range times {
		for attempt := 0; attempt < 200; attempt++ {
			g := n.do("GET", "/v1/resources/"+id, nil, c.auth...)
			v := int64(g.json(t)["value"].(float64))
			r := n.do("PATCH", "/v1/resources/"+id, map[string]any{"value": v + 1}, append(c.auth, "If-Match", g.Header.Get("ETag"))...)
			if r.Code == http.StatusOK {
				acked++
				break
			}
			require.Equal(t, http.StatusPreconditionFailed, r.Code, "%s", r.Body)
		}
	}
	return acked
}

func TestConcurrentIncrementsWithIfMatchLoseNothing(t *testing.T) {
	rs := redistest.Start(t)
	nodes := []*node{startNode(t, rs, "a", nil), startNode(t, rs, "b", nil)}
	c := nodes[0].newClient("ada")
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked.Add(increment(t, nodes[w%2], c, "counter", 10))
		}()
	}
	wg.Wait()
	final := nodes[1].do("GET", "/v1/resources/counter", nil, c.auth...).json(t)["value"]
	require.EqualValues(t, 80, acked.Load())
	require.EqualValues(t, acked.Load(), final, "final value equals the acknowledged increments")
}

func TestConcurrencyNoneLosesUpdates(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", func(c *Config) { c.Concurrency = ConcurrencyNone })
	c := n.newClient("ada")
	// Four writers read the same value, then all write value+1: the
	// interleaving that last-write-wins cannot survive, made deterministic.
	const writers = 4
	tags := make([]string, writers)
	for i := range writers {
		g := n.do("GET", "/v1/resources/lww", nil, c.auth...)
		require.EqualValues(t, 0, g.json(t)["value"])
		tags[i] = g.Header.Get("ETag")
	}
	acked := 0
	for i := range writers {
		// If-Match is sent (as the client would) but ignored in this mode.
		r := n.do("PATCH", "/v1/resources/lww", map[string]any{"value": 1}, append(c.auth, "If-Match", tags[i])...)
		require.Equal(t, http.StatusOK, r.Code)
		acked++
	}
	final := n.do("GET", "/v1/resources/lww", nil, c.auth...)
	require.EqualValues(t, 1, final.json(t)["value"])
	require.Equal(t, writers, acked)
	require.Equal(t, `"`+strconv.Itoa(writers)+`"`, final.Header.Get("ETag"), "every write happened, yet three increments are lost")
}
