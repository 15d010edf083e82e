package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCacheArchitectures(t *testing.T) {
	const phases = "phases:\n  - {duration: 30s, rate: 10/s}\n"
	const cached = "custom_architectures:\n  - {name: c, base: stateless-postgres, cache_ttl: 5s}\n"
	bad := []struct {
		name, yaml string
		want       []string
	}{
		// The cache is Redis in front of PostgreSQL: on store redis there is nothing behind it.
		{"cache without postgres", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, cache_ttl: 5s}\n" + phases,
			[]string{"bad.yaml:4:", "custom_architectures[0].cache_ttl", "needs store postgres"}},
		// Not a duration, named at its field.
		{"bad ttl", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, base: stateless-postgres, cache_ttl: soon}\n" + phases,
			[]string{"bad.yaml:4:", "custom_architectures[0].cache_ttl"}},
		// Beyond an hour a stale copy outlives any run.
		{"ttl too long", "name: x\narchitectures: [c]\ncustom_architectures:\n  - {name: c, base: stateless-postgres, cache_ttl: 2h}\n" + phases,
			[]string{"custom_architectures[0].cache_ttl", "want 0 (off) to 1h0m0s"}},
		// A user's image has no such cache.
		{"cache on an image", "name: x\ntarget: {image: shop:dev}\narchitectures: [c]\ncustom_architectures:\n  - {name: c, cache_ttl: 5s}\n" + phases,
			[]string{"custom_architectures[0].cache_ttl", "is a knob of the reference API"}},
		// The fault needs a cache on every architecture: stateless-postgres has none, so nothing is lost there.
		{"fault without cache", "name: x\narchitectures: [c, stateless-postgres]\n" + cached + phases +
			"faults:\n  - {at: 5s, for: 5s, kind: cache-invalidation-loss, target: redis}\n",
			[]string{"bad.yaml:8:", "faults[0].kind", "cache-invalidation-loss needs the resource cache: architecture stateless-postgres has none"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}

	// A cached architecture takes the fault, on one node or on every node's link; its env says CACHE_TTL.
	for _, target := range []string{"redis", "any-api"} {
		p, err := Parse("ok.yaml", []byte("name: x\narchitectures: [c]\n"+cached+phases+
			"faults:\n  - {at: 5s, for: 5s, kind: cache-invalidation-loss, target: "+target+"}\n"))
		require.NoError(t, err)
		require.Equal(t, 5*time.Second, p.Architectures[0].CacheTTL)
		require.Equal(t, "5s", p.Architectures[0].APIEnv()["CACHE_TTL"])
	}
}
