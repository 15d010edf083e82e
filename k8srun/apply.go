package k8srun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// apply creates objs in order with the typed clients (the renderer's kinds, nothing else).
func apply(ctx context.Context, cs kubernetes.Interface, objs []runtime.Object) error {
	opts := metav1.CreateOptions{FieldValidation: "Strict"}
	for _, o := range objs {
		var err error
		var what string
		switch o := o.(type) {
		case *corev1.Namespace:
			what = "namespace " + o.Name
			_, err = cs.CoreV1().Namespaces().Create(ctx, o, opts)
		case *corev1.ConfigMap:
			what = "configmap " + o.Name
			_, err = cs.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, opts)
		case *corev1.Secret:
			what = "secret " + o.Name
			_, err = cs.CoreV1().Secrets(o.Namespace).Create(ctx, o, opts)
		case *corev1.Service:
			what = "service " + o.Name
			_, err = cs.CoreV1().Services(o.Namespace).Create(ctx, o, opts)
		case *appsv1.Deployment:
			what = "deployment " + o.Name
			_, err = cs.AppsV1().Deployments(o.Namespace).Create(ctx, o, opts)
		case *batchv1.Job:
			what = "job " + o.Name
			_, err = cs.BatchV1().Jobs(o.Namespace).Create(ctx, o, opts)
		default:
			return fmt.Errorf("apply: %T is not a kind the manifests use", o)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", what, err)
		}
	}
	return nil
}

// deleteNamespace deletes the run's namespace (everything of the run is in it) and waits until the
// cluster has removed it, so that nothing is left behind; ctx should be one of its own (after Ctrl-C).
func deleteNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	bg := metav1.DeletePropagationForeground
	asked := false
	// Asked again until it is accepted: an API server that restarts meanwhile must not leave the run behind.
	werr := poll.Until(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		if !asked {
			err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &bg})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			asked = true
		}
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("still terminating")
	})
	if werr != nil {
		return fmt.Errorf("namespace %s not gone: %w", ns, werr)
	}
	return nil
}

// waitDeployments waits until every named Deployment of ns has all its replicas ready and up to date,
// failing at once on a pod that cannot start (an image that cannot be pulled, a container that cannot
// be created).
func waitDeployments(ctx context.Context, cs kubernetes.Interface, ns string, names ...string) error {
	return until(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		for _, n := range names {
			d, err := cs.AppsV1().Deployments(ns).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if err := deploymentReady(d); err != nil {
				if perr := podsStuck(ctx, cs, ns); perr != nil {
					return fatal{perr}
				}
				return err
			}
		}
		return nil
	})
}

func deploymentReady(d *appsv1.Deployment) error {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.ReadyReplicas != want || s.Replicas != want {
		return fmt.Errorf("deployment %s: %d of %d ready", d.Name, s.ReadyReplicas, want)
	}
	return nil
}

// podsStuck finds a pod of ns whose container waits for something that will not come by itself.
func podsStuck(ctx context.Context, cs kubernetes.Interface, ns string) error {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil // the next poll tells
	}
	for _, p := range pods.Items {
		for _, st := range p.Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil {
				switch w.Reason {
				case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
					return fmt.Errorf("pod %s, container %s (%s): %s: %s", p.Name, st.Name, st.Image, w.Reason, w.Message)
				}
			}
		}
	}
	return nil
}

// fatal is a check's failure that waiting will not mend: until stops on it.
type fatal struct{ error }

// until is poll.Until, except that a check returning fatal ends the wait at once with that error.
func until(ctx context.Context, every time.Duration, check func(context.Context) error) error {
	var stop error
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := poll.Until(cctx, every, func(ctx context.Context) error {
		err := check(ctx)
		if f, ok := err.(fatal); ok {
			stop = f.error
			cancel()
		}
		return err
	})
	if stop != nil {
		return stop
	}
	return err
}

// podContainers lists the images of an object's pod template.
func podContainers(o runtime.Object) []string {
	var spec *corev1.PodSpec
	switch o := o.(type) {
	case *appsv1.Deployment:
		spec = &o.Spec.Template.Spec
	case *batchv1.Job:
		spec = &o.Spec.Template.Spec
	default:
		return nil
	}
	var out []string
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	return out
}
