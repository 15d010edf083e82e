package load

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTraceInstantsInOrder runs against an in-process server and reads every traced request back from
// records.jsonl: its instants come in their order (planned ≤ dispatched ≤ dequeued ≤ written ≤ first
// byte ≤ done), and the histograms count what was traced: the send lag every request, each stage every
// traced request. Nothing is timed: only order and counts are asserted.
func TestTraceInstantsInOrder(t *testing.T) {
	tests := []struct {
		name  string
		every int
		opts  []Option
	}{
		// every request traced, on the wire client.
		{"wire, all", 1, nil},
		// the default sampling: only the requests whose number is drawn.
		{"wire, default", 0, nil},
		// net/http's path (WithHTTPClient, as HTTP/2 takes), stamped from its client trace (traced requests
		// only: with every one traced, the send lag still counts them all).
		{"net/http, all", 1, []Option{WithHTTPClient(newHTTPClient(8))}},
		// tracing off: no request traced, the send lag still measured.
		{"off", -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := okServer(t)
			cfg := Config{BaseURL: srv.URL, Mix: getMix(), Phases: []Phase{{"c", time.Second, Constant(200)}},
				RunDir: t.TempDir(), TraceEvery: tc.every, WarmConns: -1}
			res, err := Run(context.Background(), cfg, append(tc.opts, WithoutProgress())...)
			require.NoError(t, err)
			done := res.Totals.Completed
			require.Positive(t, done)
			require.Zero(t, res.Totals.Errors)

			f, err := os.Open(res.Files.Records)
			require.NoError(t, err)
			defer f.Close()
			var nTraced int64
			require.NoError(t, ReadRecords(f, func(r Record) error {
				want := tc.every == 1 || (tc.every == 0 && traced(r.Seq, DefaultTraceEvery))
				if r.Dequeued == 0 {
					assert.False(t, want, "seq %d was drawn but not traced", r.Seq)
					return nil
				}
				assert.True(t, want, "seq %d traced but not drawn", r.Seq)
				nTraced++
				at := []time.Duration{r.Planned, r.Sent, r.Dequeued, r.Written, r.FirstByte, r.Planned + r.Latency}
				for i := 1; i < len(at); i++ {
					// records.jsonl has whole microseconds, truncated alike: the order survives.
					assert.LessOrEqual(t, at[i-1], at[i], "seq %d: instant %d before %d: %v", r.Seq, i, i-1, at)
				}
				assert.Positive(t, r.FirstByte, "seq %d: an answered request has its first byte", r.Seq)
				return nil
			}))
			h := res.Harness
			assert.Equal(t, nTraced, h.Traced)
			assert.Equal(t, done, h.SendLag.TotalCount(), "the send lag of every request")
			for i, s := range h.Stages {
				assert.Equal(t, nTraced, s.TotalCount(), "stage %s: every traced request reached its end", Stage(i))
			}
			switch tc.every {
			case 1:
				assert.Equal(t, done, nTraced)
			case -1:
				assert.Zero(t, nTraced)
			default:
				// 1 in 16 of ~200: drawn by a hash of the number, so neither none nor all.
				assert.Positive(t, nTraced)
				assert.Less(t, nTraced, done/4)
			}
		})
	}
}

// TestTracedSpreadsOverSegments: the sample is drawn from a mix of the request's number, so workers
// that own interleaved numbers (two segments: odd and even, Segment.Owns) each trace about 1 in N of
// theirs, not one of them all and the other none.
func TestTracedSpreadsOverSegments(t *testing.T) {
	var n [2]int
	const total = 64_000
	for seq := uint64(1); seq <= total; seq++ {
		if traced(seq, 16) {
			n[seq%2]++
		}
	}
	// 2000 expected each; a binomial's standard deviation is ~43: 1800 is more than 4 of them away.
	for i, c := range n {
		assert.InDelta(t, total/2/16, c, 200, "segment %d", i)
	}
}
