package flowrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/chaosbench/chaosbench/flow"
)

// Send renders s with env, sends it to base with hc and reads the answer (up to the size try reads): one
// attempt, no retry, no expectation checked. It is how other packages send a declared step outside the
// load engine (the invariants' reads).
func Send(ctx context.Context, hc *http.Client, base string, s flow.Step, env *flow.Env) (*flow.Response, error) {
	c := &client{base: base, env: *env}
	req, err := c.build(ctx, s, "", "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRender, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read the body: %w", err)
	}
	return &flow.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// ErrRender is what Send's error wraps when the step cannot be rendered (a variable it reads is not
// there, add over a non-number): sending it again would fail the same way.
var ErrRender = errors.New("the request cannot be rendered")
