package k8srun

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/target/arch"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// stop takes the target out for the fault's duration, as Docker's stop and start do: its Deployment is
// scaled down by one and the target's pod is the one removed (the ReplicaSet removes the pod of lowest
// pod-deletion-cost first), deleted with the fault's grace (SIGTERM, SIGKILL after it); Revert scales back,
// and the node returns as a new pod. Redis is scaled to 0 and back to 1.
type stop struct {
	c     *Cluster
	grace time.Duration
}

var _ chaos.Fault = (*stop)(nil)

func newStop(c *Cluster, p chaos.Params) (chaos.Fault, error) {
	g, err := p.Duration("grace", 10*time.Second)
	return &stop{c: c, grace: g}, err
}

func (*stop) Name() string { return "stop" }

func (f *stop) Inject(ctx context.Context, _ *chaos.Env, t chaos.Target) (chaos.Effect, error) {
	deploy := deployAPI
	if t.Role == arch.RoleRedis {
		deploy = deployRedis
	}
	pods := f.c.cs.CoreV1().Pods(f.c.ns)
	// The pod to go first when the ReplicaSet scales down (the annotation is its documented hint).
	patch := []byte(`{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-1000000"}}}`)
	if _, err := pods.Patch(ctx, t.ID, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return chaos.Effect{}, fmt.Errorf("mark pod %s to go first: %w", t.ID, err)
	}
	before, err := f.c.scale(ctx, deploy, -1)
	if err != nil {
		return chaos.Effect{}, err
	}
	revert := func(ctx context.Context) error {
		_, err := f.c.scaleTo(ctx, deploy, before)
		return err
	}
	grace := int64(f.grace.Seconds())
	if err := pods.Delete(ctx, t.ID, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		return chaos.Effect{}, fmt.Errorf("delete pod %s: %w (and %v)", t.ID, err, revert(context.WithoutCancel(ctx)))
	}
	return chaos.Effect{Mechanism: fmt.Sprintf("deployment %s scaled %d→%d, pod %s deleted with grace %s (SIGTERM); scaled back at revert, "+
		"the node returns as a new pod", deploy, before, before-1, t.ID, f.grace), Revert: revert}, nil
}

// scale changes a Deployment's replicas by delta and returns what it was.
func (c *Cluster) scale(ctx context.Context, deploy string, delta int32) (int32, error) {
	s, err := c.cs.AppsV1().Deployments(c.ns).GetScale(ctx, deploy, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("scale of %s: %w", deploy, err)
	}
	before := s.Spec.Replicas
	s.Spec.Replicas += delta
	if _, err := c.cs.AppsV1().Deployments(c.ns).UpdateScale(ctx, deploy, s, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("scale %s to %d: %w", deploy, s.Spec.Replicas, err)
	}
	return before, nil
}

// scaleTo sets a Deployment's replicas.
func (c *Cluster) scaleTo(ctx context.Context, deploy string, n int32) (int32, error) {
	s, err := c.cs.AppsV1().Deployments(c.ns).GetScale(ctx, deploy, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("scale of %s: %w", deploy, err)
	}
	s.Spec.Replicas = n
	if _, err := c.cs.AppsV1().Deployments(c.ns).UpdateScale(ctx, deploy, s, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("scale %s back to %d: %w", deploy, n, err)
	}
	return n, nil
}
