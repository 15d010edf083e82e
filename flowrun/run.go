// Package flowrun sends a scenario's declared requests (flow.Client, flow.Op) over HTTP and
// says what happened to each: its status and time, its captures and whether its expectation held. Try runs
// one virtual client once through the setup and every op, for `chaosbench try`; the load engine will run
// declared ops through the same steps.
package flowrun

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/chaosbench/chaosbench/internal/poll"
	"github.com/chaosbench/chaosbench/scenarios"
)

// MaxRestarts bounds restart_on: an op restarts from its first step at most this many times.
const MaxRestarts = 3

// maxBody is how much of a response is read: enough for any capture try is for.
const maxBody = 4 << 20

// Options say where Try sends its requests and how.
type Options struct {
	// Target is the base URL the steps' paths are appended to (http://127.0.0.1:8080).
	Target string
	// Client sends the requests; nil means one with Timeout.
	Client *http.Client
	// Timeout bounds one request when Client is nil (default 10s).
	Timeout time.Duration
	// Seed feeds the templates' randomness (uuid, random.*, pick) and the run id.
	Seed uint64
}

// Report is what Try did, request by request.
type Report struct {
	Target   string    `json:"target"`
	ClientID int       `json:"client_id"`
	RunID    string    `json:"run_id"`
	Seed     uint64    `json:"seed"`
	Requests []Request `json:"requests"`
	// NotRun lists what was not run and why ("counter.bump: setup failed at setup/login").
	NotRun []string `json:"not_run,omitempty"`
}

