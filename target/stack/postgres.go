package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// PostgreSQL (arch.Arch.Store postgres): one server from the base image at .10 on the run's network, with
// the same run label as the rest (Down and Sweep remove it). The API nodes create the schema themselves,
// idempotently, before their first query (target/pgtruth.EnsureSchema), so the stack only waits for the
// server to accept connections.

const postgresPort = "5432/tcp"

// postgresReadyTimeout bounds the wait for a fresh server: initdb and the first start take about 2 s here.
// A variable for the test of a server that never answers (TestPostgresThatDoesNotAnswer).
var postgresReadyTimeout = 60 * time.Second

// postgresCmd is the server container's command; a variable for the same test, which runs one that never
// listens.
var postgresCmd = func(subnet netip.Prefix) []string {
	return []string{"sh", "-c", postgresScript(subnet, arch.PostgresName, netip.Addr{}, true)}
}

// ErrNoPostgres is what PostgresHostAddr answers on a stack whose architecture keeps everything in Redis.
var ErrNoPostgres = errors.New("the stack has no PostgreSQL (architecture without store: postgres, e.g. stateless-postgres has one)")

// postgresImage runs PostgreSQL: the base image, whose Debian packages include postgresql-15.
func postgresImage() string {
	return envOr("CHAOSBENCH_POSTGRES_IMAGE", envOr("CHAOSBENCH_BASE_IMAGE", arch.DefaultBaseImage))
}

// postgresImages is what Up checks before it starts anything: the PostgreSQL image when the architecture
// has one.
func (c Config) postgresImages() []string {
	if c.Arch.UsesPostgres() {
		return []string{postgresImage()}
	}
	return nil
}

// planPostgres names and places the server, and its standby if the architecture has one (.9: free in
// every architecture, below the primary and the nodes).
func (s *Stack) planPostgres() {
	s.Postgres = arch.Container{Name: arch.PostgresName, Role: arch.RolePostgres, IP: s.addr(10)}
	if s.Config.Arch.HasPostgresStandby() {
		s.PostgresStandby = arch.Container{Name: arch.PostgresStandbyName, Role: arch.RolePostgresStandby, IP: s.addr(9)}
	}
}

// postgresScript runs initdb once into the container's own directory (kept across a stop and a start, so
// that the postgres-outage fault's restart keeps what was committed; removed with the container), opens
// the run's subnet with trust authentication (a private network of this run only; replication too, for a
// standby), then runs the server as the postgres user, which it requires.
//
// With a standby (peer valid: the other server's address) the same script runs in both containers, and
// what a server becomes is decided at every start, from its directory and its peer:
//   - no directory: the first primary (first) runs initdb; the standby waits until its peer is a primary
//     and copies it with pg_basebackup -R (standby.signal, primary_conninfo), then streams from it.
//   - a directory of a standby: it starts as that standby again and reconnects.
//   - a directory of a primary, and the peer answers as a primary: this server was failed over while it
//     was down (postgres-failover). Starting it as a primary would make two, and the nodes' DSN lists it
//     first: split brain. Its directory is dropped and it is re-made as the new primary's standby by a
//     fresh pg_basebackup (what it had committed and never sent is gone, as in any failover).
//   - a directory of a primary and a peer that is not one: it starts as the primary it was
//     (postgres-outage's restart, the standby still streaming or waiting for it).
func postgresScript(subnet netip.Prefix, self string, peer netip.Addr, first bool) string {
	bin := "/usr/lib/postgresql/15/bin"
	asPG := "setpriv --reuid=postgres --regid=postgres --init-groups "
	peerIP, initial := "", "primary"
	if peer.IsValid() {
		peerIP = peer.String()
	}
	if !first {
		initial = "standby"
	}
	return `set -e
D=/var/lib/postgresql/chaosbench
PEER=` + peerIP + `
export PGCONNECT_TIMEOUT=2
peer_primary() {
  [ -n "$PEER" ] && [ "$(psql -h "$PEER" -U postgres -d postgres -XAtc 'select pg_is_in_recovery()' 2>/dev/null)" = f ]
}
follow=
if [ -s "$D/PG_VERSION" ] && [ ! -f "$D/standby.signal" ] && peer_primary; then
  echo "chaosbench: $PEER is primary now: re-making this server as its standby (pg_basebackup)"
  rm -rf "$D"
  follow=1
fi
if [ ! -s "$D/PG_VERSION" ]; then
  mkdir -p "$D" && chown postgres:postgres "$D" && chmod 700 "$D"
  if [ -z "$follow" ] && [ ` + initial + ` = primary ]; then
    ` + asPG + bin + `/initdb -D "$D" -U postgres --auth=trust -E UTF8 >/tmp/initdb.log 2>&1 || { cat /tmp/initdb.log; exit 1; }
    echo "host all all ` + subnet.String() + ` trust" >> "$D/pg_hba.conf"
    echo "host replication all ` + subnet.String() + ` trust" >> "$D/pg_hba.conf"
  else
    until peer_primary; do sleep 0.2; done
    ` + asPG + bin + `/pg_basebackup -d "host=$PEER user=postgres application_name=` + self + `" -D "$D" -R -X stream -c fast \
      >/tmp/basebackup.log 2>&1 || { cat /tmp/basebackup.log; exit 1; }
  fi
fi
exec ` + asPG + bin + `/postgres -D "$D" -c listen_addresses='*' -c max_connections=` +
		strconv.Itoa(arch.PostgresMaxConnections) + ` -c unix_socket_directories=/var/run/postgresql -c wal_keep_size=256MB`
}

