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
		return a.checkStandby()
	case StorePostgres:
		if a.Service.Custom() {
			return fmt.Errorf("store %q is the reference API's: a custom image (%s) keeps its own state", a.Store, a.Service.Image)
		}
		return a.checkStandby()
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

// PostgresDSN is the connection string for the servers at addrs, in the stack's trust-authenticated private
// network: user postgres, database postgres, no TLS. With more than one server (a standby,
// pgstandby.go) it names them all with target_session_attrs=read-write: pgx tries them in order and keeps
// the first that is not read-only, so that after a failover a new connection lands on the promoted
// standby and never on a standby. Each host gets connect_timeout: 2 s for one server; 1 s with several,
// since a killed primary's address answers nothing (no RST: its container is gone) and costs the whole
// timeout, which must leave the next host room inside one transaction's POSTGRES_TIMEOUT (2 s); a
// connect on the run's network takes about a millisecond.
func PostgresDSN(addrs ...netip.AddrPort) string {
	if len(addrs) > 1 {
		return "postgres://postgres@" + postgresHosts(addrs) + "/postgres?sslmode=disable&connect_timeout=1&target_session_attrs=read-write"
	}
	return "postgres://postgres@" + postgresHosts(addrs) + "/postgres?sslmode=disable&connect_timeout=2"
}

// storeEnv is the API's STORE; POSTGRES_DSN and POSTGRES_POOL_SIZE are the stack's (it knows the address
// and the node count).
func (a Arch) storeEnv(env map[string]string) {
	if a.UsesPostgres() {
		env["STORE"] = StorePostgres
	}
}

// PostgresEnv is what an API node needs to reach the servers at ips (the primary first, then a standby),
// with replicas nodes sharing the primary.
func PostgresEnv(ips []netip.Addr, replicas int) map[string]string {
	addrs := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		addrs[i] = netip.AddrPortFrom(ip, PostgresPort)
	}
	return map[string]string{
		"POSTGRES_DSN":       PostgresDSN(addrs...),
		"POSTGRES_POOL_SIZE": strconv.Itoa(PostgresPoolSize(replicas)),
	}
}
