package arch

import (
	"fmt"
	"net/netip"
	"strconv"
)

// The durable store (Arch.Store): where the reference API keeps orders and resources. Redis stays the
// session store and the cache in both.
const (
	StoreRedis    = "redis"    // everything in Redis (the zero value means this too)
	StorePostgres = "postgres" // orders and resources in PostgreSQL 15 behind the Redis cache
)

// RolePostgres is the PostgreSQL server of an architecture with Store postgres.
const RolePostgres Role = "postgres"

// PostgreSQL's settings in the stack.
const (
	// PostgresName is its container's name, and its target name in a scenario.
	PostgresName = "postgres"
	// PostgresPort is where it listens in its container.
	PostgresPort = 5432
	// PostgresMaxConnections is the server's max_connections (PostgreSQL's default), which the API
	// nodes' pools share; PostgresReserved of them are kept for the checker, psql and the superuser slots.
	PostgresMaxConnections = 100
	PostgresReserved       = 10
)

// CheckStore refuses a store the API does not have, and PostgreSQL under a user's image, which has its
// own storage.
func (a Arch) CheckStore() error {
	switch a.Store {
	case "", StoreRedis:
		return nil
	case StorePostgres:
		if a.Service.Custom() {
			return fmt.Errorf("store %q is the reference API's: a custom image (%s) keeps its own state", a.Store, a.Service.Image)
		}
		return nil
	}
	return fmt.Errorf("store %q: want redis or postgres", a.Store)
}

// UsesPostgres reports whether the architecture runs a PostgreSQL server.
func (a Arch) UsesPostgres() bool { return a.Store == StorePostgres }

// PostgresPoolSize is each API node's pool (POSTGRES_POOL_SIZE) when replicas nodes share the server:
// max_connections less the reserve, split evenly, at most 32 (on 2 cores more connections only queue in
// PostgreSQL instead of in the pool) and at least 2.
func PostgresPoolSize(replicas int) int {
	if replicas < 1 {
		replicas = 1
	}
	return min(32, max(2, (PostgresMaxConnections-PostgresReserved)/replicas))
}

// PostgresDSN is the connection string for the server at ip, in the stack's trust-authenticated private
// network: user postgres, database postgres, no TLS.
func PostgresDSN(addr netip.AddrPort) string {
	return "postgres://postgres@" + addr.String() + "/postgres?sslmode=disable&connect_timeout=2"
}

// storeEnv is the API's STORE; POSTGRES_DSN and POSTGRES_POOL_SIZE are the stack's (it knows the address
// and the node count).
func (a Arch) storeEnv(env map[string]string) {
	if a.UsesPostgres() {
		env["STORE"] = StorePostgres
	}
}

// PostgresEnv is what an API node needs to reach the server at ip, with replicas nodes sharing it.
func PostgresEnv(ip netip.Addr, replicas int) map[string]string {
	return map[string]string{
		"POSTGRES_DSN":       PostgresDSN(netip.AddrPortFrom(ip, PostgresPort)),
		"POSTGRES_POOL_SIZE": strconv.Itoa(PostgresPoolSize(replicas)),
	}
}
