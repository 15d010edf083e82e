package load

import (
	"context"
	"time"
)

// OpRunner calls ops one at a time as a worker does (its own wire connection, a fresh Exec per call,
// the clients' session or declared setup done first), without the scheduler and the records: for
// BenchmarkBuiltinOp and BenchmarkDeclaredOp, which compare what one op call costs the client.
type OpRunner struct {
	e   *engine
	w   *worker
	seq uint64
}

func NewOpRunner(ctx context.Context, cfg Config) (*OpRunner, error) {
	e, err := newEngine(cfg, []Option{WithoutProgress()})
	if err != nil {
		return nil, err
	}
	if err := e.setupClients(ctx); err != nil {
		return nil, err
	}
	e.start = time.Now()
	return &OpRunner{e: e, w: e.newWorker()}, nil
}

// Do calls the run's first op once, for the next client in turn.
func (r *OpRunner) Do(ctx context.Context) Outcome {
	r.seq++
	r.w.pcg.Seed(r.e.cfg.Seed, r.seq)
	x := &Exec{e: r.e, w: r.w, seq: r.seq, rnd: r.w.rnd, deadline: time.Now().Add(r.e.cfg.Retry.Budget)}
	if len(r.e.clients) > 0 {
		x.client = r.e.clients[int(r.seq)%len(r.e.clients)]
	}
	return r.e.ops[0].Do(ctx, x)
}

func (r *OpRunner) Close() {
	if r.w.wire != nil {
		r.w.wire.close()
	}
}
