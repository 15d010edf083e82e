package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/stretchr/testify/require"
)

// bigTokenServer issues tokens of tokenLen bytes and judges the Authorization header as chaosbench's
// stack does: a line over nginxLimit gets NGINX's own HTML 400 (no JSON code, connection closed), a
// request whose headers pass apiLimit the API's JSON 431, anything smaller a profile. seen keeps the
// longest token that arrived whole.
func bigTokenServer(t *testing.T, tokenLen int, seen *atomic.Int64) *httptest.Server {
	const nginxLimit, apiLimit = 64 << 10, 16 << 10
	token := strings.Repeat("t", tokenLen)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/users":
			writeJSON(w, 201, map[string]string{"user_id": "u"})
			return
		case "/v1/login":
			writeJSON(w, 200, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600, "session_id": "s"})
			return
		}
		auth := r.Header.Get("Authorization")
		if got := strings.TrimPrefix(auth, "Bearer "); got == token {
			seen.Store(int64(len(got)))
		}
		size := 0
		for k, vs := range r.Header {
			for _, v := range vs {
				size += len(k) + len(v) + 4
			}
		}
		switch {
		case len("Authorization: ")+len(auth) > nginxLimit:
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("<html><head><title>400 Request Header Or Cookie Too Large</title></head></html>\n"))
		case size > apiLimit:
			writeErr(w, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large")
		default:
			writeJSON(w, 200, map[string]any{"user_id": "u", "cart": []any{}, "cart_version": 1})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGiantTokens: a token of any size up to 70 KiB is sent whole, on the wire client and on
// net/http; what the path refuses is an error with its status and code (NGINX's HTML 400 has none),
// never dropped; and every attempt's request bytes, the token's share included, are counted.
func TestGiantTokens(t *testing.T) {
	cases := []struct {
		name     string
		tokenLen int
		status   int
		code     string
		custom   bool // WithHTTPClient: net/http, whose bytes are estimated
	}{
		// A 1 KiB token: answered.
		{"1 KiB", 1 << 10, 200, "", false},
		// Past the API's 16 KiB: its 431 with a JSON code.
		{"20 KiB", 20 << 10, 431, "headers_too_large", false},
		// Past NGINX's 64 KiB line: an HTML 400 without a code, on a connection the server closes.
		{"70 KiB", 70 << 10, 400, "", false},
		// The same on net/http.
		{"20 KiB net/http", 20 << 10, 431, "headers_too_large", true},
		{"70 KiB net/http", 70 << 10, 400, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Int64
			srv := bigTokenServer(t, tc.tokenLen, &seen)
			cfg := quick(srv.URL, 50, time.Second)
			cfg.Mix = Mix{{ProfileRead{}, 1}}
			cfg.RunDir = t.TempDir()
			var opts []Option
			opts = append(opts, WithoutProgress())
			if tc.custom {
				opts = append(opts, WithHTTPClient(newHTTPClient(8)))
			}
			res, err := Run(context.Background(), cfg, opts...)
			require.NoError(t, err)
			require.EqualValues(t, tc.tokenLen, seen.Load(), "the token arrived whole")
			require.Equal(t, res.Totals.Planned, res.Totals.Completed, "nothing dropped")
			if tc.status == 200 {
				require.Zero(t, res.Totals.Errors)
			} else {
				require.Equal(t, res.Totals.Completed, res.Totals.Errors, "every refusal is an error")
			}

			f, err := os.Open(filepath.Join(cfg.RunDir, runfolder.RecordsFile))
			require.NoError(t, err)
			defer f.Close()
			var n, bytes, attempts int64
			require.NoError(t, ReadRecords(f, func(r Record) error {
				n++
				require.Equal(t, tc.status, r.Status)
				require.Equal(t, tc.code, r.Code)
				require.Equal(t, 1, r.Attempts, "a 4xx is not retried")
				// The request line and the other headers add a few hundred bytes at most.
				require.GreaterOrEqual(t, r.ReqBytes, int64(tc.tokenLen))
				require.Less(t, r.ReqBytes, int64(tc.tokenLen+300))
				bytes, attempts = bytes+r.ReqBytes, attempts+int64(r.Attempts)
				return nil
			}))
			require.Positive(t, n)
			require.Len(t, res.Stats, 1)
			require.Equal(t, bytes, res.Stats[0].ReqBytes, "the op's stats sum the records' bytes")
			require.Equal(t, attempts, res.Stats[0].Attempts)
		})
	}
}
