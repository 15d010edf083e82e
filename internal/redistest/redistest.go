// Package redistest starts real redis-server processes for tests. chaosbench
// never tests against a Redis mock: behaviour under outage, TTL expiry and
// transactions must come from the real server.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process bound to 127.0.0.1 on a free port.
// It keeps its port across Stop/Start so that clients see an outage and a
// recovery at the same address, as they would with a real deployment.
type Server struct {
	t    testing.TB
	Port int
	dir  string
	args []string // added to the command line (a cluster node's settings: cluster.go)

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start launches redis-server on a free loopback port and registers its
// cleanup. Without a redis-server binary the test is skipped locally and
// fails in CI (CI=true), so that CI can never pass by running nothing.
func Start(t testing.TB) *Server { return start(t) }

func start(t testing.TB, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found on PATH (apt-get install -y redis-server): %v", err)
		}
		t.Skipf("redis-server not found on PATH; install it with apt-get install -y redis-server")
	}
	port, err := ports.Free()
	if err != nil {
		t.Fatalf("redis-server port: %v", err)
	}
	s := &Server{t: t, Port: port, dir: t.TempDir(), args: args}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is a redis:// URL for the server's database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Start (re)starts the process on the same port and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--protected-mode", "no",
		"--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
	)
	cmd.Args = append(cmd.Args, s.args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s not ready after 10s: %v\n%s", s.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the process (SIGKILL: an outage, not a clean shutdown) and
// waits for it to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused process must wake up to die
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause freezes the process (SIGSTOP): connections stay open but nothing
// answers, as with a hung server or a network black hole. Data is kept.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("%s is not running", s)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to %s: %v", sig, s, err)
	}
}

// Client returns a go-redis client for the server, closed at test cleanup.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// FlushAll empties every database, for tests that share one server.
func (s *Server) FlushAll() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		s.t.Fatalf("flushall: %v", err)
	}
}

// String names the server in test output.
func (s *Server) String() string { return fmt.Sprintf("redis-server(%s)", s.Addr()) }
