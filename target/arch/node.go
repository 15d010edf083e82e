package arch

import (
	"maps"
	"strconv"
)

// RedisPort is where Redis listens in its container (and in its pod).
const RedisPort = 6379

// RedisServerArgs is the redis-server command line for these settings: no snapshots, the persistence,
// memory limit and eviction asked for, and the architecture's replica guard. The Docker stack and the Kubernetes
// manifests both start Redis with it.
func (a Arch) RedisServerArgs(r RedisConfig) []string {
	cmd := []string{"redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--port", strconv.Itoa(RedisPort),
		"--dir", "/tmp", "--save", ""}
	switch r.Persistence {
	case PersistEverysec, PersistAlways:
		cmd = append(cmd, "--appendonly", "yes", "--appendfsync", string(r.Persistence))
	default:
		cmd = append(cmd, "--appendonly", "no")
	}
	if r.MaxMemory != "" {
		cmd = append(cmd, "--maxmemory", r.MaxMemory)
	}
	if r.Eviction != "" {
		cmd = append(cmd, "--maxmemory-policy", r.Eviction)
	}
	if a.MinReplicasToWrite > 0 {
		cmd = append(cmd, "--min-replicas-to-write", strconv.Itoa(a.MinReplicasToWrite),
			"--min-replicas-max-lag", strconv.Itoa(MinReplicasMaxLag))
	}
	return cmd
}

// NodeEnv is an API node's environment. Every service gets NODE_ID and REDIS_URL; the reference API also
// gets its knobs and settings, a user's image its scenario's target.env instead. A RedisHA stack's
// REDIS_SENTINELS are addresses, which only the caller knows.
func (a Arch) NodeEnv(node, redisURL, jwtSecret string) map[string]string {
	if svc := a.Service; svc.Custom() {
		env := map[string]string{"NODE_ID": node, "REDIS_URL": redisURL}
		maps.Copy(env, svc.Env)
		return env
	}
	env := a.APIEnv()
	maps.Copy(env, map[string]string{
		"ADDR":       ":" + strconv.Itoa(a.Service.ListenPort()),
		"NODE_ID":    node,
		"REDIS_URL":  redisURL,
		"JWT_SECRET": jwtSecret,
		// Client setup logs in thousands of users: the default cost would dominate it.
		"BCRYPT_COST": "4",
		"LOG_LEVEL":   "warn",
		// The admin endpoints (the clock-skew fault's clock offset) on a port NGINX does not route.
		"ADMIN_ADDR": ":" + strconv.Itoa(AdminPort),
	})
	return env
}
