package load

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of one logical call. Every attempt of a call
// carries the same Idempotency-Key, so a retry can never create a second order
// on a server that honours keys.
type RetryPolicy struct {
	// Attempts is the maximum number of attempts including the first (>= 1).
	Attempts int
	// Base and Max bound the exponential backoff: before attempt n+1 the
	// client sleeps a uniform random time in [0, min(Max, Base·2^(n-1))]
	// ("full jitter"), so synchronised retries do not hammer a recovering node.
	Base, Max time.Duration
	// Budget is the total time a logical call may take from its dispatch,
	// attempts and sleeps included.
	Budget time.Duration
	// On names which answers and errors are retried; nil: the reference contract's (RetryOn).
	On *RetryOn
}

// Names of the transport errors a RetryOn may retry, and what each means for the server.
const (
	// RetryConnect: the connection could not be made (refused, no route, DNS). The request never reached
	// the server, so another attempt is always safe.
	RetryConnect = "connect"
	// RetryTimeout: no answer within the attempt's timeout (dial included). The server may have applied
	// the request: retry only what is idempotent (a key, a PUT) or harmless twice.
	RetryTimeout = "timeout"
	// RetryReset: the connection was reset or closed before a whole answer came back (or the answer was
	// malformed). The server may have applied it, as for a timeout.
	RetryReset = "reset"
)

// RetryErrors are the error names a RetryOn accepts.
func RetryErrors() []string { return []string{RetryConnect, RetryReset, RetryTimeout} }

// RetryOn says which final answers of an attempt are worth another attempt. A nil field keeps the
// reference contract's rule for it: Statuses nil retries 502, 503, 504 and a 409 whose code is
// idempotency_in_flight; Errors nil retries every transport error. An empty, non-nil field retries none.
type RetryOn struct {
	// Statuses are retried whatever the body says (a listed 409 is retried whatever its code).
	Statuses []int
	// Errors are names from RetryErrors.
	Errors []string
}

func (o *RetryOn) validate() []error {
	if o == nil {
		return nil
	}
	var errs []error
	for _, s := range o.Statuses {
		switch {
		case s < 100 || s > 599:
			errs = append(errs, fmt.Errorf("retry.on.statuses: %d is not an HTTP status (100..599)", s))
		case s < 300:
			errs = append(errs, fmt.Errorf("retry.on.statuses: %d is a success: retrying it would send the call again for nothing", s))
		}
	}
	for _, e := range o.Errors {
		if !slices.Contains(RetryErrors(), e) {
			errs = append(errs, fmt.Errorf("retry.on.errors: %q: want one of %s", e, strings.Join(RetryErrors(), ", ")))
		}
	}
	return errs
}

// retryStatus reports whether an answer of status and API code is retried under p.
func (p *RetryPolicy) retryStatus(status int, code string) bool {
	if p.On == nil || p.On.Statuses == nil {
		return retryableStatus(status, code)
	}
	return slices.Contains(p.On.Statuses, status)
}

// retryError reports whether an attempt that failed with the error class is retried under p.
func (p *RetryPolicy) retryError(class string) bool {
	if p.On == nil || p.On.Errors == nil {
		return true // every transport error, as the contract's clients do
	}
	var name string
	switch class {
	case ClassConnect:
		name = RetryConnect
	case ClassTimeout:
		name = RetryTimeout
	case ClassTransport:
		name = RetryReset
	default:
		return false // setup: the request could not be built; another attempt builds the same
	}
	return slices.Contains(p.On.Errors, name)
}

// DefaultRetry is 4 attempts, 50ms..1s full-jitter backoff, 10s budget.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{Attempts: 4, Base: 50 * time.Millisecond, Max: time.Second, Budget: 10 * time.Second}
}

// NoRetry makes exactly one attempt (comparisons without retries).
func NoRetry() RetryPolicy {
	return RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond, Budget: 10 * time.Second}
}

func (p RetryPolicy) validate() []error {
	if p == (RetryPolicy{}) {
		return nil // defaults apply
	}
	var errs []error
	if p.Attempts < 1 {
		errs = append(errs, errors.New("retry.attempts: must be >= 1"))
	}
	if p.Base <= 0 || p.Max < p.Base {
		errs = append(errs, fmt.Errorf("retry: need 0 < base (%s) <= max (%s)", p.Base, p.Max))
	}
	if p.Budget <= 0 {
		errs = append(errs, errors.New("retry.budget: must be > 0"))
	}
	errs = append(errs, p.On.validate()...)
	return errs
}

// backoff is the full-jitter sleep before attempt `attempt+1` (attempt >= 1),
// stretched to at least the server's Retry-After.
func (p RetryPolicy) backoff(attempt int, r *rand.Rand, retryAfter time.Duration) time.Duration {
	ceil := p.Max
	if attempt-1 < 30 {
		if c := p.Base << (attempt - 1); c > 0 && c < ceil {
			ceil = c
		}
	}
	d := time.Duration(r.Int64N(int64(ceil) + 1))
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

// retryAfter reads a Retry-After header given in seconds (the API's form).
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// retryableStatus is the status/code pairs worth another attempt with the same
// key: the gateway or the state store failed, or the same key is still being
// processed elsewhere (409 idempotency_in_flight).
func retryableStatus(status int, code string) bool {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		return code == CodeInFlight
	}
	return false
}
