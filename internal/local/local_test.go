package local

import (
	"context"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllowed(t *testing.T) {
	bridges := []netip.Prefix{netip.MustParsePrefix("172.18.0.0/16")}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},      // loopback
		{"::1", true},            // loopback, IPv6
		{"172.18.0.5", true},     // a container on a Docker bridge of this host
		{"172.19.0.5", false},    // another private network
		{"10.0.0.7", false},      // the LAN: another machine
		{"93.184.215.14", false}, // the internet
	} {
		require.Equal(t, tc.want, Allowed(netip.MustParseAddr(tc.addr), bridges), tc.addr)
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, CheckURL(ctx, "http://127.0.0.1:8080"))
	require.NoError(t, CheckURL(ctx, "http://localhost:8080/x"))
	require.ErrorContains(t, CheckURL(ctx, "http://10.1.2.3:80"), "not on this machine")
	require.ErrorContains(t, CheckURL(ctx, "ftp://127.0.0.1"), "want http")
	require.ErrorContains(t, CheckURL(ctx, "http://"), "no host")
}

// TestContainerNetwork: a worker may name only a network it is attached to from inside a container, no
// wider; on the host the flag is refused whatever it names.
func TestContainerNetwork(t *testing.T) {
	inC, nets := inContainer, attachedNets
	t.Cleanup(func() { inContainer, attachedNets = inC, nets })
	attachedNets = func() ([]netip.Prefix, error) { return []netip.Prefix{netip.MustParsePrefix("172.21.0.0/16")}, nil }

	inContainer = func() bool { return true }
	for _, tc := range []struct {
		net string
		ok  bool
	}{
		{"172.21.0.0/16", true},   // the run's network, as the runner passes it
		{"172.21.3.0/24", true},   // a part of it
		{"172.0.0.0/8", false},    // wider than the network it is on
		{"0.0.0.0/0", false},      // everything
		{"192.168.1.0/24", false}, // a network it is not on
	} {
		err := ContainerNetwork(netip.MustParsePrefix(tc.net))
		require.Equal(t, tc.ok, err == nil, "%s: %v", tc.net, err)
	}

	inContainer = func() bool { return false }
	require.ErrorContains(t, ContainerNetwork(netip.MustParsePrefix("172.21.0.0/16")), "only a worker in a container")
}

// TestPodNetworks: only inside a pod (KUBERNETES_SERVICE_HOST and a token), and then only the pod's own
// subnets and its namespace's Services' addresses.
func TestPodNetworks(t *testing.T) {
	ge, en, tp, nets := getenv, environ, tokenPath, attachedNets
	t.Cleanup(func() { getenv, environ, tokenPath, attachedNets = ge, en, tp, nets })
	token := t.TempDir() + "/token"
	require.NoError(t, os.WriteFile(token, []byte("x"), 0o600))
	env := map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "API_SERVICE_HOST": "10.96.14.7", "HOME": "/root"}
	getenv = func(k string) string { return env[k] }
	environ = func() []string {
		var out []string
		for k, v := range env {
			out = append(out, k+"="+v)
		}
		return out
	}
	attachedNets = func() ([]netip.Prefix, error) {
		return []netip.Prefix{netip.MustParsePrefix("10.88.0.0/16"), netip.MustParsePrefix("0.0.0.0/0")}, nil
	}

	tokenPath = token
	nets2, err := PodNetworks()
	require.NoError(t, err)
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.88.0.9", true},      // another pod, or the node's bridge
		{"10.96.14.7", true},     // the api Service's cluster IP
		{"10.96.0.1", true},      // the kubernetes Service
		{"10.96.14.8", false},    // an address beside a Service's: not a Service of this namespace
		{"192.168.1.20", false},  // the LAN: the /0 interface is no pod network
		{"93.184.215.14", false}, // the internet
	} {
		require.Equal(t, tc.want, Allowed(netip.MustParseAddr(tc.addr), nets2), tc.addr)
	}

	for _, tc := range []struct {
		name, host, token, want string
	}{
		{"no KUBERNETES_SERVICE_HOST: a host, or a Docker container", "", token, "not a Kubernetes pod"},
		{"a host name instead of an address", "kubernetes", token, "not an address"},
		{"no token mounted", "10.96.0.1", t.TempDir() + "/none", "no service-account token"},
	} {
		env["KUBERNETES_SERVICE_HOST"], tokenPath = tc.host, tc.token
		_, err := PodNetworks()
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}
