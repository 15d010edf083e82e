package conform

import (
	"context"
	"net/http"
	"strings"
)

// Conditional updates of resources (RFC 9110 §8.8.3 ETag, §13.1.1 If-Match; RFC 6585 §3, 428).
func init() {
	read := func(ctx context.Context, s *Suite, id string) (etag string, why string) {
		r, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/v1/resources/" + id})
		if ok, why := expect(r, err, http.StatusOK, ""); !ok {
			return "", "GET /v1/resources/" + id + ": " + why
		}
		return r.Header.Get("ETag"), ""
	}
	patch := func(ctx context.Context, s *Suite, id, ifMatch, value string) (*Resp, error) {
		q := Req{Method: http.MethodPatch, Path: "/v1/resources/" + id, Body: `{"value":` + value + `}`}
		if ifMatch != "" {
			q.Header = map[string]string{"If-Match": ifMatch}
		}
		return s.Do(ctx, q)
	}
	Register(Rule{ID: "etag.strong", Spec: "RFC 9110 §8.8.3", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			tag, why := read(ctx, s, "conform-"+Nonce())
			switch {
			case why != "":
				return Failed, why
			case tag == "":
				return Failed, "a resource has no ETag"
			case strings.HasPrefix(tag, "W/"):
				return Failed, "the ETag " + tag + " is weak: If-Match needs a strong one"
			}
			return Passed, "a resource carries the strong ETag " + tag
		}})
	Register(Rule{ID: "etag.if-match-required", Spec: "RFC 6585 §3 (428)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			r, err := patch(ctx, s, "conform-"+Nonce(), "", "1")
			if ok, why := expect(r, err, http.StatusPreconditionRequired, "precondition_required"); !ok {
				return Failed, "PATCH without If-Match: " + why
			}
			return Passed, "PATCH without If-Match is 428 precondition_required"
		}})
	Register(Rule{ID: "etag.update", Spec: "RFC 9110 §13.1.1", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			id := "conform-" + Nonce()
			tag, why := read(ctx, s, id)
			if why != "" {
				return Failed, why
			}
			r, err := patch(ctx, s, id, tag, "1")
			if ok, why := expect(r, err, http.StatusOK, ""); !ok {
				return Failed, "PATCH with the current ETag: " + why
			}
			if nt := r.Header.Get("ETag"); nt == "" || nt == tag {
				return Failed, "a successful PATCH must answer the new ETag (got " + nt + ")"
			}
			return Passed, "PATCH with the current ETag succeeds and answers a new one"
		}})
	Register(Rule{ID: "etag.stale", Spec: "RFC 9110 §13.1.1 (412)", Required: true, NeedsLogin: true,
		Check: func(ctx context.Context, s *Suite) (Status, string) {
			id := "conform-" + Nonce()
			tag, why := read(ctx, s, id)
			if why != "" {
				return Failed, why
			}
			if r, err := patch(ctx, s, id, tag, "1"); err != nil || r.Status != http.StatusOK {
				return Failed, "first PATCH: " + describe(r, err)
			}
			r, err := patch(ctx, s, id, tag, "2")
			if ok, why := expect(r, err, http.StatusPreconditionFailed, "precondition_failed"); !ok {
				return Failed, "PATCH with the ETag the first PATCH replaced: " + why
			}
			return Passed, "PATCH with a stale ETag is 412 precondition_failed"
		}})
}
