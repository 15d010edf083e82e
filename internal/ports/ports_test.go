package ports

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFreeIsBelowTheEphemeralRange(t *testing.T) {
	lo, hi := Range()
	require.Less(t, lo, hi)
	for range 20 {
		p, err := Free()
		require.NoError(t, err)
		require.GreaterOrEqual(t, p, lo)
		require.Less(t, p, hi)
		// It really is free: we can bind it.
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		require.NoError(t, err)
		require.NoError(t, l.Close())
	}
}
