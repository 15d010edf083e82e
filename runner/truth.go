package runner

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/chaosbench/chaosbench/blackbox"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/invariants"
	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/chaosbench/chaosbench/target/keyspace"
	"github.com/chaosbench/chaosbench/target/stack"
	"github.com/redis/go-redis/v9"
)

// Truth is what the checks found: against the store, or through the API (BlackBox beside Redis's with
// --cross-check), or a declared scenario's invariants and their reads.
type Truth struct {
	findings, blackBox results.Findings
	reads              []results.InvariantRead
}

// TruthSource is where the checks read the ground truth once the load is over, wherever the service runs.
type TruthSource struct {
	// Entry is the service's URL as this process reaches it (the contract's reads, the invariants').
	Entry string
	// TLS trusts the run's certificate (nil: plain HTTP).
	TLS *tls.Config
	// Store checks the ledger against the service's store (Redis, PostgreSQL); nil: chaosbench does not
	// know the service's storage, and the black-box checker reads the contract instead.
	Store func(ctx context.Context, l load.LedgerSnapshot) (results.Findings, error)
}

// readTruth checks the ledger against the ground truth once the load is over, every fault reverted and
// the service had a moment to settle (answers the clients gave up on may still be committing): from
// Redis for the reference API, through the contract for a user's image or an attached project, whose
// storage chaosbench does not know, and through the scenario's invariants for declared ops.
func readTruth(ctx context.Context, st *stack.Stack, plan scenarios.Plan, a arch.Arch, seed int64, l load.LedgerSnapshot,
	cfg RunConfig, faults *FaultRun) (Truth, error) {
	faults.RevertAll()
	// An interrupted run skips the wait, not the check: what was measured is still written.
	poll.Sleep(ctx, blackbox.DefaultSettle)
	src := TruthSource{Entry: st.Entry, TLS: clientTLS(st)}
	switch {
	case a.Service.Custom() || plan.Attach != nil: // storage chaosbench does not know
	case a.UsesPostgres():
		// store: postgres keeps orders and resources in PostgreSQL: its tables are the ground truth
		// (truth_postgres.go), not Redis, which only caches there.
		src.Store = func(ctx context.Context, l load.LedgerSnapshot) (results.Findings, error) {
			return postgresCheck(ctx, st, l)
		}
	default:
		src.Store = func(ctx context.Context, l load.LedgerSnapshot) (results.Findings, error) {
			var rdb redis.UniversalClient
			if addrs := st.RedisClusterAddrs(); addrs != nil {
				// A Redis Cluster: read every primary, at the nodes' addresses on the run's network.
				rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
			} else {
				raddr, err := st.RedisHostAddr(ctx) // a Redis restart may have moved its host port
				if err != nil {
					return nil, fmt.Errorf("find redis for the checker: %w", err)
				}
				rdb = redis.NewClient(&redis.Options{Addr: raddr})
			}
			defer rdb.Close()
			return RedisCheck(ctx, rdb, l)
		}
	}
	return CheckTruth(plan, seed, l, cfg, src)
}

// CheckTruth runs the checks of plan's run on the merged ledger l against src, on a bounded context of
// its own (an interrupted run is still checked): a declared scenario's invariants; else the store's
// ground truth and, with cfg.CrossCheck, the contract's beside it; else (no store) the contract's alone.
func CheckTruth(plan scenarios.Plan, seed int64, l load.LedgerSnapshot, cfg RunConfig, src TruthSource) (Truth, error) {
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var t Truth
	if plan.Declared() {
		// The scenario's own invariants, read back through its API (package invariants); without any,
		// every check is "not checked", and a threshold on it fails as not measured.
		f, reads, err := declaredCheck(cctx, plan, src.Entry, uint64(seed), l, src.TLS, cfg.Log)
		if err != nil {
			return t, fmt.Errorf("check the invariants through the API: %w", err)
		}
		t.findings, t.reads = f, reads
		return t, nil
	}
	if src.Store != nil {
		f, err := src.Store(cctx, l)
		if err != nil {
			return t, fmt.Errorf("check ground truth: %w", err)
		}
		t.findings = f
	}
	if src.Store == nil || cfg.CrossCheck {
		var bopts []blackbox.Option
		if src.TLS != nil { // the run's certificate, as the load trusted it
			bopts = append(bopts, blackbox.WithHTTPClient(&http.Client{Timeout: 10 * time.Second,
				Transport: &http.Transport{Proxy: nil, TLSClientConfig: src.TLS}}))
		}
		f, err := blackBoxCheck(cctx, src.Entry, l, cfg.Log, bopts...)
		if err != nil {
			return t, fmt.Errorf("check ground truth through the API: %w", err)
		}
		if src.Store == nil {
			t.findings = f
		} else {
			t.blackBox = f
		}
	}
	return t, nil
}

