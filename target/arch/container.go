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
	RoleNginx Role = "nginx"
	// RoleSentinel is a Redis Sentinel of a RedisHA stack (sentinel-1..3); its replicas (redis-2,
	// redis-3) are RoleRedis like the initial primary. It is not in Roles: no fault declares it, and a
	// scenario's targets are any-api, api-N, redis and nginx, so that the faults' targets read as before.
	RoleSentinel Role = "sentinel"
)

// Roles lists the roles of the stack's containers that faults may declare.
var Roles = []Role{RoleAPI, RoleRedis, RoleNginx}

// Container is one container of a stack as the rest of chaosbench sees it: no Docker type, so that the
// packages that only describe or break a stack need no Docker client.
type Container struct {
	Name string     // api-1 .. api-N, redis, nginx
	Role Role       // api, redis or nginx
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
	case name == string(RoleRedis), strings.HasPrefix(name, "redis-"):
		return RoleRedis
	case strings.HasPrefix(name, "sentinel-"):
		return RoleSentinel
	case name == string(RoleNginx):
		return RoleNginx
	}
	return ""
}
