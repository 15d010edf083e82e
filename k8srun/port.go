package k8srun

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/k8s"
	"github.com/chaosbench/chaosbench/target/arch"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is the run's namespace in a cluster behind chaos's Stack port: the containers a scenario names
// (api-1..api-N, redis) are pods there, and the health that brackets every injection is the Deployments'.
// The mechanisms of the faults it can take are its own (NewFault), through the Kubernetes API; the parts
// of the port that have no meaning there (a sidecar in a network namespace, a proxy the balancer routes
// through, Sentinels) answer with an error, and the faults that need them are refused before a run.
type Cluster struct {
	cs   kubernetes.Interface
	rc   *rest.Config
	ns   string
	port int // the API's container port
	// images are the run's: the base image runs probes (partition's ephemeral container).
	images k8s.Images
}

var _ chaos.Stack = (*Cluster)(nil)

// Deployments and component labels of the rendered stack (package k8s).
const (
	deployAPI   = "api"
	deployRedis = "redis"
	labelComp   = "app.kubernetes.io/component"
)

// Containers lists the API pods that are ready and not going away, in name order, as api-1..api-N, then
// redis: a scenario's names for them at this moment. After a kill, the replacement is a new pod, and the
// names follow the order of the pods then.
func (c *Cluster) Containers() []arch.Container {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []arch.Container
	api, _ := c.pods(ctx, deployAPI)
	for i, p := range api {
		out = append(out, arch.Container{Name: arch.NodeName(i + 1), Role: arch.RoleAPI, ID: p.Name, IP: podIP(p), Port: c.port})
	}
	if r, _ := c.pods(ctx, deployRedis); len(r) > 0 {
		out = append(out, arch.Container{Name: "redis", Role: arch.RoleRedis, ID: r[0].Name, IP: podIP(r[0])})
	}
	return out
}

// pods are the component's pods that are ready and not terminating, by name.
func (c *Cluster) pods(ctx context.Context, component string) ([]corev1.Pod, error) {
	list, err := c.cs.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: labelComp + "=" + component})
	if err != nil {
		return nil, fmt.Errorf("list %s pods: %w", component, err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && podReady(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podIP(p corev1.Pod) netip.Addr {
	a, _ := netip.ParseAddr(p.Status.PodIP)
	return a
}

// Ready is the stack's health: every replica of the API and of Redis ready, as their Deployments count
// them (the API's readiness probe is its health path, which checks Redis).
func (c *Cluster) Ready(ctx context.Context) error {
	var errs []error
	for _, n := range []string{deployAPI, deployRedis} {
		d, err := c.cs.AppsV1().Deployments(c.ns).Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, deploymentReady(d))
	}
	return errors.Join(errs...)
}

// WaitReady polls Ready until it succeeds or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	return poll.Until(ctx, 500*time.Millisecond, c.Ready)
}

// errNoCluster is what the port's Docker-only parts answer: NewFault never builds a fault that calls them.
func errNoCluster(what string) error {
	return fmt.Errorf("%s: not available in a Kubernetes cluster (docs/kubernetes.md, Faults)", what)
}

// The Lifecycle part of the port is the Docker runtime's; in a cluster each fault does its own through
// the API (fault_*.go), with what differs from Docker in its record.
func (c *Cluster) Kill(context.Context, string) error { return errNoCluster("kill a container") }
func (c *Cluster) Stop(context.Context, string, time.Duration) error {
	return errNoCluster("stop a container")
}
func (c *Cluster) Start(context.Context, string) error { return errNoCluster("start a container") }
func (c *Cluster) Restart(context.Context, string, time.Duration) error {
	return errNoCluster("restart a container")
}
func (c *Cluster) Pause(context.Context, string) error   { return errNoCluster("pause (cgroup freezer)") }
func (c *Cluster) Unpause(context.Context, string) error { return errNoCluster("unpause") }
func (c *Cluster) Sidecar(context.Context, string, string) (string, error) {
	return "", errNoCluster("a sidecar in a node's network namespace")
}
func (c *Cluster) Exec(context.Context, string, ...string) (string, error) {
	return "", errNoCluster("exec in a stack container")
}
func (c *Cluster) HostIP() netip.Addr { return netip.Addr{} }
func (c *Cluster) Route(context.Context, string, string) error {
	return errNoCluster("route through a proxy")
}
func (c *Cluster) CurrentPrimary(context.Context) (string, error) { return "redis", nil }
func (c *Cluster) SetClockOffset(context.Context, string, time.Duration) error {
	return errNoCluster("the reference API's admin port")
}
