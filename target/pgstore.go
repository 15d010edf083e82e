package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// pgStore is PostgreSQL behind a circuit breaker (STORE=postgres): the durable store of orders, their
// idempotency records and resources (pgorders.go). Redis stays the session store and a cache of replayed
// answers. The schema (pgtruth.Schema) is created by the API itself, idempotently, before its first query:
// whichever node gets there first creates it, so a stack needs no migration step and a node that starts
// while PostgreSQL is down creates it once PostgreSQL answers.
type pgStore struct {
	pool    *pgxpool.Pool
	cb      *gobreaker.CircuitBreaker[struct{}]
	timeout time.Duration
	op      *prometheus.HistogramVec

	schemaMu sync.Mutex
	schemaOK atomic.Bool
}

func newPGStore(cfg Config, m *metrics, log *slog.Logger) (*pgStore, error) {
	pc, err := pgxpool.ParseConfig(cfg.PostgresDSN)
	if err != nil {
		return nil, fmt.Errorf("POSTGRES_DSN: %w", err)
	}
	// The pool is the node's share of PostgreSQL's max_connections: the stack divides them by the node
	// count (arch.PostgresPoolSize). It connects lazily: New does not wait for PostgreSQL.
	pc.MaxConns = int32(cfg.PostgresPoolSize)
	pc.ConnConfig.ConnectTimeout = cfg.PostgresTimeout
	// A connection broken by an outage is found at its next use and dropped; check idle ones often, so
	// that after a restart of PostgreSQL the pool holds few dead connections.
	pc.HealthCheckPeriod = time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres pool: %w", err)
	}
	p := &pgStore{pool: pool, timeout: cfg.PostgresTimeout}
	constLabels := prometheus.Labels{"node": cfg.NodeID}
	p.op = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "refapi_postgres_op_duration_seconds", Help: "PostgreSQL transactions, by operation, including failures.",
		ConstLabels: constLabels, Buckets: []float64{.00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 2.5},
	}, []string{"op"})
	breaker := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "refapi_postgres_breaker_state", Help: "PostgreSQL circuit breaker: 0 closed, 1 half-open, 2 open.", ConstLabels: constLabels,
	})
	stat := func(name, help string, f func(*pgxpool.Stat) int32) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels},
			func() float64 { return float64(f(pool.Stat())) })
	}
	m.reg.MustRegister(p.op, breaker,
		stat("refapi_postgres_pool_max_conns", "The PostgreSQL pool's size (POSTGRES_POOL_SIZE).", (*pgxpool.Stat).MaxConns),
		stat("refapi_postgres_pool_total_conns", "PostgreSQL connections open now.", (*pgxpool.Stat).TotalConns),
		stat("refapi_postgres_pool_acquired_conns", "PostgreSQL connections in use now.", (*pgxpool.Stat).AcquiredConns))
	p.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name: "postgres", MaxRequests: 1, Timeout: breakerOpenFor,
		ReadyToTrip:  func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			breaker.Set(float64(to))
			log.Warn("postgres circuit breaker", "from", from.String(), "to", to.String())
			if to == gobreaker.StateOpen {
				// Failures in a row mean the server is gone or is no longer the primary (postgres-failover:
				// a killed primary's connections hang until their deadline, one failed request each).
				// Drop every connection, idle ones now and busy ones when released, so that the half-open
				// trial dials afresh: to the promoted standby, through the DSN's read-write host list.
				pool.Reset()
			}
		},
	})
	return p, nil
}

// ensureSchema creates the schema once per process (pgtruth.EnsureSchema is idempotent and serialized
// across nodes by an advisory lock); a failure is retried by the next request.
func (p *pgStore) ensureSchema(ctx context.Context) error {
	if p.schemaOK.Load() {
		return nil
	}
	p.schemaMu.Lock()
	defer p.schemaMu.Unlock()
	if p.schemaOK.Load() {
		return nil
	}
	if err := pgtruth.EnsureSchema(ctx, p.pool); err != nil {
		return err
	}
	p.schemaOK.Store(true)
	return nil
}

// do runs one PostgreSQL transaction (or query) through the breaker, with a deadline. As with Redis
// (store.do), fn returns only store errors; logical outcomes travel in the closure's variables.
func (p *pgStore) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	start := time.Now()
	_, err := p.cb.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, p.timeout)
		defer cancel()
		if err := p.ensureSchema(ctx); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fn(ctx)
	})
	p.op.WithLabelValues(op).Observe(time.Since(start).Seconds())
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		return err
	default:
		return fmt.Errorf("%w: postgres %s: %v", errUnavailable, op, err)
	}
}

// ping checks PostgreSQL directly (not through the breaker), and the schema, for /readyz.
func (p *pgStore) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := p.ensureSchema(ctx); err != nil {
		return err
	}
	return p.pool.Ping(ctx)
}

// poolText is the pool's state for /readyz: its size and what is open and in use now.
func (p *pgStore) poolText() string {
	st := p.pool.Stat()
	return fmt.Sprintf("max %d, open %d, in use %d", st.MaxConns(), st.TotalConns(), st.AcquiredConns())
}

func (p *pgStore) close() { p.pool.Close() }
