package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

func init() {
	Register(Kind{Name: "postgres-failover", Roles: []arch.Role{arch.RolePostgres}, Postgres: true, PostgresStandby: true,
		New: func(p Params) (Fault, error) { return &PostgresFailover{}, p.check() }})
}

// PostgresFailover kills the PostgreSQL primary of the moment (SIGKILL: no shutdown, no last WAL sent)
// and promotes its streaming standby at once (SELECT pg_promote(), which waits until the standby has
// replayed what it received and takes writes). It needs an architecture with a standby
// (postgres_standby: async or sync); whatever the target spec, it hits the primary of the moment, which
// after an earlier failover is postgres-2. The API nodes find the new primary themselves: their DSN names
// both servers with target_session_attrs=read-write, and their pools drop the connections to the dead
// one as each fails.
//
// What a failover loses is what the primary acknowledged and the standby had not received: with sync the
// primary acknowledges a commit only once the standby has flushed it, so nothing; with async, whatever
// was still on its way. The mechanism reports the replication mode and how far behind the standby was,
// as the primary's pg_stat_replication said just before the kill.
//
// Revert never starts the old primary as a primary, which would make two (split brain: the nodes' DSN
// names it first). Started, its container's script finds its peer primary and re-makes it as the new
// primary's standby with a fresh pg_basebackup (target/stack/postgres.go); Revert waits until it streams,
// and with sync makes it the new primary's synchronous standby, so that the stack is as it started with
// the roles swapped.
type PostgresFailover struct{}

var _ Fault = (*PostgresFailover)(nil)

func (*PostgresFailover) Name() string { return "postgres-failover" }

// psql runs one statement in a PostgreSQL container, through its local socket (trust), unaligned.
func psql(ctx context.Context, env *Env, name, sql string) (string, error) {
	return env.Stack.Exec(ctx, name, "psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres",
		"-XAtc", sql)
}

// standbyTimeout bounds Revert's wait for the old primary to stream again: a pg_basebackup of a run's
// database (a few MB) takes a second or two here.
const standbyTimeout = 45 * time.Second

func (f *PostgresFailover) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	var servers []arch.Container
	for _, c := range env.Stack.Containers() {
		if c.Role == arch.RolePostgres || c.Role == arch.RolePostgresStandby {
			servers = append(servers, c)
		}
	}
	if len(servers) != 2 {
		return Effect{}, fmt.Errorf("postgres-failover needs a PostgreSQL standby: the stack has %d server(s)", len(servers))
	}
	// Who is primary now: the one not in recovery. A server that does not answer (killed by another
	// fault) is neither.
	var primary, standby arch.Container
	for _, c := range servers {
		out, err := psql(ctx, env, c.Name, "SELECT pg_is_in_recovery()")
		switch {
		case err == nil && out == "f":
			primary = c
		case err == nil && out == "t":
			standby = c
		}
	}
	if primary.Name == "" || standby.Name == "" {
		return Effect{}, fmt.Errorf("postgres-failover needs a primary and a standby that answer: found primary %q, standby %q",
			primary.Name, standby.Name)
	}
	// The mode and the lag as the primary sees them, the last thing before the kill.
	repl, err := psql(ctx, env, primary.Name, "SELECT sync_state || ' ' || state || ' ' || "+
		"pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) || ' ' || pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "+
		"FROM pg_stat_replication WHERE application_name = '"+standby.Name+"'")
	if err != nil {
		return Effect{}, fmt.Errorf("postgres-failover: replication on %s: %w", primary.Name, err)
	}
	// A standby that is not connected has no row: the failover still runs (a standby that fell off is
	// a failure it may meet), and says so.
	mode, lag := "", "standby "+standby.Name+" not connected"
	if f := strings.Fields(repl); len(f) == 4 {
		mode, lag = f[0], fmt.Sprintf("%s standby %s %s, %s B unflushed, %s B unreplayed", f[0], standby.Name, f[1], f[2], f[3])
	}
	if err := env.Stack.Kill(ctx, primary.Name); err != nil {
		return Effect{}, err
	}
	start := time.Now()
	out, err := psql(ctx, env, standby.Name, "SELECT pg_promote(true, 30)")
	if err != nil || out != "t" {
		// The primary is dead and nothing took over: start it again (it is still a primary; its peer is not)
		// rather than leave the stack without one.
		rerr := env.Stack.Start(context.WithoutCancel(ctx), primary.Name)
		return Effect{}, fmt.Errorf("postgres-failover: promote %s: %q %v (old primary restarted: %v)", standby.Name, out, err, rerr)
	}
	promoted := time.Since(start)
	var rejoined string
	eff := Effect{
		Hit: primary.Name,
		Mechanism: fmt.Sprintf("postgres primary %s killed (docker kill SIGKILL; %s); %s promoted (pg_promote) in %s",
			primary.Name, lag, standby.Name, promoted.Round(10*time.Millisecond)),
		Revert: func(ctx context.Context) error {
			took, err := rejoin(ctx, env, primary.Name, standby.Name, mode)
			if err != nil {
				return err
			}
			rejoined = fmt.Sprintf("%s re-made as %s's %s standby (pg_basebackup) in %s", primary.Name, standby.Name,
				mode, took.Round(100*time.Millisecond))
			return nil
		},
		Tally: func() (string, error) {
			if rejoined == "" {
				return primary.Name + " not re-made as a standby", nil
			}
			return rejoined, nil
		},
	}
	return eff, nil
}

// rejoin starts the old primary, whose script re-makes it as a standby of the new one, waits until the new
// primary streams to it, and in sync mode makes it the new primary's synchronous standby.
func rejoin(ctx context.Context, env *Env, old, primary, mode string) (time.Duration, error) {
	start := time.Now()
	// The promotion's own checkpoint is a spread one (minutes of throttled writes by PostgreSQL's
	// defaults), and pg_basebackup's first step waits for a checkpoint: CHECKPOINT hurries it now.
	if _, err := psql(ctx, env, primary, "CHECKPOINT"); err != nil {
		return 0, fmt.Errorf("postgres-failover: checkpoint on %s: %w", primary, err)
	}
	if err := env.Stack.Start(ctx, old); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, standbyTimeout)
	defer cancel()
	q := "SELECT state FROM pg_stat_replication WHERE application_name = '" + old + "'"
	var last string
	for {
		out, err := psql(ctx, env, primary, q)
		if err == nil && out == "streaming" {
			break
		}
		last = out
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("postgres-failover: %s did not stream from %s within %s (%q)", old, primary, standbyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if mode == arch.StandbySync {
		for _, sql := range []string{"ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"} {
			if _, err := psql(ctx, env, primary, sql); err != nil {
				return 0, fmt.Errorf("postgres-failover: make %s synchronous: %w", old, err)
			}
		}
	}
	return time.Since(start), nil
}
