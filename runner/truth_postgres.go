package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/target/pgtruth"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresCheck reads ground truth from the stack's PostgreSQL (an architecture with store: postgres),
// waiting briefly for a server that a fault just restarted to finish its recovery.
func postgresCheck(ctx context.Context, st *stack.Stack, l load.LedgerSnapshot) (results.Findings, error) {
	dsn, err := st.PostgresHostDSN(ctx)
	if err != nil {
		return nil, fmt.Errorf("find postgres for the checker: %w", err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres for the checker: %w", err)
	}
	defer pool.Close()
	if err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) error { return pool.Ping(ctx) }); err != nil {
		return nil, fmt.Errorf("postgres did not answer: %w", err)
	}
	// The nodes create the schema at their first query; a run that stored nothing may read before that.
	if err := pgtruth.EnsureSchema(ctx, pool); err != nil {
		return nil, err
	}
	return results.CheckLedger(ctx, pgtruth.NewTruth(pool), l)
}
