package local

import (
	"context"
	"net/netip"
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
