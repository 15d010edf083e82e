package load

import (
	"context"
)

// Op is one kind of request in the mix. Do performs it with x (which handles
// retries, auth and measurement) and reports how it ended. Do is called
// concurrently from many workers.
type Op interface {
	Name() string
	Do(ctx context.Context, x *Exec) Outcome
}

// SessionUser is an optional capability: an op that needs a logged-in client.
type SessionUser interface {
	NeedsSession() bool
}

func needsSession(op Op) bool {
	s, ok := op.(SessionUser)
	return ok && s.NeedsSession()
}

// Outcome is how a request ended, as recorded.
type Outcome struct {
	Status int    // last HTTP status, 0 without an answer
	Class  string // ClassOK, Class4xx, ...
	Code   string // API error code
	Key    string // idempotency key or resource id, for the record
	Err    error  // the last transport error, if any
}

// Weighted is an op and its relative weight in the mix.
type Weighted struct {
	Op     Op
	Weight int
}

// Mix picks ops by weight.
type Mix []Weighted

// OutcomeOf is the Outcome of an op whose answer is the last call's: the
// status, class and API code of resp, or, when err is set (no answer after
// every attempt), the class of the last attempt's failure and err. key goes
// to the record (an idempotency key or a resource id; "" for none).
func OutcomeOf(x *Exec, resp *Response, err error, key string) Outcome {
	if err != nil {
		return Outcome{Class: x.lastClass, Key: key, Err: err}
	}
	return Outcome{Status: resp.Status, Class: classOfStatus(resp.Status), Code: resp.Code, Key: key}
}
