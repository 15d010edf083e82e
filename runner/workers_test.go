package runner

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workersScenario is steady load and nothing else: what the merge must not change.
const workersScenario = `name: workers-merge
description: steady load, sent by one worker or by three
seed: 5
architectures: [stateless]
clients: 12
phases:
  - {name: load, duration: 10s, rate: 200/s}
thresholds:
  all: [errors.rate < 1%, writes.lost == 0, writes.duplicates == 0]
`

// Percentile floors of TestWorkersMergeExactly: the agreement it asks of 3 workers is the spread of two
// 1-worker runs, but never tighter than these. At 200/s against a stack on this host, p50 is a few ms and
// moves by a ms or two between identical runs; p90 and p99 are a few ms to tens of ms and move with
// whatever else this machine runs (the suite shares it), so their floors are relative.
const (
	floorP50MS = 3.0
	floorTail  = 0.5 // of the larger 1-worker value, plus floorP50MS
)

// TestWorkersMergeExactly runs one scenario three times on real stacks: twice with one loader container
// (the noise between two identical runs) and once with three. The merge must keep every planned request
// (planned = sent + dropped, per worker and in total, and the same plan as one worker's), count every
// request once, and give percentiles within the two 1-worker runs' spread; every worker's clock offset is
// measured, and on one Docker host (one kernel clock) it is the measurement's noise, far within the bound.
func TestWorkersMergeExactly(t *testing.T) {
	dockertest.Require(t)
	file := filepath.Join(t.TempDir(), "workers-merge.yaml")
	require.NoError(t, os.WriteFile(file, []byte(workersScenario), 0o644))
	plan, err := scenarios.Load(file)
	require.NoError(t, err)

	run := func(workers int) results.Arch {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := Run(ctx, plan, WithOutDir(t.TempDir()), WithWorkers(workers), WithLog(testWriter{t}, false))
		require.NoError(t, err)
		require.Len(t, out.Summary.Architectures, 1)
		a := out.Summary.Architectures[0]
		require.Empty(t, a.Error)
		require.Len(t, a.Workers, workers)
		var planned, sent, dropped int64
		for _, w := range a.Workers {
			assert.Equal(t, w.Planned, w.Sent+w.Dropped, "worker %s: planned = sent + dropped", w.Segment)
			assert.True(t, w.ClockMeasured, "worker %s measured its clock", w.Segment)
			assert.Less(t, math.Abs(w.ClockOffsetMS)+w.ClockUncertaintyMS, float64(results.MaxWorkerClockOffset.Milliseconds()))
			planned, sent, dropped = planned+w.Planned, sent+w.Sent, dropped+w.Dropped
		}
		r := a.Requests
		assert.Equal(t, r.Planned, planned, "the merged plan is the workers' plans")
		assert.Equal(t, r.Sent, sent)
		assert.Equal(t, r.Dropped, dropped)
		assert.Equal(t, r.Planned, r.Sent+r.Dropped, "planned = sent + dropped across workers")
		assert.Equal(t, r.Sent, r.OK+r.Failed, "every request sent is counted once")
		assert.Equal(t, results.StatusPassed, out.Summary.Verdict, "%v", a.InvalidReasons)
		return a
	}
	one, three, oneAgain := run(1), run(3), run(1)

	q := func(a results.Arch, quant float64) float64 {
		for _, p := range a.Percentiles {
			if p.Quantile == quant {
				return p.MS
			}
		}
		t.Fatalf("no p%g", quant)
		return 0
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-10s %8s %8s %8s %9s %9s %9s %7s\n", "run", "planned", "sent", "dropped", "p50 ms", "p90 ms", "p99 ms", "errors")
	for _, r := range []struct {
		name string
		a    results.Arch
	}{{"1 worker", one}, {"3 workers", three}, {"1 worker", oneAgain}} {
		fmt.Fprintf(&table, "%-10s %8d %8d %8d %9.2f %9.2f %9.2f %7d  clock offsets (ms):", r.name, r.a.Requests.Planned, r.a.Requests.Sent,
			r.a.Requests.Dropped, q(r.a, 50), q(r.a, 90), q(r.a, 99), r.a.Requests.Failed)
		for _, w := range r.a.Workers {
			fmt.Fprintf(&table, " %s %+.3f±%.3f", w.Segment, w.ClockOffsetMS, w.ClockUncertaintyMS)
		}
		table.WriteString("\n")
	}
	t.Log(table.String())

	assert.Equal(t, one.Requests.Planned, three.Requests.Planned, "3 workers plan exactly what 1 does")
	assert.Equal(t, one.Requests.Planned, oneAgain.Requests.Planned)
	for _, quant := range []float64{50, 90, 99} {
		a, b, c := q(one, quant), q(oneAgain, quant), q(three, quant)
		lo, hi := min(a, b), max(a, b)
		tol := max(hi-lo, floorP50MS)
		if quant > 50 {
			tol = max(hi-lo, floorP50MS+floorTail*hi)
		}
		assert.GreaterOrEqual(t, c, lo-tol, "p%g of 3 workers %.2f ms, 1 worker %.2f and %.2f ms", quant, c, a, b)
		assert.LessOrEqual(t, c, hi+tol, "p%g of 3 workers %.2f ms, 1 worker %.2f and %.2f ms", quant, c, a, b)
	}
}
