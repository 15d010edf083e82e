// Package pgtest starts a real PostgreSQL 15 server process for tests (initdb into t.TempDir(), then
// postgres on a free loopback port). chaosbench never tests against a database mock: unique constraints,
// transaction waits and crash recovery must come from the real server.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/jackc/pgx/v5"
)

// Bin is where Debian's postgresql-15 package puts the server's programs (not on PATH).
const Bin = "/usr/lib/postgresql/15/bin"

// Server is one postgres process on 127.0.0.1.
type Server struct {
	Port int
	DSN  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
}

// Start runs initdb and postgres and registers the server's shutdown. Without the binaries the test is
// skipped locally and fails in CI (CI set), so that CI can never pass by running nothing.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Bin, "postgres")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s/postgres not found (apt-get install -y postgresql-15): %v", Bin, err)
		}
		t.Skipf("%s/postgres not found; install it with apt-get install -y postgresql-15", Bin)
	}
	dir := t.TempDir()
	cred, err := runAs(dir)
	if err != nil {
		t.Fatalf("postgres test dir: %v", err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(Bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port, err := ports.Free()
	if err != nil {
		t.Fatalf("postgres port: %v", err)
	}
	log, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	// fsync off: a test's server dies with the test, durability across a host crash is not under test.
	cmd := exec.Command(filepath.Join(Bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir, "-c", "fsync=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	s := &Server{Port: port, DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown: clients are disconnected, not waited for
		_ = cmd.Wait()
		_ = log.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.DSN)
		if err == nil {
			_ = c.Close(ctx)
			return s
		}
		if ctx.Err() != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			t.Fatalf("postgres did not accept connections within 30s: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runAs is who runs the server: the current user, or, as root (which initdb and postgres refuse), the
// postgres user that Debian's package creates; dir is then handed to it, and its parent (the test's own
// 0700 temporary directory) opened for traversal only.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user (apt-get install -y postgresql-15): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
