package k8srun

import (
	"errors"
	"fmt"
	"strings"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/scenarios"
)

// mappings are the faults a cluster can take, by the scenario's kind: each builds a chaos.Fault whose
// mechanism is the Kubernetes API's (one file each, fault_*.go). The kind's parameters and roles are
// chaos's (its registry checks them when a scenario is validated and when a fault is injected).
var mappings = map[string]func(c *Cluster, p chaos.Params) (chaos.Fault, error){
	"kill":      newKill,
	"stop":      newStop,
	"partition": newPartition,
}

// refused says why each fault the cluster cannot do is not mapped: the run refuses it before anything is
// applied, with that reason.
var refused = map[string]string{
	"pause": "a pod's process cannot be frozen through the Kubernetes API: the cgroup freezer is the node's, and a SIGSTOP " +
		"from an ephemeral container does not stop the container's PID 1 (signals to a namespace's init from inside it are ignored)",
	"restart":       "not mapped yet: a deleted pod is replaced by a new one at once (use kill or stop)",
	"packet-loss":   "needs netem or iptables in the pod's network namespace (chaos-mesh NetworkChaos); neither is done through the API here",
	"latency":       "needs a delay proxy the balancer routes through; the cluster's Service is the balancer here",
	"response-loss": "needs chaosbench's HTTP proxy in front of the node; the cluster's Service is the balancer here",
	"clock-skew":    "needs the reference API's admin port through a port-forward, not mapped yet",
}

// NewFault builds the cluster's fault of a kind, for runner.ArmFaults.
func (c *Cluster) NewFault(kind string, p chaos.Params) (chaos.Fault, error) {
	m, ok := mappings[kind]
	if !ok {
		return nil, fmt.Errorf("fault %s: not available in a cluster", kind)
	}
	if _, err := chaos.New(kind, p); err != nil { // the kind's own check of its parameters
		return nil, err
	}
	return m(c, p)
}

// Refuse lists every planned fault the cluster cannot do, with why, as one error (nil: all can run).
func Refuse(plan scenarios.Plan) error {
	var errs []error
	for _, f := range plan.Faults {
		where := fmt.Sprintf("fault %s on %s at %s", f.Kind, f.Target, f.At)
		if _, ok := mappings[f.Kind]; ok {
			if f.Kind == "partition" && f.Params["from"] == "nginx" {
				errs = append(errs, fmt.Errorf("%s: from nginx: there is no NGINX in the cluster (the Service spreads the load)", where))
			}
			if f.Target != chaos.AnyAPI && !strings.HasPrefix(f.Target, "api-") && f.Target != "redis" {
				errs = append(errs, fmt.Errorf("%s: the cluster's stack has api-N and redis only", where))
			}
			continue
		}
		why, ok := refused[f.Kind]
		if !ok {
			why = "not mapped to the Kubernetes API (docs/kubernetes.md, Faults)"
		}
		errs = append(errs, fmt.Errorf("%s: %s", where, why))
	}
	if err := errors.Join(errs...); err != nil {
		return BadInput{fmt.Errorf("the cluster cannot run these faults, so nothing was applied:\n%w", err)}
	}
	return nil
}
