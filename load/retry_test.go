package load

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBackoffFullJitter: sleeps stay within [0, min(max, base·2^(n-1))],
// honour Retry-After, and repeat exactly for the same seed.
func TestBackoffFullJitter(t *testing.T) {
	p := RetryPolicy{Attempts: 10, Base: 10 * time.Millisecond, Max: 80 * time.Millisecond, Budget: time.Second}
	tests := []struct {
		attempt int
		ra      time.Duration
		lo, hi  time.Duration
	}{
		{1, 0, 0, 10 * time.Millisecond},           // first retry: up to base
		{3, 0, 0, 40 * time.Millisecond},           // doubles per attempt
		{9, 0, 0, 80 * time.Millisecond},           // capped at max
		{2, time.Second, time.Second, time.Second}, // Retry-After wins when longer
		{40, 0, 0, 80 * time.Millisecond},          // no shift overflow on huge attempt numbers
	}
	for _, tc := range tests {
		a := rand.New(rand.NewPCG(1, 2))
		b := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 200; i++ {
			d := p.backoff(tc.attempt, a, tc.ra)
			assert.GreaterOrEqual(t, d, tc.lo)
			assert.LessOrEqual(t, d, tc.hi)
			assert.Equal(t, d, p.backoff(tc.attempt, b, tc.ra), "same seed, same sleeps")
		}
	}
}

// oneOrder runs a single order.create against the stub and returns the
// result and the keys the stub saw on /v1/orders.
func oneOrder(t *testing.T, inject func(r *http.Request, key string, n int) (int, string)) (*Result, []string) {
	stub, srv := newStub(t)
	stub.inject = inject
	cfg := quick(srv.URL, 10, 150*time.Millisecond) // exactly one request, at 100 ms
	cfg.Clients = 1
	cfg.Mix = Mix{{OrderCreate{}, 1}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	require.Len(t, res.Ledger.Orders, 1)
	stub.mu.Lock()
	defer stub.mu.Unlock()
	return res, append([]string{}, stub.keys["/v1/orders"]...)
}

// TestOrderRetries: which answers are retried, with the same key, and what
// the ledger concludes.
func TestOrderRetries(t *testing.T) {
	tests := []struct {
		name     string
		inject   func(r *http.Request, key string, n int) (int, string)
		attempts int
		status   OrderStatus
	}{
		// the state store is down twice, then the order goes through
		{"503 twice then ok", func(r *http.Request, k string, n int) (int, string) {
			if k != "" && n <= 2 {
				return 503, "state_store_unavailable"
			}
			return 0, ""
		}, 3, OrderAcknowledged},
		// another attempt with the same key is still processing: retryable
		{"409 in flight then ok", func(r *http.Request, k string, n int) (int, string) {
			if k != "" && n == 1 {
				return 409, CodeInFlight
			}
			return 0, ""
		}, 2, OrderAcknowledged},
		// the connection drops after the request was sent: retried with the same key
		{"hang-up then ok", func(r *http.Request, k string, n int) (int, string) {
			if k != "" && n == 1 {
				return -1, ""
			}
			return 0, ""
		}, 2, OrderAcknowledged},
		// a key reused with another payload is final: no retry, rejected
		{"422 not retried", func(r *http.Request, k string, n int) (int, string) {
			if k != "" {
				return 422, "idempotency_key_reused"
			}
			return 0, ""
		}, 1, OrderRejected},
		// a gateway that never recovers: all attempts used, outcome unknown
		{"502 forever", func(r *http.Request, k string, n int) (int, string) {
			if k != "" {
				return 502, "bad_gateway"
			}
			return 0, ""
		}, 4, OrderUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, keys := oneOrder(t, tc.inject)
			o := res.Ledger.Orders[0]
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.attempts, o.Attempts)
			require.Len(t, keys, tc.attempts, "one request per attempt reached the server")
			for _, k := range keys {
				assert.Equal(t, o.Key, k, "every attempt carries the same Idempotency-Key")
			}
			assert.Equal(t, "req-"+o.Key, o.RequestID)
			if tc.status == OrderAcknowledged {
				assert.NotEmpty(t, o.OrderID)
			}
			assert.Equal(t, int64(tc.attempts-1), res.Totals.Retries)
		})
	}
}

