package k8srun

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// TestNormalImage: the names a container runtime lists for what a manifest names.
func TestNormalImage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"chaosbench/loader:dev", "docker.io/chaosbench/loader:dev"},         // a Docker Hub path
		{"redis", "docker.io/library/redis:latest"},                          // an official image, no tag
		{"registry.example/chaosbench:v1", "registry.example/chaosbench:v1"}, // a registry of its own
		{"localhost:5000/x:1", "localhost:5000/x:1"},                         // a port names a registry
		{"chaosbench/base@sha256:ab", "docker.io/chaosbench/base@sha256:ab"}, // a digest, no tag added
	} {
		require.Equal(t, tc.want, normalImage(tc.in), tc.in)
	}
}

// TestCheckImages: an image only a cordoned or not-ready node has is missing; the message names it.
func TestCheckImages(t *testing.T) {
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	nodes := []corev1.Node{
		{Status: corev1.NodeStatus{Conditions: ready, Images: []corev1.ContainerImage{{Names: []string{"docker.io/chaosbench/loader:dev"}}}}},
		{Spec: corev1.NodeSpec{Unschedulable: true}, Status: corev1.NodeStatus{Conditions: ready,
			Images: []corev1.ContainerImage{{Names: []string{"docker.io/chaosbench/refapi:dev"}}}}},
	}
	require.NoError(t, checkImages(nodes, []string{"chaosbench/loader:dev"}))
	err := checkImages(nodes, []string{"chaosbench/loader:dev", "chaosbench/refapi:dev"})
	require.ErrorAs(t, err, new(BadInput))
	require.ErrorContains(t, err, "image chaosbench/refapi:dev is on no node")
	require.ErrorContains(t, checkImages(nodes[1:], nil), "no ready, schedulable node")
}
