package load

import (
	"context"
	"net/http"
)

func init() { RegisterOp(ProfileRead{}) }

// ProfileRead is GET /v1/profile.
type ProfileRead struct{}

var _ Op = ProfileRead{}

func (ProfileRead) Name() string       { return "profile.read" }
func (ProfileRead) NeedsSession() bool { return true }
func (ProfileRead) Do(ctx context.Context, x *Exec) Outcome {
	resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/profile"})
	return OutcomeOf(x, resp, err, "")
}
