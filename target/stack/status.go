package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// statusPath is NGINX's stub_status on the harness routes, rendered only when arch.Edge.Measure is set.
const statusPath = "/_chaosbench/status"

// NginxStatus is what NGINX's stub_status counts: client connections only (not those to the nodes).
type NginxStatus struct {
	Active   int64 // open client connections, the one reading this included
	Accepts  int64 // client connections accepted since NGINX started
	Handled  int64
	Requests int64
	Reading  int64
	Writing  int64
	Waiting  int64 // idle keep-alive connections
}

// ErrNoStatus: the stack was started without arch.Edge.Measure, so NGINX has no status route.
var ErrNoStatus = errors.New("nginx status: the architecture does not measure its edge (arch.Edge.Measure)")

// NginxStatus reads NGINX's counters through the entry URL, on a fresh connection (so it counts itself
// once in Active and Accepts).
func (s *Stack) NginxStatus(ctx context.Context) (NginxStatus, error) {
	if s.attached != nil || !s.Config.Arch.Edge.Measure {
		return NginxStatus{}, ErrNoStatus
	}
	entry, err := s.EntryURL(ctx)
	if err != nil {
		return NginxStatus{}, err
	}
	body, err := probeBody(ctx, s.prober(), entry+statusPath)
	if err != nil {
		return NginxStatus{}, fmt.Errorf("nginx status: %w", err)
	}
	return parseStubStatus(body)
}

// parseStubStatus reads stub_status's text:
//
//	Active connections: 291
//	server accepts handled requests
//	 16630948 16630948 31070465
//	Reading: 6 Writing: 179 Waiting: 106
func parseStubStatus(text string) (NginxStatus, error) {
	var st NginxStatus
	sc := bufio.NewScanner(strings.NewReader(text))
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	bad := func() (NginxStatus, error) {
		return NginxStatus{}, fmt.Errorf("nginx status: unexpected answer %q", text)
	}
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "Active connections:") {
		return bad()
	}
	num := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	var ok bool
	if st.Active, ok = num(strings.TrimSpace(strings.TrimPrefix(lines[0], "Active connections:"))); !ok {
		return bad()
	}
	f := strings.Fields(lines[2])
	if len(f) != 3 {
		return bad()
	}
	for i, dst := range []*int64{&st.Accepts, &st.Handled, &st.Requests} {
		if *dst, ok = num(f[i]); !ok {
			return bad()
		}
	}
	f = strings.Fields(lines[3])
	if len(f) != 6 {
		return bad()
	}
	for i, dst := range []*int64{&st.Reading, &st.Writing, &st.Waiting} {
		if *dst, ok = num(f[2*i+1]); !ok {
			return bad()
		}
	}
	return st, nil
}

// TimeWait counts the sockets in TIME_WAIT on NGINX's entry port inside its container (its network
// namespace's /proc/net/tcp and tcp6): where they land when NGINX closes a connection first.
func (s *Stack) TimeWait(ctx context.Context) (int64, error) {
	if s.attached != nil {
		return 0, errors.New("time wait: an attached project's NGINX is not chaosbench's")
	}
	out, err := s.Exec(ctx, s.Nginx.Name, "cat", "/proc/net/tcp", "/proc/net/tcp6")
	if err != nil {
		return 0, err
	}
	port, _ := strconv.Atoi(strings.TrimSuffix(s.entryPort(), "/tcp"))
	return CountTimeWait(out, port, true), nil
}

// CountTimeWait counts the lines of /proc/net/tcp{,6} text in state 06 (TIME_WAIT) whose local port
// (local true) or remote port (local false) is port.
func CountTimeWait(procNetTCP string, port int, local bool) int64 {
	var n int64
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(procNetTCP, "\n") {
		f := strings.Fields(line)
		// sl local_address rem_address st ...
		if len(f) < 4 || f[3] != "06" {
			continue
		}
		addr := f[2]
		if local {
			addr = f[1]
		}
		if strings.HasSuffix(addr, want) {
			n++
		}
	}
	return n
}
