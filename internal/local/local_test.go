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
