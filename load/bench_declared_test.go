package load_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/benchorders"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/scenarios"
)

// BenchmarkBuiltinOp and BenchmarkDeclaredOp send the same request (order.create's POST /v1/orders,
// and the same declared in a scenario: internal/benchorders) one call at a time on one worker's
// connection. The server is in this process, the same for both, so ns/op and allocs/op include its
// share; the difference between the two is the client's. `make bench-declared` measures the client
// alone (CPU per request of the engine at a constant rate, the server in its own process).
func BenchmarkBuiltinOp(b *testing.B) {
	benchOp(b, func(cfg *load.Config) { cfg.Mix = load.Mix{{Op: load.OrderCreate{}, Weight: 1}} })
}

func BenchmarkDeclaredOp(b *testing.B) {
	plan, err := scenarios.Parse("bench-declared.yaml", []byte(benchorders.Scenario))
	if err != nil {
		b.Fatal(err)
	}
	benchOp(b, func(cfg *load.Config) { cfg.Client, cfg.Mix = plan.EngineClient(), plan.EngineMix() })
}

func benchOp(b *testing.B, set func(*load.Config)) {
	srv := httptest.NewServer(benchorders.Handler())
	defer srv.Close()
	cfg := load.Config{BaseURL: srv.URL, Clients: 4, Seed: 1, RunDir: b.TempDir(), Timeout: 5 * time.Second,
		Phases: []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(1)}}}
	set(&cfg)
	ctx := context.Background()
	r, err := load.NewOpRunner(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for range 100 { // warm the connection and the op's pools
		if o := r.Do(ctx); o.Class != load.ClassOK || o.Err != nil {
			b.Fatalf("%+v", o)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if o := r.Do(ctx); o.Class != load.ClassOK {
			b.Fatalf("%+v", o)
		}
	}
}
