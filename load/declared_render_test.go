package load_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/scenarios"
)

// TestDeclaredContentTypeSentOnce: a step's Content-Type header is its body's type, sent once, on the
// wire client as on net/http (flow.Step.Render), for a JSON body as for a raw one.
func TestDeclaredContentTypeSentOnce(t *testing.T) {
	const sc = `name: ct
phases: [{duration: 1s, rate: 20/s}]
clients: 1
ops:
  j:
    steps:
      - request: {method: POST, path: /j, headers: {content-type: application/vnd.x+json}, json: {n: "{{seq}}"}}
  r:
    steps:
      - request: {method: POST, path: /r, headers: {Content-Type: text/csv}, body: "a,{{seq}}"}
mix: {j: 1, r: 1}
`
	for _, mode := range []string{"wire", "net/http"} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			types := map[string]map[string]int{} // path -> the Content-Type values, joined -> count
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if types[r.URL.Path] == nil {
					types[r.URL.Path] = map[string]int{}
				}
				types[r.URL.Path][strings.Join(r.Header.Values("Content-Type"), " | ")]++
			}))
			defer srv.Close()
			plan, err := scenarios.Parse("ct.yaml", []byte(sc))
			require.NoError(t, err)
			cfg := load.Config{BaseURL: srv.URL, Clients: plan.Clients, Seed: 3, Client: plan.EngineClient(), Mix: plan.EngineMix(),
				Phases: []load.Phase{{Name: "steady", Duration: time.Second, Pacer: load.Constant(20)}}, RunDir: t.TempDir()}
			opts := []load.Option{load.WithoutProgress()}
			if mode == "net/http" {
				opts = append(opts, load.WithHTTPClient(&http.Client{}))
			}
			res, err := load.Run(context.Background(), cfg, opts...)
			require.NoError(t, err)
			assert.Zero(t, res.Totals.Errors)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, types["/j"], 1, "%v", types)
			require.Len(t, types["/r"], 1, "%v", types)
			assert.Positive(t, types["/j"]["application/vnd.x+json"], "%v", types)
			assert.Positive(t, types["/r"]["text/csv"], "%v", types)
		})
	}
}
