package arch

import (
	"fmt"
	"slices"
	"strings"
)

// presets are the named architectures that the design compares.
var presets = map[string]Arch{
	"stateless": {Name: "stateless", Auth: "jwt", Sessions: "redis", Idempotency: true,
		Concurrency: "etag", Balancer: RoundRobin},
	"stateful": {Name: "stateful", Auth: "cookie", Sessions: "memory", Idempotency: false,
		Concurrency: "none", Balancer: Sticky},
	"stateless-no-idempotency": {Name: "stateless-no-idempotency", Auth: "jwt", Sessions: "redis",
		Idempotency: false, Concurrency: "etag", Balancer: RoundRobin},
	// stateless with Redis behind Sentinel: a primary, two replicas, three Sentinels (redisha.go).
	"stateless-ha": {Name: "stateless-ha", Auth: "jwt", Sessions: "redis", Idempotency: true,
		Concurrency: "etag", Balancer: RoundRobin, RedisHA: true},
	// stateless with Redis Cluster: three primaries, a replica each (rediscluster.go).
	"stateless-cluster": {Name: "stateless-cluster", Auth: "jwt", Sessions: "redis", Idempotency: true,
		Concurrency: "etag", Balancer: RoundRobin, RedisCluster: true},
	// stateless with orders and resources in PostgreSQL behind the Redis cache (store.go).
	"stateless-postgres": {Name: "stateless-postgres", Auth: "jwt", Sessions: "redis", Idempotency: true,
		Concurrency: "etag", Balancer: RoundRobin, Store: StorePostgres},
}

// Preset returns the named architecture.
func Preset(name string) (Arch, error) {
	a, ok := presets[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown architecture %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return a, nil
}

// PresetNames lists the named architectures, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
