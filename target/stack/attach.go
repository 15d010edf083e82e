package stack

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/chaosbench/chaosbench/target/arch"

	"github.com/moby/moby/client"
)

// The labels Docker Compose puts on every container it starts.
const (
	composeProject = "com.docker.compose.project"
	composeService = "com.docker.compose.service"
	composeNumber  = "com.docker.compose.container-number"
)

// Attachment names a compose project that is already running: chaosbench starts nothing in it, sends the
// load to URL, and injects faults on its containers, found by their compose labels.
type Attachment struct {
	URL     string // where the load goes (the project's balancer, or its one API)
	Project string // com.docker.compose.project
	API     string // the API's compose service: its containers become api-1..N by container number
	Redis   string // optional: the Redis service, for faults on redis
	Nginx   string // optional: the balancer's service, for faults on nginx
	// Service is the API's port and readiness path inside its containers (its Image is not used).
	Service arch.Service
}

// Attach finds the project's containers and returns a Stack over them. Its faults revert as always; its
// Down removes only what chaosbench created for it (fault sidecars, by run label), never the project's
// containers or networks. Options set the run id, the sidecar image and the log. A bare URL (no API
// service) needs no Docker: its Stack has no containers and its Down does nothing.
func Attach(ctx context.Context, at Attachment, opts ...Option) (s *Stack, err error) {
	cfg, err := NewConfig(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.RunID == "" {
		return nil, errors.New("attach: a run id is required (it labels the sidecars chaosbench creates)")
	}
	cfg.Arch.Service = at.Service
	if at.API == "" {
		// A bare URL: nothing to break, only load to send and answers to check; no Docker needed.
		return &Stack{Config: cfg, RunID: cfg.RunID, routes: map[string]string{}, attached: &at, Entry: at.URL}, nil
	}
	cli, err := NewDocker(ctx)
	if err != nil {
		return nil, err
	}
	s = &Stack{Config: cfg, RunID: cfg.RunID, docker: cli, routes: map[string]string{}, attached: &at, Entry: at.URL}
	defer func() {
		if err != nil {
			_ = cli.Close()
		}
	}()
	nodes, err := s.composeContainers(ctx, at.API)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("attach: compose project %q has no running container of service %q (docker ps --filter label=%s=%s)",
			at.Project, at.API, composeProject, at.Project)
	}
	for i, n := range nodes {
		n.Name, n.Role, n.Port = arch.NodeName(i+1), arch.RoleAPI, at.Service.ListenPort()
		s.Nodes = append(s.Nodes, n)
	}
	for _, opt := range []struct {
		service string
		role    arch.Role
		dst     *arch.Container
	}{{at.Redis, arch.RoleRedis, &s.Redis}, {at.Nginx, arch.RoleNginx, &s.Nginx}} {
		if opt.service == "" {
			continue
		}
		cs, err := s.composeContainers(ctx, opt.service)
		if err != nil {
			return nil, err
		}
		if len(cs) != 1 {
			return nil, fmt.Errorf("attach: compose service %q of project %q: want one running container, found %d",
				opt.service, at.Project, len(cs))
		}
		*opt.dst = cs[0]
		opt.dst.Name, opt.dst.Role = string(opt.role), opt.role
	}
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "attached to compose project %s: %d API node(s)%s%s, load to %s\n", at.Project, len(s.Nodes),
			optional(" + redis", at.Redis), optional(" + nginx", at.Nginx), at.URL)
	}
	return s, nil
}

func optional(what, service string) string {
	if service == "" {
		return ""
	}
	return what + " (" + service + ")"
}

// composeContainers lists the running containers of one service of the attached project, by container
// number, with their address on their first network. It also learns that network's gateway: the host's
// address as the containers see it.
func (s *Stack) composeContainers(ctx context.Context, service string) ([]arch.Container, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	f := client.Filters{}.Add("label", composeProject+"="+s.attached.Project).Add("label", composeService+"="+service)
	res, err := s.docker.ContainerList(ctx, client.ContainerListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("attach: list containers of %s/%s: %w", s.attached.Project, service, err)
	}
	type numbered struct {
		n int
		c arch.Container
	}
	var found []numbered
	for _, c := range res.Items {
		n, _ := strconv.Atoi(c.Labels[composeNumber])
		ac := arch.Container{ID: c.ID}
		if c.NetworkSettings != nil {
			names := make([]string, 0, len(c.NetworkSettings.Networks))
			for name := range c.NetworkSettings.Networks {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				ep := c.NetworkSettings.Networks[name]
				if ep != nil && ep.IPAddress.IsValid() {
					ac.IP = ep.IPAddress
					if !s.Gateway.IsValid() {
						s.Gateway, s.Network = ep.Gateway, name
					}
					break
				}
			}
		}
		found = append(found, numbered{n, ac})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	out := make([]arch.Container, len(found))
	for i, f := range found {
		out[i] = f.c
	}
	return out, nil
}

// attachedReady checks the project as chaosbench can see it without its own balancer: the URL answers the
// readiness path, and so does every API node directly at its address.
func (s *Stack) attachedReady(ctx context.Context) error {
	health := s.attached.Service.HealthPath()
	if err := probe(ctx, strings.TrimRight(s.attached.URL, "/")+health, "", false); err != nil {
		return fmt.Errorf("%s: %w", s.attached.URL, err)
	}
	errs := make([]error, len(s.Nodes))
	for i, n := range s.Nodes {
		errs[i] = s.attachedNodeReady(ctx, n)
	}
	return errors.Join(errs...)
}

func (s *Stack) attachedNodeReady(ctx context.Context, n arch.Container) error {
	if !n.IP.IsValid() {
		return nil // on no network we can reach: the URL's answer is all there is
	}
	url := "http://" + netip.AddrPortFrom(n.IP, uint16(n.Port)).String() + s.attached.Service.HealthPath()
	if err := probe(ctx, url, "", false); err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	return nil
}
