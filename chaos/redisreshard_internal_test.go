package chaos

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClusterMasters(t *testing.T) {
	for _, tt := range []struct {
		name  string
		nodes string
		want  []string // ids, primary of slot 0 first
		err   string
	}{
		// A formed cluster: three primaries listed out of slot order, three replicas skipped.
		{"formed", `b 10.0.0.4:6379@16379 master - 0 1 2 connected 5461-10922
r1 10.0.0.6:6379@16379 slave a 0 1 1 connected
a 10.0.0.2:6379@16379 myself,master - 0 1 1 connected 0-5460
c 10.0.0.5:6379@16379 master - 0 1 3 connected 10923-16383`, []string{"a", "b", "c"}, ""},
		// After a failover the dead primary keeps its line, flagged fail, with no slots: skipped.
		{"failed over", `a 10.0.0.2:6379@16379 master,fail - 1 1 1 disconnected
d 10.0.0.7:6379@16379 master - 0 1 4 connected 0-5460
b 10.0.0.4:6379@16379 master - 0 1 2 connected 5461-10922`, []string{"d", "b"}, ""},
		// After a reshard a primary holds several ranges and single slots; a migrating slot is skipped.
		{"resharded", `a 10.0.0.2:6379@16379 myself,master - 0 1 1 connected 1000-5460 [999->-b]
b 10.0.0.4:6379@16379 master - 0 1 2 connected 0-998 999 5461-10922`, []string{"b", "a"}, ""},
		// One Redis in cluster mode with no slots: nothing to move.
		{"no slots", `a 10.0.0.2:6379@16379 myself,master - 0 0 0 connected`, nil, "found 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clusterMasters(tt.nodes)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			require.Equal(t, tt.want, ids)
			require.True(t, got[0].IP.IsValid() && got[0].IP != netip.Addr{})
		})
	}
}
