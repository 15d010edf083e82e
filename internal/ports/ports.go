// Package ports picks free loopback ports for servers that another process
// will bind (redis-server, a container's published port). A port from
// listening on :0 comes from the kernel's ephemeral range, where any
// outgoing connection (a load test's) may take it before the other process
// binds it; ports below that range are never handed to outgoing connections.
package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

var mu sync.Mutex // one pick at a time in this process

// Free returns a loopback port that nothing listens on now, outside the
// kernel's ephemeral range. Another listener may still take it before the
// caller binds it: callers that can, retry.
func Free() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	lo, hi := Range()
	var err error
	for range 50 {
		port := lo + rand.IntN(hi-lo)
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			_ = l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free port: %w", err)
}

// Range is where Free looks: from 10000 up to the start of the kernel's
// ephemeral range (ip_local_port_range), or above its end when that leaves
// too little room.
func Range() (lo, hi int) {
	ephLo, ephHi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			a, err1 := strconv.Atoi(f[0])
			z, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				ephLo, ephHi = a, z
			}
		}
	}
	if ephLo-10000 >= 2000 {
		return 10000, ephLo
	}
	return ephHi + 1, 65535
}

// Addr is Free as "127.0.0.1:PORT".
func Addr() (string, error) {
	p, err := Free()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(p), nil
}
