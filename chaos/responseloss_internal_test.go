package chaos

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestResponseLossProxy drives the fault's proxy in front of an in-process node: the node does the work
// for every request, and only the answers the fault aims at are lost, each the way its mode says.
func TestResponseLossProxy(t *testing.T) {
	var served atomic.Int64
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("X-Node-Id", "api-2")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"order_id":"o-1"}`)
	}))
	defer node.Close()
	// draws alternates 0.1 and 0.9: at percent 50 exactly every other matching answer is lost.
	var n atomic.Int64
	draws := func() float64 {
		if n.Add(1)%2 == 1 {
			return 0.1
		}
		return 0.9
	}
	tests := []struct {
		name      string
		f         ResponseLoss
		method    string
		lost, got int // of 4 requests: answers lost, answers received whole
		wantErr   func(error) bool
	}{
		// reset: the client's read of the answer ends in ECONNRESET, for every matching request.
		{"reset POST", ResponseLoss{Percent: 100, Methods: []string{"POST"}, Path: "/v1/orders", Mode: LossReset}, "POST", 4, 0,
			func(err error) bool {
				return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF")
			}},
		// truncate: the head arrives (201) and the body breaks off: an unexpected EOF on the body.
		{"truncate POST", ResponseLoss{Percent: 100, Methods: []string{"POST"}, Path: "/v1/orders", Mode: LossTruncate}, "POST", 4, 0,
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		// a request of another method passes untouched.
		{"other method", ResponseLoss{Percent: 100, Methods: []string{"POST"}, Path: "/v1/orders", Mode: LossReset}, "GET", 0, 4, nil},
		// percent 50 with the alternating source: two of four.
		{"half", ResponseLoss{Percent: 50, Mode: LossTruncate}, "POST", 2, 2,
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served.Store(0)
			n.Store(0)
			p, err := startLossProxy("127.0.0.1:0", node.Listener.Addr().String(), &tt.f, draws)
			require.NoError(t, err)
			defer p.Close()
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			lost, got := 0, 0
			for range 4 {
				req, _ := http.NewRequest(tt.method, "http://"+p.Addr()+"/v1/orders", strings.NewReader(`{}`))
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if err == nil {
						require.Equal(t, http.StatusCreated, resp.StatusCode)
					} else {
						require.Equal(t, http.StatusCreated, resp.StatusCode, "truncate: the head is the node's")
					}
				}
				if err != nil {
					require.True(t, tt.wantErr(err), "unexpected error: %v", err)
					lost++
				} else {
					got++
				}
			}
			require.Equal(t, tt.lost, lost)
			require.Equal(t, tt.got, got)
			require.EqualValues(t, 4, served.Load(), "the node did the work for every request")
			require.Equal(t, p.lost.Load(), int64(tt.lost))
		})
	}
}

// TestResponseLossParams refuses what the fault cannot mean.
func TestResponseLossParams(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		err    string // "" for accepted
	}{
		{"defaults: every answer reset", nil, ""},             // percent 100, mode reset
		{"two methods", Params{"method": "[POST PATCH]"}, ""}, // a list, as a scenario's [POST, PATCH] arrives
		{"orders, a third, truncated", Params{"method": "post", "path": "/v1/orders", "percent": "33", "mode": "truncate"}, ""}, // method is case-insensitive
		{"unknown mode", Params{"mode": "drop"}, `want one of reset, truncate`},                                                 // a typo is an error
		{"bad method", Params{"method": "FETCH"}, `want an HTTP method`},                                                        // not a method
		{"relative path", Params{"path": "v1/orders"}, `starting with /`},                                                       // a prefix of the URL path
		{"zero percent", Params{"percent": "0"}, `percentage in (0, 100]`},                                                      // a fault that loses nothing
		{"unknown param", Params{"delay": "1s"}, `unknown parameter "delay"`},                                                   // not this fault's
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("response-loss", tt.params)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}
