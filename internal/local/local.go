// Package local keeps chaosbench's traffic on this machine: a URL it sends requests to must name a
// loopback address or an address on a Docker bridge network of this host (docker0 or br-*), which is
// where the stacks chaosbench starts, and the compose projects it attaches to, live.
package local

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

// CheckURL resolves raw's host and refuses it unless every address it resolves to is on this machine.
func CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: want http:// or https://", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("url %q: no host", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("url %q: resolve %s: %w", raw, u.Hostname(), err)
	}
	bridges, err := bridgeNets()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		a = a.Unmap()
		if !Allowed(a, bridges) {
			return fmt.Errorf("url %q: %s is not on this machine: chaosbench only sends load to loopback and "+
				"to Docker bridge networks of this host", raw, a)
		}
	}
	return nil
}

// Allowed reports whether a is loopback or inside one of bridges.
func Allowed(a netip.Addr, bridges []netip.Prefix) bool {
	if a.IsLoopback() {
		return true
	}
	for _, p := range bridges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// bridgeNets lists the subnets of this host's Docker bridge interfaces.
func bridgeNets() ([]netip.Prefix, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []netip.Prefix
	for _, i := range ifs {
		if i.Name != "docker0" && !strings.HasPrefix(i.Name, "br-") {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(n.String()); err == nil {
					out = append(out, p.Masked())
				}
			}
		}
	}
	return out, nil
}

// ContainerNetwork checks a network a worker was told to send load into (chaosbench worker --allow-net):
// it must be a network this process is attached to from inside a Docker container. A container's networks
// are Docker networks of the host it runs on, so the load stays on this machine; on the host itself (or
// for a network the container is not on, or a wider one, such as 0.0.0.0/0) the flag would be a way
// around CheckURL, and is refused.
func ContainerNetwork(p netip.Prefix) error {
	if !inContainer() {
		return fmt.Errorf("%s: only a worker in a container on the run's network may name its network; here the target "+
			"must be loopback or on a Docker bridge of this host", p)
	}
	nets, err := attachedNets()
	if err != nil {
		return err
	}
	for _, n := range nets {
		if n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("%s: not a network this container is attached to (it is on %v)", p, nets)
}

// Seams for tests: whether this process runs in a Docker container (the daemon creates /.dockerenv in
// every container), and the networks of its interfaces.
var (
	inContainer = func() bool {
		_, err := os.Stat("/.dockerenv")
		return err == nil
	}
	attachedNets = func() ([]netip.Prefix, error) {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, fmt.Errorf("list network interfaces: %w", err)
		}
		var out []netip.Prefix
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
				if p, err := netip.ParsePrefix(n.String()); err == nil {
					out = append(out, p.Masked())
				}
			}
		}
		return out, nil
	}
)
