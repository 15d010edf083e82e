package chaos

import "github.com/chaosbench/chaosbench/target/arch"

func init() {
	Register(Kind{Name: "postgres-link", Roles: []arch.Role{arch.RoleAPI, arch.RolePostgres, arch.RolePostgresStandby}, Postgres: true,
		New: func(p Params) (Fault, error) {
			f, err := newRedisLink(p) // the same parameters: delay, jitter, loss
			if err != nil {
				return nil, err
			}
			l := f.(*RedisLink)
			l.link = &postgresStoreLink
			return l, nil
		}})
}

// postgres-link is redis-link's mechanism (redislink.go) on the link from API nodes to the architecture's
// PostgreSQL (store: postgres): a delay proxy in the harness with DNAT in each node's namespace, the
// nodes' direct pool connections closed as each goes idle, loss by iptables; target an API node for its
// link alone, or postgres for every node's. Clients' paths to the nodes and the nodes' Redis calls are
// untouched, so the cost shows on the ops that reach PostgreSQL (orders, resources) alone. An order is
// four round trips (BEGIN, two INSERTs, COMMIT), each gaining 2 × delay. With a standby (postgres_standby)
// the nodes' link is to both servers, and the target postgres-2 degrades the standby's own link to the
// primary, its replication stream, and nothing else (the same rules, in the standby's namespace, on its
// connections to port 5432): with loss 100 the standby falls behind while the nodes still reach both
// servers, the way a standby in another zone is cut off before a failover.
var postgresStoreLink = storeLink{fault: "postgres-link", port: arch.PostgresPort, store: arch.RolePostgres,
	data: []arch.Role{arch.RolePostgres, arch.RolePostgresStandby}, replica: arch.RolePostgresStandby}
