package conform

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Error answers and limits (docs/contract.md "Conventions"; RFC 9110 §15.5.14 413; RFC 6585 §5 431;
// RFC 9110 §15.6.4 503 and §10.2.3 Retry-After).
func init() {
	Register(Rule{ID: "errors.shape", Spec: specContract, Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			for _, q := range []Req{
				{Method: http.MethodGet, Path: "/v1/no-such-thing-" + Nonce()},
				{Method: http.MethodPost, Path: "/v1/orders", Body: `{"request_id":`,
					Header: map[string]string{"Idempotency-Key": "conform-" + Nonce()}},
			} {
				r, err := s.Do(ctx, q)
				if err != nil {
					return Failed, q.Method + " " + q.Path + ": " + err.Error()
				}
				var e struct{ Error, Code string }
				if r.Status < 400 || json.Unmarshal(r.Body, &e) != nil || e.Error == "" || e.Code == "" {
					return Failed, q.Method + " " + q.Path + ": want a 4xx with {\"error\", \"code\"}, got " + describe(r, nil)
				}
			}
			return Passed, "an unknown path and a malformed body answer JSON {error, code}"
		}})
	Register(Rule{ID: "limits.body", Spec: "RFC 9110 §15.5.14 (413)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			// 1 MiB of JSON: over the contract's suggested limits, under what a proxy in front (2 MiB in
			// chaosbench's NGINX) refuses itself.
			big := []byte(`{"request_id":"` + strings.Repeat("x", 1<<20) + `","items":[]}`)
			r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/orders", RawBody: big,
				Header: map[string]string{"Idempotency-Key": "conform-" + Nonce(), "Content-Type": "application/json"}})
			if ok, why := expect(r, err, http.StatusRequestEntityTooLarge, ""); !ok {
				return Failed, "a 1 MiB body: " + why
			}
			return Passed, "a 1 MiB body is 413"
		}})
	Register(Rule{ID: "limits.headers", Spec: "RFC 6585 §5 (431)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			// 20 KiB in five 4 KiB headers: each line fits a proxy's header buffer and the sum fits NGINX's
			// default 32 KiB, so the service itself must refuse it (the reference API's limit is 16 KiB).
			h := map[string]string{}
			for i := range 5 {
				h["X-Conform-Pad-"+string(rune('a'+i))] = strings.Repeat("p", 4<<10)
			}
			r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/profile", Header: h})
			if ok, why := expect(r, err, http.StatusRequestHeaderFieldsTooLarge, ""); !ok {
				return Failed, "20 KiB of headers: " + why
			}
			return Passed, "20 KiB of headers is 431"
		}})
	Register(Rule{ID: "store.unavailable", Spec: "RFC 9110 §15.6.4, §10.2.3 (503, Retry-After)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			if s.outage == nil {
				return Skipped, "the suite cannot take this service's state store down (plain URL)"
			}
			restore, err := s.outage(ctx)
			if err != nil {
				return Failed, "take the state store down: " + err.Error()
			}
			var r *Resp
			func() {
				defer func() {
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
					defer cancel()
					if rerr := restore(rctx); rerr != nil && err == nil {
						err = rerr
					}
				}()
				r, err = s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/resources/conform-" + Nonce()})
			}()
			if err != nil {
				return Failed, "with the state store down: " + err.Error()
			}
			if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
				return Failed, "with the state store down: want 503 with Retry-After, got " + describe(r, nil) +
					" Retry-After=" + r.Header.Get("Retry-After")
			}
			return Passed, "with the state store down: 503 " + r.Code() + ", Retry-After: " + r.Header.Get("Retry-After")
		}})
}
