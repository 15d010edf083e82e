package flowrun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/scenarios"
)

const scenario = `name: x
phases: [{duration: 10s, rate: 10/s}]
client:
  vars: {user: "u{{client.id}}-{{run.id}}"}
ops:
  bump:
    idempotency: {header: X-Key}
    restart_on: [412]
    steps:
      - name: read
        request: {method: GET, path: /c, query: {who: "{{user}}"}}
        capture: {n: {json: $.count}, etag: {header: ETag}}
      - name: write
        request: {method: PUT, path: /c, headers: {If-Match: "{{etag}}"}, json: {count: "{{add n 1}}", key: "{{idempotency.key}}"}}
        expect: {status: [200]}
`

// TestRestartOn: a 412 starts the op again from its first step, with a fresh key; after MaxRestarts it fails.
func TestRestartOn(t *testing.T) {
	for _, c := range []struct {
		name    string
		stale   int32 // how many PUTs answer 412
		ok      bool
		entries int
	}{
		// Two stale writes, then one that lands: 3 attempts of 2 requests.
		{"recovers", 2, true, 6},
		// Always stale: the first run and MaxRestarts restarts, then it fails.
		{"gives up", 100, false, 2 * (MaxRestarts + 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var puts atomic.Int32
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					require.True(t, strings.HasPrefix(r.URL.Query().Get("who"), "u1-"))
					w.Header().Set("ETag", `"r1"`)
					_, _ = w.Write([]byte(`{"count": 41}`))
					return
				}
				b := make([]byte, 200)
				n, _ := r.Body.Read(b)
				bodies = append(bodies, string(b[:n]))
				require.Equal(t, `"r1"`, r.Header.Get("If-Match"))
				require.NotEmpty(t, r.Header.Get("X-Key"))
				require.Contains(t, string(b[:n]), r.Header.Get("X-Key"), "{{idempotency.key}} is the header's key")
				if puts.Add(1) <= c.stale {
					w.WriteHeader(http.StatusPreconditionFailed)
					return
				}
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			plan, err := scenarios.Parse("x.yaml", []byte(scenario))
			require.NoError(t, err)
			rep, err := Try(context.Background(), plan, Options{Target: srv.URL, Seed: 1})
			require.NoError(t, err)
			require.Len(t, rep.Requests, c.entries)
			require.Equal(t, !c.ok, rep.Failed())
			require.False(t, rep.Unreachable())
			require.Contains(t, bodies[0], `"count":42`, "a captured number plus one stays a number")
			require.NotEqual(t, bodies[0][len(bodies[0])-40:], bodies[1][len(bodies[1])-40:], "a restart makes a fresh key")
			var out strings.Builder
			require.NoError(t, WriteText(&out, rep))
			require.Contains(t, out.String(), "bump/write (restart 1)")
		})
	}
}

// TestTryRendersAsTheEngine: try renders a step by flow.Step.Render, the load engine's rules: the query
// escaped, basic as an Authorization header, a raw body's type from the step's Content-Type header (sent
// once) or application/octet-stream, a JSON body's as application/json.
func TestTryRendersAsTheEngine(t *testing.T) {
	const sc = `name: x
phases: [{duration: 10s, rate: 10/s}]
ops:
  a:
    steps:
      - request: {method: POST, path: /raw, query: {q: "a b&c"}, headers: {Content-Type: text/csv}, body: "x,y", basic: {user: u, password: p}}
      - request: {method: POST, path: /bare, body: "z"}
      - request: {method: POST, path: /json, json: {n: 1}}
`
	type seen struct{ query, ctype, body, user, pass string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		require.Len(t, r.Header.Values("Content-Type"), 1, r.URL.Path)
		u, p, _ := r.BasicAuth()
		got = append(got, seen{r.URL.RawQuery, r.Header.Get("Content-Type"), string(b[:n]), u, p})
	}))
	defer srv.Close()
	plan, err := scenarios.Parse("x.yaml", []byte(sc))
	require.NoError(t, err)
	rep, err := Try(context.Background(), plan, Options{Target: srv.URL, Seed: 1})
	require.NoError(t, err)
	require.False(t, rep.Failed(), "%+v", rep)
	require.Equal(t, []seen{
		{"q=a+b%26c", "text/csv", "x,y", "u", "p"},
		{"", "application/octet-stream", "z", "", ""},
		{"", "application/json", `{"n":1}`, "", ""},
	}, got)
}
