package scenarios

import (
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/require"
)

// retryOp is a declared scenario whose op a.b has no retry of its own: the rows below add one.
const retryOp = "name: x\nphases: [{duration: 10s, rate: 10/s}]\nops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n"

func TestRetryErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // each must appear in the error text
	}{
		// An error name retry does not know lists the ones it does, at the name's position.
		{"unknown error name", retryOp + "retry: {on: {errors: [connect, eof]}}\n",
			[]string{"bad.yaml:7:32:", "retry.on.errors[1]:", `"eof"`, "connect, reset, timeout"}},
		// A status that is not one.
		{"status out of range", retryOp + "retry: {on: {statuses: [4090]}}\n",
			[]string{"bad.yaml:7:", "retry.on.statuses[0]:", "4090 is not an HTTP status (100..599)"}},
		// Retrying a success would send the call again for nothing.
		{"2xx retried", retryOp + "retry: {on: {statuses: [503, 201]}}\n",
			[]string{"bad.yaml:7:", "retry.on.statuses[1]:", "201 is a success"}},
		// The same status twice is a slip.
		{"status twice", retryOp + "retry: {on: {statuses: [503, 503]}}\n",
			[]string{"bad.yaml:7:", "retry.on.statuses[1]:", "listed twice"}},
		// on without either list says nothing.
		{"empty on", retryOp + "retry: {on: {}}\n",
			[]string{"bad.yaml:7:", "retry.on:", "statuses"}},
		// Scenario-wide attempts out of range.
		{"attempts 0", retryOp + "retry: {attempts: 0}\n",
			[]string{"bad.yaml:7:", "retry.attempts:", "want 1 to 10"}},
		// A bad duration.
		{"bad backoff", retryOp + "retry: {backoff: soon}\n",
			[]string{"bad.yaml:7:", "retry.backoff:", `"soon" is not a duration`}},
		// The op's own attempts out of range, named under the op.
		{"op attempts 11", retryOp + "    retry: {attempts: 11}\n",
			[]string{"bad.yaml:7:", "ops.a.b.retry.attempts:", "11: want 1 to 10"}},
		// The op's own unknown error name.
		{"op unknown error", retryOp + "    retry: {on: {errors: [timeout, refused]}}\n",
			[]string{"bad.yaml:7:", "ops.a.b.retry.on.errors[1]:", `"refused"`, "connect, reset, timeout"}},
		// The op's own 2xx.
		{"op 2xx", retryOp + "    retry: {on: {statuses: [200]}}\n",
			[]string{"bad.yaml:7:", "ops.a.b.retry.on.statuses[0]:", "200 is a success"}},
		// The op's backoff above the scenario's max_backoff (inherited).
		{"op backoff above max", retryOp + "    retry: {backoff: 5s}\n",
			[]string{"bad.yaml:7:", "ops.a.b.retry.backoff:", "max_backoff 1s is below backoff 5s"}},
		// The op may not wait longer than the run waits for its requests.
		{"op budget above the scenario's", retryOp + "    retry: {budget: 20s}\nretry: {budget: 5s}\n",
			[]string{"bad.yaml:7:", "ops.a.b.retry.budget:", "20s exceeds the scenario's retry.budget 5s"}},
		// A field retry does not have.
		{"unknown field under the op's retry", retryOp + "    retry: {attempt: 2}\n",
			[]string{"bad.yaml:7:", `unknown field "attempt"`}},
		// A built-in op cannot be declared under ops, retry or not.
		{"retry on a built-in op", "name: x\nphases: [{duration: 10s, rate: 10/s}]\nops:\n  order.create:\n    retry: {attempts: 2}\n    steps:\n      - request: {method: GET, path: /c}\n",
			[]string{"bad.yaml:4:3:", "ops.order.create:", "is a built-in op"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.yaml))
			require.Error(t, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestRetryOn: what the scenario's and an op's retry compile to.
func TestRetryOn(t *testing.T) {
	// No retry section: the defaults, and the contract's rule (On nil).
	p, err := Parse("ok.yaml", []byte(retryOp))
	require.NoError(t, err)
	require.Equal(t, load.DefaultRetry(), p.Retry)
	require.Nil(t, p.OpRetry)

	y := "name: x\nphases: [{duration: 10s, rate: 10/s}]\n" +
		"retry: {attempts: 3, budget: 5s, on: {statuses: [409, 503], errors: [timeout, reset, connect]}}\n" +
		"ops:\n" +
		"  a.b:\n    retry: {attempts: 5, on: {errors: [connect]}}\n    steps:\n      - request: {method: GET, path: /c}\n" +
		"  a.c:\n    steps:\n      - request: {method: GET, path: /c}\n" +
		"  a.d:\n    retry: {on: {statuses: []}}\n    steps:\n      - request: {method: GET, path: /c}\n"
	p, err = Parse("ok.yaml", []byte(y))
	require.NoError(t, err)
	require.Equal(t, 3, p.Retry.Attempts)
	require.Equal(t, 5*time.Second, p.Retry.Budget)
	require.Equal(t, &load.RetryOn{Statuses: []int{409, 503}, Errors: []string{"timeout", "reset", "connect"}}, p.Retry.On)
	// a.b: its attempts and errors; the scenario's statuses, backoff and budget.
	ab := p.OpRetry["a.b"]
	require.Equal(t, 5, ab.Attempts)
	require.Equal(t, 5*time.Second, ab.Budget)
	require.Equal(t, &load.RetryOn{Statuses: []int{409, 503}, Errors: []string{"connect"}}, ab.On)
	// a.c: none of its own (the run's applies).
	require.NotContains(t, p.OpRetry, "a.c")
	// a.d: no status is retried (an empty list, not the default).
	require.Equal(t, []int{}, p.OpRetry["a.d"].On.Statuses)
	require.Len(t, p.EngineMix(), 3)
}
