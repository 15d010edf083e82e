package chaos

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedisLinkParams(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		params Params
		want   RedisLink // when err is ""
		err    string
	}{
		// Each part alone is a fault.
		{"delay", Params{"delay": "50ms"}, RedisLink{Delay: 50 * ms}, ""},
		{"loss", Params{"loss": "1"}, RedisLink{Loss: 1}, ""},
		// A percent sign and fractions are fine, as for packet-loss.
		{"loss with %", Params{"loss": "0.5%"}, RedisLink{Loss: 0.5}, ""},
		// All three together: a slow, jittery, lossy link.
		{"all", Params{"delay": "20ms", "jitter": "10ms", "loss": "2"}, RedisLink{Delay: 20 * ms, Jitter: 10 * ms, Loss: 2}, ""},
		// Jitter may be as large as the delay (a chunk is then held 0 to 2 × delay), not larger.
		{"jitter = delay", Params{"delay": "10ms", "jitter": "10ms"}, RedisLink{Delay: 10 * ms, Jitter: 10 * ms}, ""},
		{"jitter > delay", Params{"delay": "10ms", "jitter": "11ms"}, RedisLink{}, "jitter 11ms exceeds delay 10ms"},
		// Jitter is around a delay: without one it would hold chunks for a negative time half the time.
		{"jitter alone", Params{"jitter": "10ms"}, RedisLink{}, "jitter 10ms needs a delay"},
		// Jitter 0 is no jitter, written out.
		{"jitter 0", Params{"delay": "10ms", "jitter": "0s"}, RedisLink{Delay: 10 * ms}, ""},
		// Nothing to degrade.
		{"nothing", nil, RedisLink{}, "give delay, loss or both"},
		{"delay 0", Params{"delay": "0s"}, RedisLink{}, "delay must be > 0"},
		{"loss 0", Params{"loss": "0"}, RedisLink{}, `parameter loss="0": want a percentage in (0, 100]`},
		// Out of range or not a value.
		{"loss over 100", Params{"loss": "101"}, RedisLink{}, "want a percentage in (0, 100]"},
		{"negative delay", Params{"delay": "-5ms"}, RedisLink{}, "want a duration like 200ms"},
		{"delay no unit", Params{"delay": "50"}, RedisLink{}, `parameter delay="50"`},
		// A typo, or another fault's parameter, is refused with the names it takes.
		{"percent", Params{"percent": "30"}, RedisLink{}, `unknown parameter "percent" (known: delay, jitter, loss)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New("redis-link", tt.params)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.ErrorContains(t, err, "fault redis-link: ", "the error names the fault")
				return
			}
			require.NoError(t, err)
			require.Equal(t, &tt.want, f)
		})
	}
}