// startPostgres starts the server in g, beside the others.
func (s *Stack) startPostgres(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error {
		cmd := postgresCmd(s.Subnet)
		if s.PostgresStandby.Name != "" {
			cmd = []string{"sh", "-c", postgresScript(s.Subnet, s.Postgres.Name, s.PostgresStandby.IP, true)}
		}
		ctr, err := s.run(ctx, s.Postgres, postgresImage(), nil, cmd, postgresPort, nil)
		s.Postgres.ID = idOf(ctr)
		return err
	})
	if s.PostgresStandby.Name != "" {
		s.startPostgresStandby(ctx, g)
	}
}

// waitPostgres returns once the server accepts a connection with the nodes' DSN (from the host, through
// its published port), or fails saying which DSN did not answer: Up then removes what it started.
func (s *Stack) waitPostgres(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, postgresReadyTimeout)
	defer cancel()
	addr, err := s.PostgresHostAddr(ctx)
	if err != nil {
		return err
	}
	dsn := arch.PostgresDSN(netip.MustParseAddrPort(addr))
	var last error
	for {
		c, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_ = c.Close(ctx)
			break
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres at %s (the nodes' %s) did not answer within %s: %w", dsn,
				arch.PostgresDSN(netip.AddrPortFrom(s.Postgres.IP, arch.PostgresPort)), postgresReadyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if s.PostgresStandby.Name != "" {
		return s.waitStandby(ctx, dsn)
	}
	return nil
}

// checkNodesUsePostgres asks each node's /readyz, once they are ready, whether it keeps its orders in
// PostgreSQL: a reference API image built before STORE=postgres ignores the variable, serves from Redis and
// would make the checker read an empty database, every acknowledged write "lost". Better to refuse the run.
func (s *Stack) checkNodesUsePostgres(ctx context.Context) error {
	entry, err := s.EntryURL(ctx)
	if err != nil {
		return err
	}
	for _, n := range s.Nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, entry+"/_chaosbench/node/"+n.Name+"/readyz", nil)
		if err != nil {
			return err
		}
		res, err := s.prober().Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		var body struct {
			Postgres string `json:"postgres"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		_ = res.Body.Close()
		if err != nil || body.Postgres != "ok" {
			return fmt.Errorf("%s does not keep its orders in PostgreSQL (its /readyz says no \"postgres\": \"ok\"): "+
				"the image %s predates STORE=postgres; rebuild it with make images", n.Name, s.Config.apiImage())
		}
	}
	return nil
}

// PostgresHostAddr is PostgreSQL's 127.0.0.1:port on the host, which the checker reads ground truth
// through; the port is chosen at Up and kept across a stop and a start.
func (s *Stack) PostgresHostAddr(ctx context.Context) (string, error) {
	if s.Postgres.ID == "" {
		return "", ErrNoPostgres
	}
	p, err := HostPort(ctx, s.docker, s.Postgres.ID, postgresPort)
	if err != nil {
		return "", fmt.Errorf("postgres address: %w", err)
	}
	return "127.0.0.1:" + p, nil
}

// PostgresHostDSN is the connection string to PostgreSQL from the host. With a standby it names every
// server that runs, with target_session_attrs=read-write, so that the checker reads ground truth from
// whichever is primary now (the promoted standby after postgres-failover).
func (s *Stack) PostgresHostDSN(ctx context.Context) (string, error) {
	addr, err := s.PostgresHostAddr(ctx)
	if s.PostgresStandby.Name == "" {
		if err != nil {
			return "", err
		}
		return arch.PostgresDSN(netip.MustParseAddrPort(addr)), nil
	}
	return s.postgresServersDSN(ctx, addr, err)
}

// postgresEnv adds the DSN and the pool's size to a reference API node's environment.
func (s *Stack) postgresEnv(env map[string]string) {
	if s.Postgres.Name != "" && !s.Config.Arch.Service.Custom() {
		ips := []netip.Addr{s.Postgres.IP}
		if s.PostgresStandby.Name != "" {
			ips = append(ips, s.PostgresStandby.IP)
		}
		for k, v := range arch.PostgresEnv(ips, s.Config.Replicas) {
			env[k] = v
		}
	}
}
