package target

import (
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

func TestErrorsAreJSONWithNodeID(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "node-7", nil)
	c := n.newClient("ada")
	big := `{"items":[{"sku":"` + strings.Repeat("x", 70<<10) + `","qty":1}]}`
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		hdr    []string
		status int
		code   string
	}{
		// Broken JSON.
		{"malformed", "PUT", "/v1/cart", `{"items":`, c.auth, 400, CodeBadRequest},
		// A typo in a field name is an error, not silently ignored.
		{"unknown field", "PUT", "/v1/cart", `{"itemz":[]}`, c.auth, 400, CodeBadRequest},
		// Two JSON objects in one body.
		{"trailing data", "PUT", "/v1/cart", `{"items":[]}{}`, c.auth, 400, CodeBadRequest},
		// Bodies are capped at 64 KiB.
		{"body too large", "PUT", "/v1/cart", big, c.auth, 413, CodeBodyTooLarge},
		// Only JSON is accepted.
		{"wrong content type", "PUT", "/v1/cart", nil, append(append([]string{}, c.auth...), "Content-Type", "text/plain"), 415, CodeUnsupportedMedia},
		// Headers beyond 16 KiB.
		{"headers too large", "GET", "/healthz", nil, []string{"X-Big", strings.Repeat("y", 17<<10)}, 431, CodeHeadersTooLarge},
		{"unknown path", "GET", "/v2/nothing", nil, nil, 404, CodeNotFound},
		{"wrong method", "DELETE", "/v1/orders", nil, nil, 405, CodeMethodNotAllowed},
		{"bad resource id", "GET", "/v1/resources/a.b", nil, c.auth, 400, CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.do(tc.method, tc.path, tc.body, tc.hdr...)
			require.Equal(t, tc.status, r.Code, "%s", r.Body)
			require.Equal(t, "node-7", r.Header.Get("X-Node-Id"))
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			m := r.json(t)
			require.Equal(t, tc.code, m["code"])
			require.NotEmpty(t, m["error"])
		})
	}
	// 405 names what is allowed.
	require.Contains(t, n.do("DELETE", "/v1/orders", nil).Header.Get("Allow"), "POST")
}

func TestMetricsExposeTheAPI(t *testing.T) {
	rs := redistest.Start(t)
	n := startNode(t, rs, "a", nil)
	c := n.newClient("ada")
	n.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k")...)
	n.do("POST", "/v1/orders", orderBody("r1"), append(c.auth, "Idempotency-Key", "k")...)
	n.do("GET", "/v1/nothing", nil)
	for _, want := range []string{
		`refapi_http_requests_total{code="201",node="a",route="POST /v1/orders"} 2`,
		`refapi_http_requests_total{code="404",node="a",route="unmatched"} 1`,
		`refapi_idempotent_replays_total{node="a"} 1`,
		`refapi_orders_created_total{node="a"} 1`,
		`refapi_redis_breaker_state{node="a"} 0`,
		`refapi_http_request_duration_seconds_count{node="a",route="POST /v1/login"} 1`,
		`refapi_redis_op_duration_seconds_count{node="a",op="order.commit"} 1`,
	} {
		require.Equal(t, want, metricLine(t, n, want[:strings.LastIndex(want, " ")]), "metric %s", want)
	}
}
