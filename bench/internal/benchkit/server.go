// Package benchkit holds what the benchmark programs share: the trivial
// target server (its own process, so that it can be frozen), the peer tools
// (vegeta and k6 CLIs, each its own process) and the CPU and memory a child
// process used, read from its rusage.
package benchkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Serve is the trivial target: a fixed small JSON body, keep-alive. It
// prints its address on stdout and serves until killed. A benchmark binary
// runs it as a child (`-mode=server`): the target then has its own CPU
// time, and SIGSTOP freezes it without freezing the loader.
func Serve() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Println(ln.Addr().String())
	body := []byte(`{"ok":true}`)
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

// Server is a running target process.
type Server struct {
	URL string // http://127.0.0.1:PORT
	cmd *exec.Cmd
}

// StartServer runs `bin args...` (a benchmark binary in server mode) and
// waits for the address it prints.
func StartServer(bin string, args ...string) (*Server, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	// If the harness dies (Ctrl-C, a panic), the server goes with it, even
	// when it is frozen: SIGKILL reaches a stopped process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("read server address: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return &Server{URL: "http://" + strings.TrimSpace(addr), cmd: cmd}, nil
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop kills the server (a frozen one too) and reaps it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Freeze stops the server process (SIGSTOP): the kernel still completes TCP
// handshakes into its listen backlog and buffers requests, but nothing
// answers. Thaw (SIGCONT) resumes it.
func (s *Server) Freeze() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Warm sends n sequential GETs over one keep-alive connection (the server's
// code, heap and goroutines warm) and returns their median latency: the
// server's base latency on this machine, now.
func (s *Server) Warm(n int) (time.Duration, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	lats := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		resp, err := c.Get(s.URL + "/")
		if err != nil {
			return 0, fmt.Errorf("warm %s: %w", s.URL, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		lats = append(lats, time.Since(t0))
	}
	if len(lats) == 0 {
		return 0, nil
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return lats[len(lats)/2], nil
}