// Request is one request sent, or one that could not be made.
type Request struct {
	// Step is setup/NAME or OP/NAME, with the step's index when it has no name (ticket.create/steps[0]).
	Step string `json:"step"`
	// Attempt counts restarts of the op (restart_on): 0 for the first run through its steps.
	Attempt int    `json:"attempt,omitempty"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Status  int    `json:"status,omitempty"`
	// Took is the time from sending to the whole body read.
	Took time.Duration `json:"took_ns"`
	// Error is why the request could not be made or sent (a template that cannot render, a refused
	// connection); Unreachable says it was the network.
	Error       string    `json:"error,omitempty"`
	Unreachable bool      `json:"unreachable,omitempty"`
	Captures    []Capture `json:"captures,omitempty"`
	// Expect is "held", "failed" or "" (not checked: the request failed, or its status restarts the op).
	Expect   string `json:"expect,omitempty"`
	Mismatch string `json:"mismatch,omitempty"`
	// Restart is set when the status is one of the op's restart_on: the op starts again from its first step.
	Restart bool `json:"restart,omitempty"`

	body []byte // the answer, for an invariant's read to look into
}

// Capture is one capture of a request: its value, or why it matched nothing.
type Capture struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	// Source, Excerpt: for a capture that matched nothing, where it looked and the start of the body.
	Failed  bool   `json:"failed,omitempty"`
	Source  string `json:"source,omitempty"`
	Excerpt string `json:"excerpt,omitempty"`
}

// OK reports whether the request went through with every capture matched and its expectation held.
func (r Request) OK() bool {
	if r.Error != "" || r.Expect == "failed" {
		return false
	}
	for _, c := range r.Captures {
		if c.Failed {
			return false
		}
	}
	return true
}

// Unreachable reports whether some request could not reach the target.
func (r Report) Unreachable() bool {
	return slices.ContainsFunc(r.Requests, func(q Request) bool { return q.Unreachable })
}

// Failed reports whether some expectation failed, some capture matched nothing or something was not run.
func (r Report) Failed() bool {
	return len(r.NotRun) > 0 || slices.ContainsFunc(r.Requests, func(q Request) bool { return !q.OK() })
}

// Try runs one virtual client (client.id 1, a fresh run.id) through plan's setup once, then through each
// declared op once, in name order, then sends each invariant's read once (a set's first page, each counter
// the ops incremented). It stops an op at its first failed step, and runs no op when the setup failed. The error is for what is not the target's doing (a cancelled context).
func Try(ctx context.Context, plan scenarios.Plan, o Options) (Report, error) {
	if o.Client == nil {
		if o.Timeout <= 0 {
			o.Timeout = 10 * time.Second
		}
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	rnd := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	id := make([]byte, 4)
	for i := range id {
		id[i] = byte(rnd.Uint32())
	}
	c := &client{opts: o, base: strings.TrimRight(o.Target, "/"), vars: flow.Vars{}}
	c.env = flow.Env{Scope: c.vars, Rand: rnd}
	rep := Report{Target: o.Target, ClientID: 1, RunID: hex.EncodeToString(id), Seed: o.Seed}
	c.vars[flow.VarClientID] = flow.Int(1)
	c.vars[flow.VarRunID] = flow.String(rep.RunID)

	if cp := plan.Client; cp != nil {
		for _, v := range cp.Vars {
			s, err := v.Tmpl.Render(&c.env)
			if err != nil {
				rep.NotRun = append(rep.NotRun, fmt.Sprintf("everything: client.vars.%s: %v", v.Name, err))
				return rep, nil
			}
			c.vars[v.Name] = flow.String(s)
		}
		for i, s := range cp.Setup {
			q := c.do(ctx, stepName("setup", i, s), s, "", "")
			rep.Requests = append(rep.Requests, q)
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if !q.OK() {
				for _, op := range plan.Ops {
					rep.NotRun = append(rep.NotRun, fmt.Sprintf("%s: the setup failed at %s", op.Name, q.Step))
				}
				return rep, nil
			}
			if !poll.Sleep(ctx, s.Think) {
				return rep, ctx.Err()
			}
		}
	}
	keys := map[string][]string{} // counter -> the keys the ops incremented here
	for _, op := range plan.Ops {
		if err := c.op(ctx, op, &rep); err != nil {
			return rep, err
		}
		// A counter's key is the op's when the op got to its write (its last step), as the load records it.
		last := stepName(op.Name, len(op.Steps)-1, op.Steps[len(op.Steps)-1])
		wrote := slices.ContainsFunc(rep.Requests, func(q Request) bool { return q.Step == last })
		if r := op.Record; wrote && r != nil && r.Counter != "" {
			if k, err := r.Key.Render(&c.env); err == nil && !slices.Contains(keys[r.Counter], k) {
				keys[r.Counter] = append(keys[r.Counter], k)
			}
		}
	}
	for i := range rep.Requests {
		rep.Requests[i].body = nil
	}
	return rep, c.invariants(ctx, plan, keys, &rep)
}

func stepName(prefix string, i int, s flow.Step) string {
	if s.Name != "" {
		return prefix + "/" + s.Name
	}
	return fmt.Sprintf("%s/steps[%d]", prefix, i)
}

// client is one virtual client: its variables and its randomness.
type client struct {
	opts Options
	base string
	vars flow.Vars
	env  flow.Env
	req  flow.Rendered
}

var keyTemplate = flow.MustCompile("{{uuid}}")

// op runs one logical op, restarting it from its first step on a restart_on status (at most MaxRestarts
// times). The idempotency key is made once per run through the op's steps.
func (c *client) op(ctx context.Context, op flow.Op, rep *Report) error {
	for attempt := 0; attempt <= MaxRestarts; attempt++ {
		key := ""
		if op.Idempotent {
			key, _ = keyTemplate.Render(&c.env)
			c.vars[flow.VarIdempotencyKey] = flow.String(key)
		}
		restart := false
		for i, s := range op.Steps {
			q := c.do(ctx, stepName(op.Name, i, s), s, op.IdempotencyHeader, key)
			q.Attempt = attempt
			if q.Error == "" && slices.Contains(op.RestartOn, q.Status) {
				q.Restart, q.Expect, q.Mismatch = true, "", ""
				q.Captures = nil
				if attempt == MaxRestarts {
					q.Expect = "failed"
					q.Mismatch = fmt.Sprintf("status %d is in restart_on, and the op was restarted %d times already", q.Status, MaxRestarts)
				}
			}
			rep.Requests = append(rep.Requests, q)
			if err := ctx.Err(); err != nil {
				return err
			}
			if q.Restart && attempt < MaxRestarts {
				restart = true
				break
			}
			if !q.OK() {
				if rest := len(op.Steps) - i - 1; rest > 0 {
					rep.NotRun = append(rep.NotRun, fmt.Sprintf("%s: %d later step(s), after %s failed", op.Name, rest, q.Step))
				}
				return nil
			}
			if !poll.Sleep(ctx, s.Think) {
				return ctx.Err()
			}
		}
		if !restart {
			return nil
		}
	}
	return nil
}

// do renders and sends one step, checks its expectation and stores its captures in the client's variables.
func (c *client) do(ctx context.Context, name string, s flow.Step, idemHeader, key string) Request {
	c.env.Seq++
	q := Request{Step: name, Method: s.Method}
	req, err := c.build(ctx, s, idemHeader, key)
	if err != nil {
		q.Error = err.Error()
		return q
	}
	q.URL = req.URL.String()
	start := time.Now()
	resp, err := c.opts.Client.Do(req)
	if err != nil {
		q.Took = time.Since(start)
		q.Error, q.Unreachable = err.Error(), !errors.Is(ctx.Err(), context.Canceled)
		return q
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	q.Took = time.Since(start)
	q.Status = resp.StatusCode
	if err != nil {
		q.Error, q.Unreachable = "read the body: "+err.Error(), true
		return q
	}
	q.body = body
	r := &flow.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	for _, cp := range s.Captures {
		v, err := cp.Extract(r)
		var ce *flow.CaptureError
		if errors.As(err, &ce) {
			q.Captures = append(q.Captures, Capture{Name: cp.Name, Failed: true, Source: ce.Source, Excerpt: ce.Excerpt})
			continue
		}
		c.vars[cp.Name] = v
		q.Captures = append(q.Captures, Capture{Name: cp.Name, Value: v.Text()})
	}
	q.Expect = "held"
	if m := s.Expect.Check(r); m != nil {
		q.Expect, q.Mismatch = "failed", m.Error()
	}
	return q
}

// build renders a step into a request (flow.Step.Render, as the load engine does).
func (c *client) build(ctx context.Context, s flow.Step, idemHeader, key string) (*http.Request, error) {
	r := &c.req
	if err := s.Render(r, &c.env); err != nil {
		return nil, err
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(bytes.Clone(r.Body))
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, c.base+string(r.Path), body)
	if err != nil {
		return nil, err
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	for _, h := range r.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	if idemHeader != "" {
		req.Header.Set(idemHeader, key)
	}
	return req, nil
}
