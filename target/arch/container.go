package arch

import (
	"fmt"
	"net/netip"
	"strings"
)

// Role is what a container of the stack is, as its chaosbench.role label says and as faults declare the
// containers they can hit.
type Role string

const (
	RoleAPI   Role = "api"
	RoleRedis Role = "redis"
	// RoleNginx is the balancer in front of the nodes: NGINX, or HAProxy with balancer haproxy (named
	// haproxy then). The role is the balancer's, so that what finds it by role (partition from nginx,
	// the split brain that keeps it on the majority's side) finds either; faults aimed at it by the name
	// nginx are refused on HAProxy (scenarios).
	RoleNginx Role = "nginx"
	// RoleReplica is a Redis server of a RedisHA stack started as a replica (redis-2, redis-3). It is a
	// role of its own, not RoleRedis, because the faults that declare RoleRedis (redis-outage,
	// redis-failover, redis-memory-pressure) act on "the stack's Redis" whatever their target names:
	// aimed at redis-2 they would hit another container than the scenario says. The name is where it
	// started: after a failover a replica may be the primary (chaos.Stack's CurrentPrimary says who is).
	RoleReplica Role = "redis-replica"
	// RoleSentinel is a Redis Sentinel of a RedisHA stack (sentinel-1..3).
	RoleSentinel Role = "sentinel"
)

// Roles lists the roles of the stack's containers that faults may declare: the container-wide faults
// (kill, pause, stop, restart, packet-loss) declare them all.
var Roles = []Role{RoleAPI, RoleRedis, RoleNginx, RoleReplica, RoleSentinel, RolePostgres, RolePostgresStandby}

// Container is one container of a stack as the rest of chaosbench sees it: no Docker type, so that the
// packages that only describe or break a stack need no Docker client.
type Container struct {
	Name string     // api-1 .. api-N, redis, nginx (haproxy); redis-2, redis-3, sentinel-1..3 with RedisHA
	Role Role       // api, redis, nginx (the balancer), redis-replica or sentinel
	ID   string     // the container runtime's id (opaque outside target/stack); empty before it starts
	IP   netip.Addr // fixed address on the stack's network
	// Port is the port an API node's service listens on (Service.ListenPort); 0 for other roles.
	Port int
}

// AdminPort is where the reference API's admin endpoints listen in its container (ADMIN_ADDR): the clock
// offset of the clock-skew fault. NGINX never routes to it; chaosbench reaches it at the node's address on
// the run's network. A user's image has no such port.
const AdminPort = 9090

// AdminAddr is ip:port of an API node's admin endpoints (the reference API only).
func (c Container) AdminAddr() string { return netip.AddrPortFrom(c.IP, AdminPort).String() }

// Addr is ip:port of an API node's service.
func (c Container) Addr() string { return netip.AddrPortFrom(c.IP, uint16(c.Port)).String() }

// NodeName is the name of the i-th API node, counted from 1.
func NodeName(i int) string { return fmt.Sprintf("api-%d", i) }

// RoleOf is the role of a container name: api-N is an API node, redis and nginx are themselves, redis-N
// and sentinel-N are a RedisHA stack's replicas and Sentinels; "" for a
// name that no container of a stack has.
func RoleOf(name string) Role {
	switch {
	case strings.HasPrefix(name, "api-"):
		return RoleAPI
	case name == string(RoleRedis):
		return RoleRedis
	case strings.HasPrefix(name, "redis-"):
		return RoleReplica
	case strings.HasPrefix(name, "sentinel-"):
		return RoleSentinel
	case name == string(RoleNginx):
		return RoleNginx
	case name == PostgresName: // an architecture with Store postgres (store.go)
		return RolePostgres
	case name == PostgresStandbyName: // an architecture with a PostgreSQL standby (pgstandby.go)
		return RolePostgresStandby
	}
	return ""
}