// NotCheckedDeclared is why a scenario of declared ops that declares no invariant and no session has
// none of the checks.
const NotCheckedDeclared = "declared ops without invariants: this check reads the contract's orders, resources " +
	"and sessions, which they do not write; declare invariants (docs/scenarios.md, \"Invariants\") to check yours"

// NotCheckedNoSession is why the session checks of a declared client without a session are not checked.
const NotCheckedNoSession = "the declared client has no session (client.session: {token, unknown, lifetime})"

// declaredCheck reads a declared scenario's invariants through its API at entry and judges the ledger
// against them.
func declaredCheck(ctx context.Context, plan scenarios.Plan, entry string, seed uint64, l load.LedgerSnapshot,
	tlsCfg *tls.Config, log io.Writer) (results.Findings, []results.InvariantRead, error) {
	if len(plan.Invariants) == 0 && (plan.Client == nil || plan.Client.Session == nil) {
		return results.NotChecked(NotCheckedDeclared), nil, nil
	}
	var opts []invariants.Option
	if tlsCfg != nil { // the run's certificate, as the load trusted it
		opts = append(opts, invariants.WithHTTPClient(&http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{Proxy: nil, TLSClientConfig: tlsCfg}}))
	}
	icfg := invariants.Config{Base: entry, Client: plan.EngineClient(), Invariants: plan.Invariants, Seed: seed}
	if plan.Retry.On != nil {
		icfg.RetryStatuses = plan.Retry.On.Statuses
	}
	truth, err := invariants.Read(ctx, icfg, l, opts...)
	if err != nil {
		return nil, nil, err
	}
	if log != nil {
		for _, r := range truth.Reads {
			fmt.Fprintln(log, r)
		}
	}
	copts := []results.CheckOption{results.DeclaredWrites()}
	if plan.Client == nil || plan.Client.Session == nil {
		copts = append(copts, results.NoSessions(NotCheckedNoSession))
	}
	f, err := results.CheckLedger(ctx, truth, l, copts...)
	return f, truth.Reads, err
}

// RedisCheck reads the reference API's ground truth from its Redis, waiting briefly for a Redis that a
// fault just restarted to load its data, and checks the ledger against it.
func RedisCheck(ctx context.Context, rdb redis.UniversalClient, l load.LedgerSnapshot) (results.Findings, error) {
	if err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) error { return rdb.Ping(ctx).Err() }); err != nil {
		return nil, fmt.Errorf("redis did not answer: %w", err)
	}
	return results.CheckLedger(ctx, keyspace.NewRedisTruth(rdb), l)
}

// blackBoxCheck reads ground truth through the service's own API (package blackbox) and runs the checks
// on it.
func blackBoxCheck(ctx context.Context, entry string, l load.LedgerSnapshot, log io.Writer, bopts ...blackbox.Option) (results.Findings, error) {
	truth, err := blackbox.Read(ctx, entry, load.DefaultPassword, l, append([]blackbox.Option{blackbox.WithSettle(0)}, bopts...)...)
	if err != nil {
		return nil, err
	}
	if log != nil {
		fmt.Fprintf(log, "ground truth through the API: %s\n", truth)
	}
	return results.CheckLedger(ctx, truth, l)
}
