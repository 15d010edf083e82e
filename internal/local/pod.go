package local

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// TokenPath is where the kubelet mounts a pod's service-account token (unless the pod opts out).
const TokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// PodNetworks is what a worker inside a Kubernetes pod may send load to besides loopback (chaosbench worker
// --in-cluster): the cluster as the pod itself sees it, and nothing wider. That is the subnets of the pod's
// own interfaces (the pod network the CNI plugin put it on: the other pods, and the node's bridge), and the
// cluster IP of every Service of the pod's namespace, which the kubelet gives each container as
// NAME_SERVICE_HOST (the kubernetes Service's included). Outside a pod it is refused: there, these
// addresses would be a way around CheckURL. A pod is a process with KUBERNETES_SERVICE_HOST set (a valid
// address) and a service-account token mounted at TokenPath.
func PodNetworks() ([]netip.Prefix, error) {
	host := getenv("KUBERNETES_SERVICE_HOST")
	if host == "" {
		return nil, fmt.Errorf("--in-cluster: KUBERNETES_SERVICE_HOST is not set: this is not a Kubernetes pod, and only a " +
			"worker in a pod may send load into its cluster; here the target must be loopback or on a Docker bridge of this host")
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return nil, fmt.Errorf("--in-cluster: KUBERNETES_SERVICE_HOST=%q is not an address: not a Kubernetes pod", host)
	}
	if _, err := os.Stat(tokenPath); err != nil {
		return nil, fmt.Errorf("--in-cluster: no service-account token at %s: not a Kubernetes pod", tokenPath)
	}
	nets, err := attachedNets()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, n := range nets {
		// A pod's interface with a route to everything (a /0) or a huge range would allow the world:
		// a pod network is a cluster's range, not that.
		if n.Bits() >= minPodBits(n.Addr()) {
			out = append(out, n)
		}
	}
	for _, kv := range environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(k, "_SERVICE_HOST") {
			continue
		}
		if a, err := netip.ParseAddr(v); err == nil {
			if p := netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()); !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// minPodBits is the widest prefix accepted as a pod network: a /8 for IPv4 (10.0.0.0/8 is the largest
// private range), a /48 for IPv6.
func minPodBits(a netip.Addr) int {
	if a.Is4() {
		return 8
	}
	return 48
}

// Seams for tests: the environment and the token's path.
var (
	getenv    = os.Getenv
	environ   = os.Environ
	tokenPath = TokenPath
)