// TestLostSessionIsCountedAndRenewed: a live session rejected as unknown is a
// lost session; the client logs in again and the request still succeeds.
func TestLostSessionIsCountedAndRenewed(t *testing.T) {
	stub, srv := newStub(t)
	dropped := false
	stub.inject = func(r *http.Request, k string, n int) (int, string) {
		if r.URL.Path == "/v1/profile" && !dropped {
			dropped = true // a node that kept sessions in memory just died
			stub.dropSessions()
		}
		return 0, ""
	}
	cfg := quick(srv.URL, 10, 150*time.Millisecond)
	cfg.Clients = 1
	cfg.Mix = Mix{{ProfileRead{}, 1}}
	res, err := Run(context.Background(), cfg, WithoutProgress())
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Totals.LostSessions)
	assert.Equal(t, 1, res.Ledger.LostSessions())
	require.Len(t, res.Ledger.Sessions, 2, "the lost session and its replacement")
	assert.Equal(t, CodeSessionNotFound, res.Ledger.Sessions[0].EndReason)
	assert.False(t, res.Ledger.Sessions[1].Lost)
	assert.Zero(t, res.Totals.Errors, "the request succeeded after logging in again")
}

// TestResourceIncrementsMatchLedger: concurrent increments with If-Match on
// one resource; the final value equals the acknowledged count because the
// stub compares ETags, and conflicts were retried.
func TestResourceIncrementsMatchLedger(t *testing.T) {
	for _, cookie := range []bool{false, true} { // both auth modes
		stub, srv := newStub(t)
		stub.cookie = cookie
		cfg := quick(srv.URL, 300, 500*time.Millisecond)
		cfg.Resources = 1
		cfg.Mix = Mix{{ResourceUpdate{MaxConflicts: 50}, 1}}
		res, err := Run(context.Background(), cfg, WithoutProgress())
		require.NoError(t, err)
		require.Len(t, res.Ledger.Resources, 1)
		r := res.Ledger.Resources[0]
		stub.mu.Lock()
		final := stub.values["res-0"]
		stub.mu.Unlock()
		// Equal unless an attempt's answer was lost (a timeout on a loaded
		// machine): then the checker's bound applies, and only then.
		assert.LessOrEqual(t, r.Acknowledged, final, "cookie=%v: no lost update", cookie)
		assert.LessOrEqual(t, final, r.Acknowledged+r.Uncertain, "cookie=%v: %+v", cookie, r)
		// How many land depends on how busy the machine is (150 planned on
		// one contended resource); that some did is what the bounds need.
		assert.Positive(t, r.Acknowledged)
		for _, s := range res.Ledger.Sessions {
			assert.False(t, strings.HasPrefix(s.SessionID, "tok"), "sessions are ids, not tokens")
		}
	}
}

// TestRetryOn: which statuses and error classes a policy retries, and what it refuses.
func TestRetryOn(t *testing.T) {
	def := DefaultRetry()
	on := RetryPolicy{On: &RetryOn{Statuses: []int{409}, Errors: []string{RetryConnect}}}
	onlyStatuses := RetryPolicy{On: &RetryOn{Statuses: []int{503}}}
	tests := []struct {
		name        string
		p           RetryPolicy
		status      int
		code, class string // status 0: an error of class
		want        bool
	}{
		{"default: 503", def, 503, "", "", true},
		{"default: 409 in flight", def, 409, CodeInFlight, "", true},
		{"default: another 409 is final", def, 409, "busy", "", false},
		{"default: every transport error", def, 0, "", ClassTimeout, true},
		{"default: a setup error as before", def, 0, "", ClassSetup, true},
		{"named 409, whatever its code", on, 409, "busy", "", true},
		{"a 503 not named", on, 503, "", "", false},
		{"connect named", on, 0, "", ClassConnect, true},
		{"timeout not named", on, 0, "", ClassTimeout, false},
		{"reset not named", on, 0, "", ClassTransport, false},
		{"setup never, once errors are named", on, 0, "", ClassSetup, false},
		{"statuses only: errors keep the default", onlyStatuses, 0, "", ClassTransport, true},
	}
	for _, tc := range tests {
		var got bool
		if tc.status != 0 {
			got = tc.p.retryStatus(tc.status, tc.code)
		} else {
			got = tc.p.retryError(tc.class)
		}
		assert.Equal(t, tc.want, got, tc.name)
	}

	bad := DefaultRetry()
	bad.On = &RetryOn{Statuses: []int{200, 700}, Errors: []string{"eof"}}
	errs := bad.validate()
	require.Len(t, errs, 3)
	assert.ErrorContains(t, errs[0], "200 is a success")
	assert.ErrorContains(t, errs[1], "700 is not an HTTP status")
	assert.ErrorContains(t, errs[2], `"eof": want one of connect, reset, timeout`)
}
