package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/threshold"
)

// validateFaults places faults on the load's timeline and checks each against
// the fault registry: kind, parameters, and a target of a role it can hit.
func validateFaults(v *positioner, f file, p *Plan) {
	total := p.Duration()
	for i, fs := range f.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		fp := FaultPlan{Kind: fs.Kind, Target: fs.Target, Params: chaos.Params{}}
		for k, val := range fs.Params {
			fp.Params[k] = fmt.Sprint(val)
		}
		if fs.At == "" {
			v.add(field+".at", "is required (when the fault starts, e.g. 20s)")
		} else {
			fp.At = duration(v, field+".at", fs.At, false)
			if fp.At < MinFaultAt {
				v.add(field+".at", "%s leaves no baseline: start faults at %s or later, so recovery can be judged against the p99 before them", fp.At, MinFaultAt)
			}
		}
		if fs.For == "" {
			v.add(field+".for", "is required (how long the fault lasts, e.g. 10s)")
		} else {
			fp.For = duration(v, field+".for", fs.For, true)
		}
		if total > 0 && fp.At+fp.For > total {
			v.add(field+".for", "the fault ends at %s, after the load ends at %s", fp.At+fp.For, total)
		}
		if fs.Kind == "" {
			v.add(field+".kind", "is required (one of %s)", strings.Join(chaos.Names(), ", "))
		} else if _, err := chaos.New(fs.Kind, fp.Params); err != nil {
			sub := ".kind"
			if slices.Contains(chaos.Names(), fs.Kind) {
				sub = ".params"
			}
			v.add(field+sub, "%v", err)
		}
		replicas := p.Replicas
		if p.Attach != nil {
			replicas = 0 // the project's: known once attached, where an api-N it lacks fails the fault
		}
		single := singleRedis(p)
		lacking := func(name string) string { return lackingServer(p, name) }
		if k, err := chaos.Default.Kind(fs.Kind); err == nil {
			if k.RedisHA && single != "" {
				v.add(field+".kind", "%s needs Redis Sentinels and replicas: %s has one Redis (use stateless-ha)", fs.Kind, single)
			}
			checkPostgresFault(v, field, k, p) // validate_postgres.go
			checkCacheFault(v, field, k, p)    // validate_cache.go
			if k.Peers != nil {
				for _, peer := range k.Peers(fp.Params) {
					if err := checkTarget(peer, replicas, lacking); err != nil {
						v.add(field+".params", "%s: %v", fs.Kind, err)
					} else if role := arch.RoleOf(peer); p.Attach != nil && p.Attach.Project != "" && !p.Attach.Has(role) &&
						role != arch.RoleOf(fs.Target) { // the target's own check says it
						v.add(field+".kind", "%s acts on %s too, and target.compose names no %s service, so chaosbench cannot find it",
							fs.Kind, peer, role)
					}
				}
			}
		}
		if err := checkTarget(fs.Target, replicas, lacking); err != nil {
			v.add(field+".target", "%v", err)
		} else if err := checkPostgresTarget(fs.Target, p); err != nil {
			v.add(field+".target", "%v", err)
		} else if p.Attach != nil && p.Attach.Project == "" {
			v.add(field+".target", "faults need target.compose (the project and its services) to find %s", fs.Target)
		} else if p.Attach != nil && !p.Attach.Has(arch.RoleOf(fs.Target)) {
			v.add(field+".target", "%s: target.compose names no %s service, so chaosbench cannot find it", fs.Target, arch.RoleOf(fs.Target))
		} else if k, err := chaos.Default.Kind(fs.Kind); err == nil && k.Routes && p.Attach != nil {
			v.add(field+".kind", "%s sends a node's traffic through a proxy, which needs chaosbench's own NGINX: "+
				"an attached project's balancer is its own", fs.Kind)
		} else if err == nil && k.RefapiOnly && (p.Attach != nil || p.Service.Custom()) {
			v.add(field+".kind", "%s acts through the reference API's admin endpoint, which %s does not have", fs.Kind, serviceText(p))
		} else if slices.Contains(chaos.Names(), fs.Kind) {
			// Each fault declares the roles it can hit: a fault on a target it cannot break would
			// otherwise be skipped at run time, and its scenario pass without it.
			if err := chaos.CheckTarget(fs.Kind, fs.Target); err != nil {
				v.add(field+".target", "%v", err)
			}
		}
		validateFaultBalancer(v, field, fs, p)
		p.Faults = append(p.Faults, fp)
	}
}

// serviceText names the service of a plan that is not the reference API, for an error message.
func serviceText(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	return "a custom image (" + p.Service.Image + ")"
}

