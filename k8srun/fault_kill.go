package k8srun

import (
	"context"
	"fmt"

	"github.com/chaosbench/chaosbench/chaos"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kill deletes the target's pod with a grace period of 0: the kubelet sends SIGKILL, in-flight requests
// die with it. Unlike Docker's kill, the Deployment starts a replacement pod at once (a new name and
// address), so the node is not down for the fault's duration: its record says so. Revert has nothing to
// undo; the injector then waits for every replica to be ready again.
type kill struct{ c *Cluster }

var _ chaos.Fault = (*kill)(nil)

func newKill(c *Cluster, _ chaos.Params) (chaos.Fault, error) { return &kill{c: c}, nil }

func (*kill) Name() string { return "kill" }

func (f *kill) Inject(ctx context.Context, _ *chaos.Env, t chaos.Target) (chaos.Effect, error) {
	zero := int64(0)
	if err := f.c.cs.CoreV1().Pods(f.c.ns).Delete(ctx, t.ID, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		return chaos.Effect{}, fmt.Errorf("delete pod %s: %w", t.ID, err)
	}
	return chaos.Effect{Mechanism: fmt.Sprintf("pod %s deleted with grace 0 (SIGKILL); its Deployment started a replacement pod at once, "+
		"so the node was not down for the fault's duration as in Docker", t.ID)}, nil
}
