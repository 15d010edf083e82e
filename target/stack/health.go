package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/target/arch"
)

// Readiness: the checks that say every node serves through NGINX, used by Up, the injector's health
// brackets and WaitReady.

// probeClient has no keep-alive: a probe must not ride a connection opened before a fault.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// Ready checks once that NGINX answers and that every node answers its readiness path (/readyz by default)
// through NGINX, with its own X-Node-Id when it sends one (the reference API always does; for a user's
// service the header is optional); with HAProxy, also that its checks hold every node up. It returns every
// failure.
func (s *Stack) Ready(ctx context.Context) error {
	if s.attached != nil {
		return s.attachedReady(ctx)
	}
	entry, err := s.EntryURL(ctx)
	if err != nil {
		return err
	}
	if err := probeWith(ctx, s.prober(), entry+"/_chaosbench/nginx", "", false); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	errs := make([]error, len(s.Nodes))
	var wg sync.WaitGroup
	for i, n := range s.Nodes {
		wg.Go(func() {
			if err := s.probeNode(ctx, entry, n.Name); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
			}
		})
	}
	wg.Wait()
	if s.Config.Arch.Balancer == arch.HAProxy && errors.Join(errs...) == nil {
		// Answering through HAProxy is not being in its rotation: that takes rise checks.
		return s.haproxyReady(ctx)
	}
	return errors.Join(errs...)
}

// NodeReady checks one node's readiness through NGINX.
func (s *Stack) NodeReady(ctx context.Context, node string) error {
	if s.attached != nil {
		n, err := s.container(node)
		if err != nil {
			return err
		}
		return s.attachedNodeReady(ctx, n)
	}
	entry, err := s.EntryURL(ctx)
	if err != nil {
		return err
	}
	return s.probeNode(ctx, entry, node)
}

func (s *Stack) probeNode(ctx context.Context, entry, node string) error {
	svc := s.Config.Arch.Service
	return probeWith(ctx, s.prober(), entry+"/_chaosbench/node/"+node+svc.HealthPath(), node, svc.Custom())
}

// probe GETs url and wants a 200 and, when wantNode is set, X-Node-Id: wantNode (or no such header at all,
// when nodeIDOptional).
func probe(ctx context.Context, url, wantNode string, nodeIDOptional bool) error {
	return probeWith(ctx, probeClient, url, wantNode, nodeIDOptional)
}

// probeWith is probe with a client of the caller's (one that trusts the run's certificate, say).
func probeWith(ctx context.Context, cl *http.Client, url, wantNode string, nodeIDOptional bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if got := resp.Header.Get("X-Node-Id"); wantNode != "" && got != wantNode && !(nodeIDOptional && got == "") {
		return fmt.Errorf("GET %s: X-Node-Id %q, want %q", url, got, wantNode)
	}
	return nil
}

// WaitReady polls Ready until it succeeds or ctx ends, returning the last failure.
func (s *Stack) WaitReady(ctx context.Context) error {
	return poll.Until(ctx, 100*time.Millisecond, s.Ready)
}

// WaitReadyWithin is WaitReady bounded by d.
func (s *Stack) WaitReadyWithin(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return s.WaitReady(ctx)
}
