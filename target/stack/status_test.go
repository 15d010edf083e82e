package stack

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStubStatus(t *testing.T) {
	got, err := parseStubStatus("Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n")
	require.NoError(t, err)
	require.Equal(t, NginxStatus{Active: 291, Accepts: 16630948, Handled: 16630948, Requests: 31070465,
		Reading: 6, Writing: 179, Waiting: 106}, got)
	// Anything else (an HTML error page, the generation route) is an error, not zeros.
	for _, bad := range []string{"", "generation 3\n", "Active connections: x\na\n1 2 3\nReading: 1 Writing: 2 Waiting: 3\n"} {
		_, err := parseStubStatus(bad)
		require.Error(t, err, bad)
	}
}

func TestCountTimeWait(t *testing.T) {
	// /proc/net/tcp: local 127.0.0.1:40000 -> remote 127.0.0.1:8443 (0x20FB), one per state.
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C40 0100007F:20FB 06 00000000:00000000 03:00000F2C 00000000     0        0 0 3 0000000000000000
   1: 0100007F:9C41 0100007F:20FB 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000
   2: 0100007F:20FB 0100007F:9C42 06 00000000:00000000 03:00000F2C 00000000     0        0 0 3 0000000000000000
   3: 0100007F:9C43 0100007F:1F90 06 00000000:00000000 03:00000F2C 00000000     0        0 0 3 0000000000000000
`
	// The load side: remote port 8443 in TIME_WAIT (row 0; row 1 is established, row 3 another port).
	require.Equal(t, int64(1), CountTimeWait(text, 8443, false))
	// The server side: local port 8443 in TIME_WAIT (row 2).
	require.Equal(t, int64(1), CountTimeWait(text, 8443, true))
	require.Zero(t, CountTimeWait("", 8443, false))
}
