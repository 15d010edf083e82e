package load

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

func init() { RegisterOp(OrderCreate{}) }

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
	e := orderEntry(x, key, resp, err)
	e.RequestID = reqID
	if e.Status == OrderAcknowledged {
		var a struct {
			OrderID string `json:"order_id"`
		}
		if jerr := json.Unmarshal(resp.Body, &a); jerr != nil || a.OrderID == "" {
			// A 2xx without an order id is not an acknowledgement we can check.
			e.Status = OrderUnknown
		} else {
			e.OrderID = a.OrderID
		}
	}
	x.Ledger().RecordOrder(e)
	return OutcomeOf(x, resp, err, key)
}
