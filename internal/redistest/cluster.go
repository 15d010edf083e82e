package redistest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of real redis-server processes on loopback: Primaries primaries, each with
// one replica, formed by redis-cli --cluster create as the Docker stack forms its own.
type Cluster struct {
	t     testing.TB
	Nodes []*Server // the primaries first, then their replicas (redis-cli's order)
}

// ClusterNodeTimeout is the test cluster's cluster-node-timeout: a killed primary's replica takes over
// after about this long plus an election (about 1 to 2 s in all on loopback).
const ClusterNodeTimeout = time.Second

// StartCluster starts 2×primaries cluster nodes (each with its cluster bus on a port of its own, so no
// port+10000 is needed), forms the cluster with one replica per primary, and waits until every node
// says cluster_state:ok. Without redis-server or redis-cli the test is skipped (fails in CI), as Start.
func StartCluster(t testing.TB, primaries int) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skipf("redis-cli not found on PATH; install it with apt-get install -y redis-tools")
	}
	c := &Cluster{t: t}
	for range 2 * primaries {
		bus, err := ports.Free()
		if err != nil {
			t.Fatalf("cluster bus port: %v", err)
		}
		c.Nodes = append(c.Nodes, start(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			// A replica that has not synced yet never fails over: sync at once instead of after 5 s.
			"--repl-diskless-sync-delay", "0",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
			strconv.FormatInt(ClusterNodeTimeout.Milliseconds(), 10)))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK()
	return c
}

// Addrs lists the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// Client is a cluster client, closed at test cleanup.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// WaitOK waits (up to 30 s) until every running node reports cluster_state:ok and knows every slot,
// and every running replica is in sync with its primary (a replica without its primary's data does not
// take over: it would have nothing to serve).
func (c *Cluster) WaitOK() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		bad := ""
		for _, n := range c.Nodes {
			if !n.running() {
				continue
			}
			cl := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
			info, err := cl.ClusterInfo(context.Background()).Result()
			if err == nil {
				var repl string
				repl, err = cl.Info(context.Background(), "replication").Result()
				if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
					info += repl
				}
			}
			_ = cl.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") ||
				strings.Contains(info, "role:slave") {
				bad = n.Addr() + ": " + info
				if err != nil {
					bad = n.Addr() + ": " + err.Error()
				}
				break
			}
		}
		if bad == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("redis cluster not ok after 30s: %s", bad)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Node is the node at addr (host:port), which the test must have started.
func (c *Cluster) Node(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	c.t.Fatalf("no cluster node at %s", addr)
	return nil
}

// Log is the server's log so far, for a failing test's message.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return string(b)
}
