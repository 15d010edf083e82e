package k8srun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// BadInput is an error of what the user gave (a kubeconfig without the rights, an image the nodes do not
// have, a fault the cluster cannot do): the CLI exits 2 on it, and nothing was applied.
type BadInput struct{ Err error }

func (e BadInput) Error() string { return e.Err.Error() }
func (e BadInput) Unwrap() error { return e.Err }

// Connect reads the kubeconfig (the path, else KUBECONFIG, else ~/.kube/config, as kubectl does) and
// returns a client of its current context.
func Connect(kubeconfig string) (*rest.Config, kubernetes.Interface, error) {
	// client-go reports a stream's errors through klog as well as to the caller: the caller's are enough.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, nil, BadInput{fmt.Errorf("kubeconfig: %w", err)}
	}
	cfg.Timeout = 30 * time.Second
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, BadInput{fmt.Errorf("kubeconfig: %w", err)}
	}
	return cfg, cs, nil
}

// Preflight checks, before anything is applied, what would otherwise fail half-way: the cluster answers,
// the user may create (and delete) the namespace, the namespace is not there yet, and every image is on a
// schedulable node (chaosbench never pulls: an image missing from the nodes would leave the pods waiting).
func Preflight(ctx context.Context, cs kubernetes.Interface, host, ns string, images []string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("no cluster reachable at %s: %w", host, err)
	}
	for _, verb := range []string{"create", "delete"} {
		rev, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
			Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{Verb: verb, Resource: "namespaces"}},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("ask the cluster what this user may do: %w", err)
		}
		if !rev.Status.Allowed {
			return BadInput{fmt.Errorf("this kubeconfig's user may not %s namespaces at %s: a run makes its own namespace and deletes it after; "+
				"use a user with that right (e.g. cluster-admin on a test cluster)", verb, host)}
		}
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		return BadInput{fmt.Errorf("namespace %s already exists: a run makes its own and deletes it after, so it never reuses one; "+
			"give another with --namespace, or delete it (kubectl delete namespace %s)", ns, ns)}
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the nodes: %w", err)
	}
	return checkImages(nodes.Items, images)
}

// checkImages refuses an image that no ready, schedulable node lists in its status (what the kubelet
// reports its container runtime holds).
func checkImages(nodes []corev1.Node, images []string) error {
	have := map[string]bool{}
	var ready []string
	for _, n := range nodes {
		if n.Spec.Unschedulable || !nodeReady(n) {
			continue
		}
		ready = append(ready, n.Name)
		for _, im := range n.Status.Images {
			for _, name := range im.Names {
				have[name] = true
			}
		}
	}
	if len(ready) == 0 {
		return errors.New("the cluster has no ready, schedulable node")
	}
	var missing []string
	for _, im := range images {
		if !have[im] && !have[normalImage(im)] && !slices.Contains(missing, im) {
			missing = append(missing, im)
		}
	}
	if len(missing) > 0 {
		return BadInput{fmt.Errorf("image %s is on no node of the cluster (%s): chaosbench does not pull; load it into the nodes' "+
			"runtime first (docs/kubernetes.md: docker save IMAGE | ctr -n k8s.io images import -)",
			strings.Join(missing, ", "), strings.Join(ready, ", "))}
	}
	return nil
}

// normalImage is an image's name as a container runtime reports it: docker.io/ before a name with no
// registry (and library/ before one with no path), :latest when it has no tag or digest.
func normalImage(im string) string {
	name, rest := im, ""
	if i := strings.IndexAny(im, "@"); i >= 0 {
		name, rest = im[:i], im[i:]
	}
	if slash := strings.LastIndex(name, "/"); !strings.Contains(name[slash+1:], ":") && rest == "" {
		name += ":latest"
	}
	first, _, hasPath := strings.Cut(name, "/")
	if !hasPath {
		name = "docker.io/library/" + name
	} else if !strings.ContainsAny(first, ".:") && first != "localhost" {
		name = "docker.io/" + name
	}
	return name + rest
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
