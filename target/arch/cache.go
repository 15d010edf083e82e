package arch

import (
	"fmt"
	"time"
)

// The resource cache (Arch.CacheTTL): with store: postgres, the reference API can read resources
// cache-aside through Redis (target/rcache.go): a GET reads the cached copy, a miss reads PostgreSQL and
// fills it for CacheTTL, and an acknowledged PATCH deletes it after its commit.
const (
	// ResourceCacheKey prefixes a resource's cached copy in Redis (+ id -> "version:value"). It is named
	// here, not in target/keyspace, because the cache-invalidation-loss fault matches it on the wire and
	// package chaos imports no Redis client.
	ResourceCacheKey = "v1:rcache:"
	// MaxCacheTTL bounds cache_ttl: past an hour a stale copy would outlive any scenario's run.
	MaxCacheTTL = time.Hour
)

// checkCache refuses a cache where there is nothing behind it to cache (store redis: the resource is
// already in Redis), on a user's image, or out of range. The error starts with the knob.
func (a Arch) checkCache() error {
	switch {
	case a.CacheTTL == 0:
		return nil
	case a.Service.Custom():
		return fmt.Errorf("cache_ttl is a knob of the reference API: a custom image (%s) does not understand it", a.Service.Image)
	case !a.UsesPostgres():
		return fmt.Errorf("cache_ttl %s: needs store postgres (the cache is Redis in front of PostgreSQL; with store redis the resources are in Redis already)", a.CacheTTL)
	case a.CacheTTL < 0 || a.CacheTTL > MaxCacheTTL:
		return fmt.Errorf("cache_ttl %s: want 0 (off) to %s", a.CacheTTL, MaxCacheTTL)
	}
	return nil
}

// UsesCache reports whether the API nodes cache resources in Redis.
func (a Arch) UsesCache() bool { return a.CacheTTL > 0 && a.UsesPostgres() }

// cacheEnv adds CACHE_TTL when the cache is on.
func (a Arch) cacheEnv(env map[string]string) {
	if a.UsesCache() {
		env["CACHE_TTL"] = a.CacheTTL.String()
	}
}
