package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

// DefaultMix is read-heavy with every write kind present.
func DefaultMix() Mix {
	return Mix{
		{ProfileRead{}, 50},
		{CartWrite{}, 20},
		{OrderCreate{}, 20},
		{ResourceUpdate{}, 10},
	}
}

// outcomeOf turns a Do result into an Outcome.
func outcomeOf(x *Exec, resp *Response, err error, key string) Outcome {
	if err != nil {
		return Outcome{Class: x.lastClass, Key: key, Err: err}
	}
	return Outcome{Status: resp.Status, Class: classOfStatus(resp.Status), Code: resp.Code, Key: key}
}

// ProfileRead is GET /v1/profile.
type ProfileRead struct{}

var _ Op = ProfileRead{}

func (ProfileRead) Name() string       { return "profile.read" }
func (ProfileRead) NeedsSession() bool { return true }
func (ProfileRead) Do(ctx context.Context, x *Exec) Outcome {
	resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/profile"})
	return outcomeOf(x, resp, err, "")
}

// CartWrite is PUT /v1/cart with 1-3 random items. PUT replaces the cart, so
// retrying it is safe without a key.
type CartWrite struct{}

var _ Op = CartWrite{}

func (CartWrite) Name() string       { return "cart.write" }
func (CartWrite) NeedsSession() bool { return true }
func (CartWrite) Do(ctx context.Context, x *Exec) Outcome {
	body := appendItems([]byte(`{"items":`), x, 3)
	body = append(body, '}')
	resp, err := x.Do(ctx, Request{Method: http.MethodPut, Path: "/v1/cart", Body: body})
	return outcomeOf(x, resp, err, "")
}

func appendItems(b []byte, x *Exec, maxItems int) []byte {
	n := 1 + x.Rand().IntN(maxItems)
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":"sku-`...)
		b = strconv.AppendInt(b, int64(x.Rand().IntN(100)), 10)
		b = append(b, `","qty":`...)
		b = strconv.AppendInt(b, int64(1+x.Rand().IntN(5)), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// OrderCreate is POST /v1/orders with a fresh idempotency key and request id
// per logical order; every retry reuses them. The outcome goes to the ledger.
type OrderCreate struct{}

var _ Op = OrderCreate{}

func (OrderCreate) Name() string       { return "order.create" }
func (OrderCreate) NeedsSession() bool { return true }
func (OrderCreate) Do(ctx context.Context, x *Exec) Outcome {
	key := x.Key()
	reqID := "req-" + key
	body := append([]byte(`{"request_id":`), strconv.Quote(reqID)...)
	body = append(body, `,"items":`...)
	body = appendItems(body, x, 3)
	body = append(body, '}')
	resp, err := x.Do(ctx, Request{Method: http.MethodPost, Path: "/v1/orders", Body: body, IdempotencyKey: key})
	e := OrderEntry{Key: key, RequestID: reqID, Attempts: x.attempts, PlannedMs: x.plannedMs()}
	if c := x.Client(); c != nil {
		e.Client, e.User = c.ID, c.Username
	}
	switch {
	case err != nil:
		e.Status = OrderUnknown
	case resp.Status >= 200 && resp.Status < 300:
		var a struct {
			OrderID string `json:"order_id"`
		}
		if jerr := json.Unmarshal(resp.Body, &a); jerr != nil || a.OrderID == "" {
			// A 2xx without an order id is not an acknowledgement we can check.
			e.Status = OrderUnknown
		} else {
			e.Status, e.OrderID = OrderAcknowledged, a.OrderID
		}
	case resp.Status >= 500 || (resp.Status == http.StatusConflict && resp.Code == CodeInFlight):
		e.Status = OrderUnknown
	default:
		e.Status = OrderRejected
	}
	if resp != nil {
		e.HTTPStatus, e.Code, e.Replayed = resp.Status, resp.Code, resp.Replayed
	}
	x.Ledger().RecordOrder(e)
	return outcomeOf(x, resp, err, key)
}

// ResourceUpdate increments a resource: GET it, then PATCH value+1 with
// If-Match; on 412 it re-reads and tries again (up to MaxConflicts). An
// increment is what lets the checker compare acknowledged updates with the
// final value.
type ResourceUpdate struct {
	// MaxConflicts bounds re-read cycles on 412 (default 5).
	MaxConflicts int
}

var _ Op = ResourceUpdate{}

func (ResourceUpdate) Name() string       { return "resource.update" }
func (ResourceUpdate) NeedsSession() bool { return true }
func (op ResourceUpdate) Do(ctx context.Context, x *Exec) Outcome {
	maxConflicts := op.MaxConflicts
	if maxConflicts <= 0 {
		maxConflicts = 5
	}
	id := "res-" + strconv.Itoa(x.Rand().IntN(x.Resources()))
	path := "/v1/resources/" + id
	uncertain, conflicts := 0, 0
	for {
		resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: path})
		if err != nil || resp.Status != http.StatusOK {
			x.Ledger().RecordResourceUpdate(id, false, uncertain, conflicts)
			return outcomeOf(x, resp, err, id)
		}
		var cur struct {
			Value int64 `json:"value"`
		}
		if jerr := json.Unmarshal(resp.Body, &cur); jerr != nil {
			x.Ledger().RecordResourceUpdate(id, false, uncertain, conflicts)
			return Outcome{Status: resp.Status, Class: ClassSetup, Key: id, Err: fmt.Errorf("decode %s: %w", path, jerr)}
		}
		etag := resp.Header.Get("ETag")
		body := []byte(`{"value":` + strconv.FormatInt(cur.Value+1, 10) + `}`)
		resp, err = x.Do(ctx, Request{Method: http.MethodPatch, Path: path, Body: body, IfMatch: etag})
		uncertain += resp.Uncertain // resp is never nil from Do
		if err == nil && resp.Status == http.StatusPreconditionFailed && conflicts < maxConflicts {
			conflicts++
			continue
		}
		if err == nil && resp.Status == http.StatusPreconditionFailed {
			conflicts++
		}
		acked := err == nil && resp.Status == http.StatusOK
		x.Ledger().RecordResourceUpdate(id, acked, uncertain, conflicts)
		return outcomeOf(x, resp, err, id)
	}
}

// HTTPGet is a plain GET of a fixed path without a session: a baseline op
// and the benchmark's op.
type HTTPGet struct {
	OpName string
	Path   string
}

var _ Op = HTTPGet{}

func (g HTTPGet) Name() string { return g.OpName }
func (g HTTPGet) Do(ctx context.Context, x *Exec) Outcome {
	resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: g.Path, NoAuth: true})
	return outcomeOf(x, resp, err, "")
}
