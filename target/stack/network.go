package stack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	mnet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// The run's network and the addresses of the stack on it and on the host.

// addr returns the host part n of the stack's subnet.
func (s *Stack) addr(n int) netip.Addr {
	a := s.Subnet.Addr().As4()
	a[3] = byte(n)
	return netip.AddrFrom4(a)
}

// createNetwork creates the run's bridge network on a /24 of 10.213.0.0/16 picked from the run id, moving
// on when Docker says a subnet is taken (another run, or another network of this host).
func (s *Stack) createNetwork(ctx context.Context) error {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s.RunID))
	first := int(h.Sum32() % 250)
	var lastErr error
	for i := range 40 {
		third := byte((first+i*7)%250 + 1)
		subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, third, 0}), 24)
		gw := netip.AddrFrom4([4]byte{10, 213, third, 1})
		name := "chaosbench-" + s.RunID
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := s.docker.NetworkCreate(cctx, name, client.NetworkCreateOptions{
			Driver: "bridge",
			Labels: s.labels("network"),
			IPAM:   &mnet.IPAM{Config: []mnet.IPAMConfig{{Subnet: subnet, Gateway: gw}}},
		})
		cancel()
		if err == nil {
			s.Network, s.Subnet, s.Gateway = name, subnet, gw
			return nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "overlap") {
			break
		}
	}
	return fmt.Errorf("create network: %w", lastErr)
}

func (s *Stack) labels(role string) map[string]string {
	return map[string]string{LabelRun: s.RunID, labelRole: role}
}

// EntryURL returns NGINX's URL on the host, read from Docker now.
func (s *Stack) EntryURL(ctx context.Context) (string, error) {
	if s.attached != nil {
		return s.attached.URL, nil
	}
	p, err := HostPort(ctx, s.docker, s.Nginx.ID, s.entryPort())
	if err != nil {
		return "", fmt.Errorf("nginx entry: %w", err)
	}
	if s.cert != nil {
		return "https://127.0.0.1:" + p, nil
	}
	return "http://127.0.0.1:" + p, nil
}

// RedisHostAddr returns Redis's host:port on the host, read from Docker now. On a RedisHA stack it is the
// current primary's (CurrentPrimary): after a failover the ground truth is what the promoted replica
// has, acknowledged writes it never received included as lost.
func (s *Stack) RedisHostAddr(ctx context.Context) (string, error) {
	if s.attached != nil {
		return "", errors.New("redis address: an attached project's Redis is read through its API, not directly")
	}
	primary := s.Redis
	if len(s.Sentinels) > 0 {
		name, err := s.CurrentPrimary(ctx)
		if err != nil {
			return "", fmt.Errorf("redis address: %w", err)
		}
		primary, _ = s.Lookup(name)
	}
	p, err := HostPort(ctx, s.docker, primary.ID, redisPort)
	if err != nil {
		return "", fmt.Errorf("redis address: %w", err)
	}
	return "127.0.0.1:" + p, nil
}
