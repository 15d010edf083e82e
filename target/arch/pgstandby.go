package arch

import (
	"fmt"
	"net/netip"
	"strings"
)

// A PostgreSQL standby (Arch.PostgresStandby): a second server, postgres-2, made by pg_basebackup -R from
// the primary "postgres" and streaming its WAL (hot_standby), so that the postgres-failover fault can kill
// the primary and promote it. The API nodes name both servers in their DSN with
// target_session_attrs=read-write (PostgresDSN), so that their new connections land on whichever is
// primary.
const (
	StandbyAsync = "async" // the primary acknowledges a commit once its own WAL is flushed
	// StandbySync sets synchronous_standby_names on the primary (synchronous_commit on, the default): it
	// acknowledges a commit once the standby has flushed its WAL too.
	StandbySync = "sync"
)

// RolePostgresStandby is the server of an architecture with a standby that started as the standby
// (postgres-2). It is a role of its own, not RolePostgres, for the reason RoleReplica is Redis's: the
// faults that declare RolePostgres (postgres-outage, postgres-link) act on "the stack's PostgreSQL", and
// aimed at postgres-2 would hit another container than the scenario says. The name is where it started:
// after a failover it is the primary.
const RolePostgresStandby Role = "postgres-standby"

// PostgresStandbyName is the standby's container and target name.
const PostgresStandbyName = "postgres-2"

// StandbyModes lists PostgresStandby's values; "" means no standby.
var StandbyModes = []string{StandbyAsync, StandbySync}

// checkStandby refuses a standby mode PostgreSQL does not have, and a standby without a PostgreSQL.
func (a Arch) checkStandby() error {
	switch {
	case a.PostgresStandby == "":
		return nil
	case a.PostgresStandby != StandbyAsync && a.PostgresStandby != StandbySync:
		return fmt.Errorf("postgres_standby %q: want %s (or leave it out: no standby)", a.PostgresStandby,
			strings.Join(StandbyModes, " or "))
	case !a.UsesPostgres():
		return fmt.Errorf("postgres_standby %s needs PostgreSQL: architecture %s keeps its orders in Redis "+
			"(use store: postgres, e.g. base: stateless-postgres)", a.PostgresStandby, a.Name)
	}
	return nil
}

// HasPostgresStandby reports whether the architecture runs a PostgreSQL standby.
func (a Arch) HasPostgresStandby() bool { return a.UsesPostgres() && a.PostgresStandby != "" }

// postgresHosts is the nodes' list of PostgreSQL servers at these addresses, primary first: the hosts
// of a multi-host DSN, which pgx tries in order.
func postgresHosts(addrs []netip.AddrPort) string {
	hosts := make([]string, len(addrs))
	for i, a := range addrs {
		hosts[i] = a.String()
	}
	return strings.Join(hosts, ",")
}
