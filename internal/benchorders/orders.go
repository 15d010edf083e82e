// Package benchorders is the fixture of the declared-op CPU benchmark (make bench-declared, and
// BenchmarkBuiltinOp / BenchmarkDeclaredOp in package load): a minimal orders API and a scenario that
// declares, as a flow op, the request the built-in order.create sends.
package benchorders

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Scenario declares order.create's request: POST /v1/orders with a bearer token from a login, one
// Idempotency-Key per logical op, a JSON body {"request_id": "req-KEY", "items": [...]}, and the
// order id read from the answer (a capture: a path lookup on the bytes, where the built-in op decodes
// the answer with encoding/json). The built-in op sends 1 to 3 items at random; this one sends 2.
const Scenario = `name: bench-declared
phases: [{duration: 1s, rate: 100/s}]
clients: 4
client:
  vars: {user: "u{{client.id}}-{{run.id}}"}
  setup:
    - name: login
      request: {method: POST, path: /v1/login, json: {username: "{{user}}", password: "pw"}}
      expect: {status: [200]}
      capture: {token: {json: "$.access_token"}}
ops:
  order.declared:
    idempotency: {header: Idempotency-Key}
    steps:
      - request:
          method: POST
          path: /v1/orders
          headers: {Authorization: "Bearer {{token}}"}
          json:
            request_id: "req-{{idempotency.key}}"
            items:
              - {sku: "sku-{{random.int 0 99}}", qty: "{{random.int 1 5}}"}
              - {sku: "sku-{{random.int 0 99}}", qty: "{{random.int 1 5}}"}
        expect: {status: [201]}
        capture: {order_id: {json: "$.order_id"}}
mix: {order.declared: 1}
`

// Handler is the orders API both ops talk to: sign-up (201), login (a token and a fresh session id) and
// order creation (201 with an order id; 401 without a bearer token). It reads every body and decodes
// none: the same work for either op, and as little as can be.
func Handler() http.Handler {
	var n atomic.Int64
	created := []byte(`{"order_id":"o-1","status":"accepted"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/users":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{}`))
		case "/v1/login":
			_, _ = w.Write([]byte(`{"access_token":"tok-bench","session_id":"s-` + strconv.FormatInt(n.Add(1), 10) + `","expires_in":3600}`))
		case "/v1/orders":
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || r.Header.Get("Idempotency-Key") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"code":"unauthorized"}`))
				return
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(created)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}
