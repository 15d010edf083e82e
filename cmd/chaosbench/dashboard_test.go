package main

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// TestRunDashboardBadInput: a --dashboard that cannot serve is bad input (exit 2), refused before the
// scenario's stack would start (none of these cases needs Docker: they stop before the first container).
func TestRunDashboardBadInput(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		// Someone else has the port: fail fast, not after a minute of stack start-up.
		{"port in use", []string{"run", "kill-node", "--dashboard=" + held.Addr().String()}, "address already in use"},
		// Every interface, without saying so.
		{"not loopback", []string{"run", "kill-node", "--dashboard=0.0.0.0:0"}, "add --dashboard-public"},
		// The flag that allows it, alone.
		{"public alone", []string{"run", "kill-node", "--dashboard-public"}, "--dashboard-public needs --dashboard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, exitBadInput, run(context.Background(), tc.args))
			d := dashboardFlags{}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			d.register(fs)
			require.NoError(t, fs.Parse(tc.args[2:]))
			_, _, err := d.start(io.Discard)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
