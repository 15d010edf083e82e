package k8srun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/internal/poll"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// partition cuts an API node off from Redis with a NetworkPolicy: the node's pod gets a label, and a
// policy on the Redis pods admits every pod but the labelled one. The API server stores any policy, but
// only the network plugin enforces it, and many plugins (the bridge plugin, flannel alone) ignore it
// silently; so before the fault counts as injected, a probe in the node's pod (an ephemeral container, in
// the pod's network namespace) must fail to reach Redis. If it gets through, the policy is removed and
// the fault is recorded as not run, which makes the run invalid, never passed. Revert deletes the policy
// and the label.
type partition struct{ c *Cluster }

var _ chaos.Fault = (*partition)(nil)

const (
	labelFault  = "chaosbench.fault"
	partitioned = "partition"
	// probeTimeout bounds the enforcement probe's connect (the base image has sh, timeout and redis-cli).
	probeTimeout = 3 * time.Second
)

func newPartition(c *Cluster, p chaos.Params) (chaos.Fault, error) {
	if from := p["from"]; from != "" && from != "redis" {
		return nil, fmt.Errorf("partition from %s: only from redis in a cluster", from)
	}
	return &partition{c: c}, nil
}

func (*partition) Name() string { return "partition" }

func (f *partition) Inject(ctx context.Context, _ *chaos.Env, t chaos.Target) (chaos.Effect, error) {
	c := f.c
	pods, pols := c.cs.CoreV1().Pods(c.ns), c.cs.NetworkingV1().NetworkPolicies(c.ns)
	redis, err := c.pods(ctx, deployRedis)
	if err != nil || len(redis) == 0 {
		return chaos.Effect{}, fmt.Errorf("partition: no ready redis pod (%v)", err)
	}
	label := func(ctx context.Context, v string) error {
		val := "null"
		if v != "" {
			val = `"` + v + `"`
		}
		_, err := pods.Patch(ctx, t.ID, types.MergePatchType, []byte(`{"metadata":{"labels":{"`+labelFault+`":`+val+`}}}`), metav1.PatchOptions{})
		return err
	}
	name := "partition-" + t.ID
	if len(name) > 63 {
		name = name[:63]
	}
	pol := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{labelComp: deployRedis}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: labelFault, Operator: metav1.LabelSelectorOpNotIn, Values: []string{partitioned}}}},
			}}}},
		},
	}
	revert := func(ctx context.Context) error {
		err := pols.Delete(ctx, name, metav1.DeleteOptions{})
		return errors.Join(ignoreNotFound(err), ignoreNotFound(label(ctx, "")))
	}
	if err := label(ctx, partitioned); err != nil {
		return chaos.Effect{}, fmt.Errorf("label pod %s: %w", t.ID, err)
	}
	if _, err := pols.Create(ctx, pol, metav1.CreateOptions{}); err != nil {
		return chaos.Effect{}, errors.Join(fmt.Errorf("create networkpolicy %s: %w", name, err), revert(context.WithoutCancel(ctx)))
	}
	reached, err := c.probeTCP(ctx, t.ID, redis[0].Status.PodIP, 6379)
	if err == nil && reached {
		err = fmt.Errorf("the cluster's network plugin does not enforce NetworkPolicy: with the policy in place, a probe in pod %s "+
			"still reached redis at %s:6379, so the partition did not happen (not run)", t.ID, redis[0].Status.PodIP)
	} else if err != nil {
		err = fmt.Errorf("could not probe whether the network plugin enforces the NetworkPolicy, so the partition is not counted: %w", err)
	}
	if err != nil {
		return chaos.Effect{Mechanism: "NetworkPolicy " + name}, errors.Join(err, revert(context.WithoutCancel(ctx)))
	}
	return chaos.Effect{Mechanism: fmt.Sprintf("NetworkPolicy %s denies redis's ingress from pod %s, enforcement probed (connect timed out); "+
		"connections opened before it may live on where the plugin checks only new ones", name, t.ID), Revert: revert}, nil
}

// probeTCP runs an ephemeral container in pod (its network namespace) that tries to reach ip:port within
// probeTimeout, and says whether it did.
func (c *Cluster) probeTCP(ctx context.Context, pod, ip string, port int) (bool, error) {
	pods := c.cs.CoreV1().Pods(c.ns)
	p, err := pods.Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	name := fmt.Sprintf("probe-%d", len(p.Spec.EphemeralContainers))
	script := fmt.Sprintf("timeout %d redis-cli -h %s -p %d ping | grep -q PONG", int(probeTimeout.Seconds()), ip, port)
	p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: c.images.Base,
			ImagePullPolicy: corev1.PullIfNotPresent, Command: []string{"sh", "-c", script}}})
	if _, err := pods.UpdateEphemeralContainers(ctx, pod, p, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("add an ephemeral container to %s: %w", pod, err)
	}
	var code int32 = -1
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = poll.Until(wctx, 300*time.Millisecond, func(ctx context.Context) error {
		p, err := pods.Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name == name && s.State.Terminated != nil {
				code = s.State.Terminated.ExitCode
				return nil
			}
		}
		return fmt.Errorf("probe %s in pod %s has not ended", name, pod)
	})
	if err != nil {
		return false, err
	}
	return code == 0, nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
