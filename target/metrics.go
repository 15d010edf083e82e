package target

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in a registry per Server (not the global one), so that tests
// and the benchmark can run several servers in one process.
type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	redisOp         *prometheus.HistogramVec
	breakerState    prometheus.Gauge
	replays         prometheus.Counter
	idemConflicts   *prometheus.CounterVec
	sessionsMissing prometheus.Counter
	ordersCreated   prometheus.Counter
	refreshes       *prometheus.CounterVec
}

func newMetrics(nodeID string) *metrics {
	reg := prometheus.NewRegistry()
	constLabels := prometheus.Labels{"node": nodeID}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refapi_http_requests_total", Help: "HTTP requests by route and status code.", ConstLabels: constLabels,
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "refapi_http_request_duration_seconds", Help: "Time to serve a request, by route.", ConstLabels: constLabels,
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		redisOp: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "refapi_redis_op_duration_seconds", Help: "Redis operations, by operation, including failures.", ConstLabels: constLabels,
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5},
		}, []string{"op"}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "refapi_redis_breaker_state", Help: "Redis circuit breaker: 0 closed, 1 half-open, 2 open.", ConstLabels: constLabels,
		}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "refapi_idempotent_replays_total", Help: "Responses replayed for a repeated Idempotency-Key.", ConstLabels: constLabels,
		}),
		idemConflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refapi_idempotency_conflicts_total", Help: "Idempotency-Key conflicts: in_flight (409) or payload_mismatch (422).", ConstLabels: constLabels,
		}, []string{"kind"}),
		sessionsMissing: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "refapi_sessions_not_found_total", Help: "Authenticated requests whose session was unknown.", ConstLabels: constLabels,
		}),
		ordersCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "refapi_orders_created_total", Help: "Orders committed to the store.", ConstLabels: constLabels,
		}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "refapi_refreshes_total", Help: "POST /v1/refresh by outcome: rotated, replayed (within the grace), reused (family revoked), missing (no session), invalid.", ConstLabels: constLabels,
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.redisOp, m.breakerState, m.replays, m.idemConflicts,
		m.sessionsMissing, m.ordersCreated, m.refreshes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
