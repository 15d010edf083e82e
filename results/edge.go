package results

import (
	"math"
)

// EdgeStats is what the edge cost during the load (arch.Edge: TLS at NGINX, keep-alive on its two sides),
// measured by the runner when a scenario names an edge knob. Absent from other summaries. A count the
// runner could not read (NGINX's status route or its namespace did not answer) is absent too, never 0: a
// threshold on it is then not measured, and fails.
type EdgeStats struct {
	// NginxAccepts is how many client connections NGINX accepted from the load's start to its end
	// (stub_status's accepts, less the runner's own sampling connections).
	NginxAccepts *int64 `json:"nginx_accepts,omitempty"`
	// NginxConnsPerRequest is NginxAccepts over the requests the load sent: about 0 with client
	// keep-alive, 1 or more without it.
	NginxConnsPerRequest *float64 `json:"nginx_conns_per_request,omitempty"`
	// NginxActiveMax is the peak of NGINX's open client connections (stub_status's active, sampled once per
	// second, less the sampling connection itself).
	NginxActiveMax *int64 `json:"nginx_active_max,omitempty"`
	// LoadTimeWait is the number of TCP sockets of this host in TIME_WAIT towards NGINX's entry port at the
	// end of the load (/proc/net/tcp and tcp6, state 06): the side that closes first keeps them for 60 s.
	LoadTimeWait int64 `json:"load_time_wait"`
	// NginxTimeWait is the same count inside NGINX's network namespace, on its entry port: where the
	// TIME_WAIT sockets land when NGINX closes first (it does after answering a Connection: close).
	NginxTimeWait *int64 `json:"nginx_time_wait,omitempty"`
	// PublishTimeWait is this host's sockets in TIME_WAIT on the entry port itself: the host's end of
	// Docker's port publishing (docker-proxy, when it is in the path), which relays NGINX's close to the load.
	PublishTimeWait int64 `json:"publish_time_wait"`
}

// edgeMetrics read EdgeStats and the load's CPU; a summary without them does not record them.
var edgeMetrics = []Metric{
	{Name: "load.cpu_per_request", Kind: KindMS,
		Help: "CPU time (user + system) of the load engine's process per request sent, over the load window",
		value: func(a Arch) float64 {
			if a.LoadCPUMSPerRequest <= 0 {
				return math.NaN() // not measured: never a pass at 0 ms
			}
			return a.LoadCPUMSPerRequest
		},
		recorded: func(a Arch) bool { return a.LoadCPUMSPerRequest > 0 }},
	{Name: "nginx.conns_per_request", Kind: KindCount,
		Help:     "client connections NGINX accepted per request sent (0 with keep-alive, 1 without)",
		value:    edgeValue(func(e *EdgeStats) *float64 { return e.NginxConnsPerRequest }),
		recorded: func(a Arch) bool { return a.Edge != nil }},
	{Name: "nginx.active_max", Kind: KindCount,
		Help:     "peak of NGINX's open client connections, sampled once per second",
		value:    edgeCount(func(e *EdgeStats) *int64 { return e.NginxActiveMax }),
		recorded: func(a Arch) bool { return a.Edge != nil }},
	{Name: "load.time_wait", Kind: KindCount,
		Help:     "load-side sockets in TIME_WAIT towards NGINX at the end of the load",
		value:    edgeValue(func(e *EdgeStats) *float64 { v := float64(e.LoadTimeWait); return &v }),
		recorded: func(a Arch) bool { return a.Edge != nil }},
	{Name: "nginx.time_wait", Kind: KindCount,
		Help:     "sockets in TIME_WAIT on NGINX's entry port, inside its container, at the end of the load",
		value:    edgeCount(func(e *EdgeStats) *int64 { return e.NginxTimeWait }),
		recorded: func(a Arch) bool { return a.Edge != nil }},
}

// edgeValue is NaN (not measured: a threshold on it fails) without EdgeStats or without the value.
func edgeValue(f func(*EdgeStats) *float64) func(Arch) float64 {
	return func(a Arch) float64 {
		if a.Edge == nil {
			return math.NaN()
		}
		if v := f(a.Edge); v != nil {
			return *v
		}
		return math.NaN()
	}
}

func edgeCount(f func(*EdgeStats) *int64) func(Arch) float64 {
	return edgeValue(func(e *EdgeStats) *float64 {
		if n := f(e); n != nil {
			v := float64(*n)
			return &v
		}
		return nil
	})
}

// edgeSummary fills the load's CPU per request and the edge's stats from the input.
func edgeSummary(a *Arch, in Input) {
	if in.Load != nil && in.Load.CPU > 0 && in.Load.Totals.Sent > 0 {
		a.LoadCPUMSPerRequest = float64(in.Load.CPU.Microseconds()) / 1000 / float64(in.Load.Totals.Sent)
	}
	if in.Edge != nil {
		e := *in.Edge
		if s := a.Requests.Sent; s > 0 && e.NginxAccepts != nil {
			v := float64(*e.NginxAccepts) / float64(s)
			e.NginxConnsPerRequest = &v
		}
		a.Edge = &e
	}
}