// validateThresholds parses every threshold, per architecture or for all.
func validateThresholds(v *positioner, f file, p *Plan) {
	for _, key := range sortedKeys(f.Thresholds) {
		arch := key
		if key == "all" {
			arch = ""
		} else if _, ok := p.Arch(key); !ok {
			v.add("thresholds."+key, "%q is not an architecture of this scenario (use all, or one of the architectures)", key)
			continue
		}
		for i, text := range f.Thresholds[key] {
			e, err := threshold.Parse(text)
			if err != nil {
				v.add(fmt.Sprintf("thresholds.%s[%d]", key, i), "%v", err)
				continue
			}
			if err := thresholdFits(e, p.Faults); err != nil {
				v.add(fmt.Sprintf("thresholds.%s[%d]", key, i), "%v", err)
				continue
			}
			p.Thresholds = append(p.Thresholds, ThresholdPlan{Arch: arch, Expr: e, Text: text})
		}
	}
}

// thresholdFits says why threshold e could never be measured on a scenario with these faults (nil when it
// can): recovery.seconds with no fault to recover from, or a fault's window (faults[1].errors.rate,
// faults[kill].latency.p99) that names no fault of the scenario or, by kind, several of them
// (threshold.FaultRef.Resolve, the rule the evaluation applies too).
func thresholdFits(e threshold.Expr, faults []FaultPlan) error {
	if e.Fault != nil {
		kinds := make([]string, len(faults))
		for i, f := range faults {
			kinds[i] = f.Kind
		}
		if _, err := e.Fault.Resolve(kinds); err != nil {
			return err
		}
	}
	if e.Metric.Name == "recovery.seconds" && len(faults) == 0 {
		return errors.New("recovery.seconds needs a fault to recover from: the scenario has none, so it would never be measured")
	}
	return nil
}

// checkTarget checks a fault's target against a stack of replicas API nodes; replicas 0 means not known
// yet (an attached project), where any api-N is taken. The other Redis servers (a Redis HA stack's
// replicas redis-2, redis-3 and Sentinels sentinel-1..3; a Redis Cluster's redis-2..redis-6) are targets
// only when every architecture has them: lacking names the one that does not ("" when all do).
func checkTarget(t string, replicas int, lacking func(name string) string) error {
	known := fmt.Sprintf("any-api, api-1..api-%d, redis or nginx; with Redis HA also redis-2..redis-%d and sentinel-1..sentinel-%d; "+
		"with a Redis Cluster redis-2..redis-%d", replicas, arch.RedisReplicas+1, arch.Sentinels, arch.ClusterNodes)
	switch {
	case t == "":
		return fmt.Errorf("is required (%s)", known)
	case t == chaos.AnyAPI || t == "redis" || t == "nginx" || t == arch.PostgresName || t == arch.PostgresStandbyName:
		// postgres and postgres-2: checkPostgresTarget
		return nil
	case strings.HasPrefix(t, "api-"):
		n, err := strconv.Atoi(strings.TrimPrefix(t, "api-"))
		if err == nil && n >= 1 && (n <= replicas || replicas == 0) {
			return nil
		}
	case haName(t) || clusterName(t):
		if who := lacking(t); who != "" {
			return fmt.Errorf("%s is %s: %s has no such server (%s)", t, extraRedisWhat(t), who, known)
		}
		return nil
	}
	return fmt.Errorf("unknown target %q (%s)", t, known)
}

// extraRedisWhat says what an extra Redis server name is on the stacks that have it.
func extraRedisWhat(t string) string {
	switch {
	case arch.RoleOf(t) == arch.RoleSentinel:
		return "a Sentinel of a Redis HA stack"
	case haName(t):
		return "a Redis replica of a Redis HA stack, or a node of a Redis Cluster"
	}
	return "a node of a Redis Cluster"
}

// haName reports whether t names one of a Redis HA stack's replicas or Sentinels.
func haName(t string) bool {
	for i := range arch.RedisReplicas {
		if t == arch.RedisReplicaName(i+1) {
			return true
		}
	}
	for i := range arch.Sentinels {
		if t == arch.SentinelName(i+1) {
			return true
		}
	}
	return false
}

// clusterName reports whether t names one of a Redis Cluster's servers other than redis.
func clusterName(t string) bool {
	for i := 2; i <= arch.ClusterNodes; i++ {
		if t == arch.ClusterNodeName(i) {
			return true
		}
	}
	return false
}

// hasServer reports whether architecture a runs the Redis server or Sentinel called t.
func hasServer(a arch.Arch, t string) bool {
	return a.RedisHA && haName(t) || a.RedisCluster && clusterName(t)
}

// singleRedis names an architecture of p that runs one Redis, without Sentinels ("" when every one has
// them): an attached project is one, since chaosbench knows no Sentinels of it.
func singleRedis(p *Plan) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	for _, a := range p.Architectures {
		if !a.RedisHA {
			return "architecture " + a.Name
		}
	}
	return ""
}

// lackingServer names an architecture of p that has no Redis server or Sentinel called t ("" when every
// one has it): an attached project has none that chaosbench knows of.
func lackingServer(p *Plan, t string) string {
	if p.Attach != nil {
		return "an attached service (target.url)"
	}
	for _, a := range p.Architectures {
		if !hasServer(a, t) {
			return "architecture " + a.Name
		}
	}
	return ""
}
