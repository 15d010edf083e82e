package stack

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/chaosbench/chaosbench/target/arch"
)

// A PostgreSQL standby (arch.Arch.PostgresStandby): postgres-2 at .9, started beside the primary with the
// same script (postgresScript), which waits for the primary and copies it with pg_basebackup -R. Up is
// ready once the primary's pg_stat_replication shows the standby streaming; with sync, it then sets
// synchronous_standby_names on the primary (ALTER SYSTEM, after the copy, so that the standby's own
// configuration does not inherit it: promoted, it has no standby to wait for, and would otherwise block
// every commit).

// startPostgresStandby starts the standby in g, beside the others.
func (s *Stack) startPostgresStandby(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error {
		cmd := []string{"sh", "-c", postgresScript(s.Subnet, s.PostgresStandby.Name, s.Postgres.IP, false)}
		ctr, err := s.run(ctx, s.PostgresStandby, postgresImage(), nil, cmd, postgresPort, nil)
		s.PostgresStandby.ID = idOf(ctr)
		return err
	})
}

// waitStandby returns once the primary at dsn (from the host) streams to the standby, synchronously with
// sync, or fails saying what the primary reports.
func (s *Stack) waitStandby(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("postgres primary: %w", err)
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	// First the standby as pg_basebackup made it, asynchronous; only then, with sync, the primary's
	// synchronous_standby_names: set before the copy, it would be in the standby's postgresql.auto.conf
	// too, and once promoted the standby would wait for a standby of its own on every commit.
	if err := s.waitStandbyState(ctx, c, arch.StandbyAsync); err != nil {
		return err
	}
	if s.Config.Arch.PostgresStandby != arch.StandbySync {
		return nil
	}
	// '*': whichever standby streams, the one there is; synchronous_commit is on (PostgreSQL's default).
	if _, err := c.Exec(ctx, "ALTER SYSTEM SET synchronous_standby_names = '*'"); err != nil {
		return fmt.Errorf("postgres primary: set synchronous_standby_names: %w", err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("postgres primary: reload: %w", err)
	}
	return s.waitStandbyState(ctx, c, arch.StandbySync)
}

// waitStandbyState polls the primary's pg_stat_replication until the standby streams in mode (its
// sync_state), or fails with what it last said when ctx ends.
func (s *Stack) waitStandbyState(ctx context.Context, c *pgx.Conn, mode string) error {
	var last string
	for {
		state, syncState, err := standbyState(ctx, c, s.PostgresStandby.Name)
		switch {
		case err != nil:
			last = err.Error()
		case state == "streaming" && syncState == mode:
			return nil
		case state == "":
			last = "pg_stat_replication shows no " + s.PostgresStandby.Name
		default:
			last = fmt.Sprintf("%s is %s, %s", s.PostgresStandby.Name, state, syncState)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres standby %s did not stream from the primary (%s): %s", s.PostgresStandby.Name,
				mode, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// standbyState is the standby's state and sync_state in the primary's pg_stat_replication ("" when it is
// not connected).
func standbyState(ctx context.Context, c *pgx.Conn, name string) (state, syncState string, err error) {
	err = c.QueryRow(ctx, "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1", name).
		Scan(&state, &syncState)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	return state, syncState, err
}

// postgresServersDSN names every server of a stack with a standby that has a host port now (a killed one
// has none), primary's first: pgx keeps the first that is not read-only.
func (s *Stack) postgresServersDSN(ctx context.Context, primary string, primaryErr error) (string, error) {
	var addrs []netip.AddrPort
	if primaryErr == nil {
		addrs = append(addrs, netip.MustParseAddrPort(primary))
	}
	p, err := HostPort(ctx, s.docker, s.PostgresStandby.ID, postgresPort)
	if err == nil {
		addrs = append(addrs, netip.MustParseAddrPort("127.0.0.1:"+p))
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("no PostgreSQL server runs: %w", errors.Join(primaryErr, err))
	}
	if len(addrs) == 1 {
		// One DSN form for the checker whichever server runs: read-write, so that a standby alone is refused.
		return arch.PostgresDSN(addrs[0]) + "&target_session_attrs=read-write", nil
	}
	return arch.PostgresDSN(addrs...), nil
}
