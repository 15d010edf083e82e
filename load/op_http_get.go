package load

import (
	"context"
	"net/http"
)

// HTTPGet is a plain GET of a fixed path without a session: a baseline op
// and the benchmark's op. It is not registered: its name and path are
// configuration, given in a Go Mix.
type HTTPGet struct {
	OpName string
	Path   string
}

var _ Op = HTTPGet{}

func (g HTTPGet) Name() string { return g.OpName }
func (g HTTPGet) Do(ctx context.Context, x *Exec) Outcome {
	resp, err := x.Do(ctx, Request{Method: http.MethodGet, Path: g.Path, NoAuth: true})
	return OutcomeOf(x, resp, err, "")
}
