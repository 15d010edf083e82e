package conform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// The Idempotency-Key header field (draft-ietf-httpapi-idempotency-key-header), as POST /v1/orders uses it.
const specIdem = "draft-ietf-httpapi-idempotency-key-header-07 §2"

// concurrentSends is how many same-key POSTs race each other: enough that a check-then-set design lets at
// least two through on any machine, few enough to stay gentle.
const concurrentSends = 20

func orderBody(reqID, sku string) string {
	return fmt.Sprintf(`{"request_id":%q,"items":[{"sku":%q,"qty":1}]}`, reqID, sku)
}

func postOrder(ctx context.Context, s *Suite, key, body string) (*Resp, error) {
	q := Req{Method: http.MethodPost, Path: "/v1/orders", Body: body}
	if key != "" {
		q.Header = map[string]string{"Idempotency-Key": key}
	}
	return s.Do(ctx, q)
}

// countOrders counts the caller's orders that carry reqID, read through GET /v1/orders.
func countOrders(ctx context.Context, s *Suite, reqID string) (int, error) {
	r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/orders"})
	if err != nil {
		return 0, err
	}
	if r.Status != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/orders: %s", describe(r, nil))
	}
	var out struct {
		Orders []struct {
			RequestID string `json:"request_id"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return 0, fmt.Errorf("GET /v1/orders: %w", err)
	}
	n := 0
	for _, o := range out.Orders {
		if o.RequestID == reqID {
			n++
		}
	}
	return n, nil
}

func init() {
	Register(Rule{ID: "idempotency.key-required", Spec: specIdem + ".7 (400)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			r, err := postOrder(ctx, s, "", orderBody("req-"+Nonce(), "tea"))
			if ok, why := expect(r, err, http.StatusBadRequest, "idempotency_key_missing"); !ok {
				return Failed, "an order without Idempotency-Key: " + why
			}
			return Passed, "an order without a key is 400 idempotency_key_missing"
		}})
	Register(Rule{ID: "idempotency.replay", Spec: specIdem + ".6", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			key, reqID := "conform-"+Nonce(), "req-"+Nonce()
			body := orderBody(reqID, "tea")
			first, err := postOrder(ctx, s, key, body)
			if ok, why := expect(first, err, http.StatusCreated, ""); !ok {
				return Failed, "first order: " + why
			}
			again, err := postOrder(ctx, s, key, body)
			if err != nil || again.Status != first.Status || !bytes.Equal(bytes.TrimSpace(again.Body), bytes.TrimSpace(first.Body)) {
				return Failed, fmt.Sprintf("the same key and body again: want the stored %d and body, got %s", first.Status, describe(again, err))
			}
			n, err := countOrders(ctx, s, reqID)
			if err != nil {
				return Failed, err.Error()
			}
			if n != 1 {
				return Failed, fmt.Sprintf("two sends of one key stored %d orders", n)
			}
			return Passed, "a repeat returns the stored status and body; one order is stored"
		}})
	Register(Rule{ID: "idempotency.replay-marker", Spec: specContract + " (Idempotent-Replayed)", NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			key, body := "conform-"+Nonce(), orderBody("req-"+Nonce(), "tea")
			if r, err := postOrder(ctx, s, key, body); err != nil || r.Status >= 300 {
				return Failed, "first order: " + describe(r, err)
			}
			r, err := postOrder(ctx, s, key, body)
			if err != nil || r.Header.Get("Idempotent-Replayed") != "true" {
				return Failed, "a replay carries no Idempotent-Replayed: true (" + describe(r, err) + ")"
			}
			return Passed, "a replay says Idempotent-Replayed: true"
		}})
	Register(Rule{ID: "idempotency.payload-mismatch", Spec: specIdem + ".7 (422)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			key, reqID := "conform-"+Nonce(), "req-"+Nonce()
			if r, err := postOrder(ctx, s, key, orderBody(reqID, "tea")); err != nil || r.Status >= 300 {
				return Failed, "first order: " + describe(r, err)
			}
			r, err := postOrder(ctx, s, key, orderBody(reqID, "cake"))
			if ok, why := expect(r, err, http.StatusUnprocessableEntity, "idempotency_key_reused"); !ok {
				return Failed, "the same key with another payload: " + why
			}
			return Passed, "the same key with another payload is 422 idempotency_key_reused"
		}})
	Register(Rule{ID: "idempotency.concurrent", Spec: specIdem + ".6, .7 (409)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			key, reqID := "conform-"+Nonce(), "req-"+Nonce()
			body := orderBody(reqID, "tea")
			answers := make([]*Resp, concurrentSends)
			errs := make([]error, concurrentSends)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range concurrentSends {
				wg.Go(func() {
					<-start
					answers[i], errs[i] = postOrder(ctx, s, key, body)
				})
			}
			close(start)
			wg.Wait()
			created, inFlight := 0, 0
			for i, r := range answers {
				switch {
				case errs[i] != nil:
					return Failed, "a concurrent send got no answer: " + errs[i].Error()
				case r.Status == http.StatusCreated:
					created++
				case r.Status == http.StatusConflict && r.Code() == "idempotency_in_flight":
					inFlight++
				default:
					return Failed, "a concurrent send: want 201 or 409 idempotency_in_flight, got " + describe(r, nil)
				}
			}
			n, err := countOrders(ctx, s, reqID)
			if err != nil {
				return Failed, err.Error()
			}
			if n != 1 {
				return Failed, fmt.Sprintf("%d concurrent sends of one key stored %d orders (want 1)", concurrentSends, n)
			}
			return Passed, fmt.Sprintf("%d concurrent sends of one key: one order stored, %d answered 201, %d 409 in flight",
				concurrentSends, created, inFlight)
		}})
}
