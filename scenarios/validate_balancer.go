package scenarios

import (
	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/target/arch"
)

// What needs NGINX itself, refused where an architecture runs HAProxy in its place (balancer haproxy):
// the edge knobs (TLS, keep-alive towards the nodes and the stub_status the edge is measured with are
// NGINX's configuration), a fault aimed at the container named nginx (HAProxy's is named haproxy), and
// the faults that route a node through a proxy of their own (they rewrite and reload NGINX's
// configuration; HAProxy's is fixed for the run). Faults on the API nodes and on Redis act on
// containers, whatever the balancer, and partition's from: nginx finds the balancer by its role.

// refuseEdgeOnHAProxy reports each edge knob a custom architecture with balancer haproxy names.
func refuseEdgeOnHAProxy(v *positioner, field string, c customArch) {
	for _, k := range []struct {
		name string
		set  bool
	}{{"tls", c.TLS != nil}, {"client_keepalive", c.ClientKeepAlive != nil}, {"upstream_keepalive", c.UpstreamKeepAlive != nil},
		{"http2", c.HTTP2 != nil}} {
		if k.set {
			v.add(field+"."+k.name, "is NGINX's (its configuration, and its stub_status that measures the edge): "+
				"balancer haproxy runs HAProxy instead; use round-robin, least-conn or sticky to measure the edge")
		}
	}
}

// validateFaultBalancer refuses a fault that needs NGINX when an architecture of the plan runs HAProxy.
func validateFaultBalancer(v *positioner, field string, fs faultSpec, p *Plan) {
	name := haproxyArch(p)
	if name == "" {
		return
	}
	if fs.Target == string(arch.RoleNginx) {
		v.add(field+".target", "nginx: architecture %s runs HAProxy in NGINX's place (balancer haproxy), and its "+
			"container is named haproxy; fault the API nodes or Redis, or compare balancers in separate scenarios", name)
	}
	if k, err := chaos.Default.Kind(fs.Kind); err == nil && k.Routes {
		v.add(field+".kind", "%s sends a node's traffic through a proxy by rewriting and reloading NGINX's "+
			"configuration: architecture %s runs HAProxy (balancer haproxy), whose configuration is fixed for the run", fs.Kind, name)
	}
}

// haproxyArch names the first architecture of p that runs HAProxy ("" when none does).
func haproxyArch(p *Plan) string {
	for _, a := range p.Architectures {
		if a.Balancer == arch.HAProxy {
			return a.Name
		}
	}
	return ""
}
