// Package conform checks a running service against chaosbench's HTTP contract (docs/contract.md): one
// rule per behaviour the load, the retries and the checkers rely on, each with the specification it comes
// from. A rule passes, fails, or is skipped when the suite cannot exercise it (a JWT rule on a service whose
// tokens are opaque, a state-store outage it cannot cause); only a failed required rule fails the suite.
//
// Rules are registered by name, one file per area (auth, jwt, refresh, idempotency, etag, errors); Run executes them
// in registration order against one base URL, sequentially, so that a run is repeatable and gentle: a few
// hundred requests in all.
package conform

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Status is a rule's outcome.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Rule is one checked behaviour.
type Rule struct {
	ID string // e.g. "idempotency.replay"
	// Spec names where the behaviour comes from (an RFC section, the idempotency-key draft, the contract).
	Spec string
	// Required rules fail the suite; the others are reported as advice.
	Required bool
	// NeedsLogin: the rule acts as the suite's logged-in user (skipped when setup could not log in).
	NeedsLogin bool
	// Check exercises the rule. It returns the outcome and a sentence that says what was seen.
	Check func(ctx context.Context, s *Suite) (Status, string)
}

var rules []Rule

// Register adds a rule; rule files call it from init. IDs are unique.
func Register(r Rule) {
	for _, have := range rules {
		if have.ID == r.ID {
			panic("conform: rule registered twice: " + r.ID)
		}
	}
	rules = append(rules, r)
}

// areas is the order rules run and are reported in, by the part of their ID before the dot. A new area
// runs after these; "store" runs last of all, because its rules take the state store down, which may cost
// the suite its user.
var areas = []string{"auth", "jwt", "refresh", "idempotency", "etag", "errors", "limits"}

func areaRank(id string) int {
	a, _, _ := strings.Cut(id, ".")
	if i := slices.Index(areas, a); i >= 0 {
		return i
	}
	if a == "store" {
		return len(areas) + 1
	}
	return len(areas)
}

// Rules returns the registered rules in run order: by area, then as registered.
func Rules() []Rule {
	out := append([]Rule(nil), rules...)
	slices.SortStableFunc(out, func(a, b Rule) int { return areaRank(a.ID) - areaRank(b.ID) })
	return out
}

// Result is one rule's outcome.
type Result struct {
	Rule     string  `json:"rule"`
	Spec     string  `json:"spec"`
	Required bool    `json:"required"`
	Status   Status  `json:"status"`
	Detail   string  `json:"detail"`
	Seconds  float64 `json:"seconds"`
}

// Report is a whole run of the suite.
type Report struct {
	URL     string   `json:"url"`
	Results []Result `json:"results"`
}

// Failed counts the required rules that failed: the suite passes when it is 0.
func (r Report) Failed() int {
	n := 0
	for _, x := range r.Results {
		if x.Required && x.Status == Failed {
			n++
		}
	}
	return n
}

// Count returns how many results have status st.
func (r Report) Count(st Status) int {
	n := 0
	for _, x := range r.Results {
		if x.Status == st {
			n++
		}
	}
	return n
}

// Option configures a run.
type Option func(*Suite)

// WithJWTSecret gives the suite the service's HS256 secret, so that it can sign tokens of its own
// (expired, wrong issuer or audience) and check that they are refused. Without it those rules are skipped.
func WithJWTSecret(secret string) Option { return func(s *Suite) { s.jwtSecret = secret } }

// WithStoreOutage lets the suite take the service's state store down (and back up with the returned
// restore), so that it can check the 503 with Retry-After. Without it that rule is skipped.
func WithStoreOutage(outage func(ctx context.Context) (restore func(context.Context) error, err error)) Option {
	return func(s *Suite) { s.outage = outage }
}

// WithHTTPClient replaces the suite's HTTP client (default: 10 s timeout per request).
func WithHTTPClient(c *http.Client) Option { return func(s *Suite) { s.http = c } }

// WithRules limits the run to the rules whose ID starts with one of prefixes (e.g. "idempotency.").
func WithRules(prefixes ...string) Option { return func(s *Suite) { s.only = prefixes } }

// Suite is one run's state: the service's URL and the user the rules act as.
type Suite struct {
	base      string
	http      *http.Client
	jwtSecret string
	outage    func(ctx context.Context) (func(context.Context) error, error)
	only      []string

	// Set by setup: the credential header of a logged-in user, or why there is none.
	User      string
	Password  string
	Auth      http.Header
	Token     string // the bearer token, when the service gives one
	loginFail string
}

// Run executes the registered rules against base (e.g. http://127.0.0.1:8080) and returns their results.
// It fails only when the service cannot be reached at all.
func Run(ctx context.Context, base string, opts ...Option) (Report, error) {
	s := &Suite{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(s)
	}
	if _, err := s.Do(ctx, Req{Method: http.MethodGet, Path: "/readyz", NoAuth: true}); err != nil {
		return Report{}, fmt.Errorf("reach %s: %w", base, err)
	}
	s.setup(ctx)
	rep := Report{URL: base}
	for _, r := range Rules() {
		if !s.selected(r.ID) {
			continue
		}
		start := time.Now()
		st, detail := Skipped, ""
		switch {
		case ctx.Err() != nil:
			detail = "interrupted"
		case r.NeedsLogin && s.Auth == nil:
			detail = "no logged-in user: " + s.loginFail
		default:
			st, detail = r.Check(ctx, s)
		}
		rep.Results = append(rep.Results, Result{Rule: r.ID, Spec: r.Spec, Required: r.Required, Status: st,
			Detail: detail, Seconds: time.Since(start).Seconds()})
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

func (s *Suite) selected(id string) bool {
	if len(s.only) == 0 {
		return true
	}
	for _, p := range s.only {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// setup signs up and logs in the user the rules act as.
func (s *Suite) setup(ctx context.Context) {
	s.User, s.Password = "conform-"+Nonce(), "conform-password-1"
	creds := fmt.Sprintf(`{"username":%q,"password":%q}`, s.User, s.Password)
	if r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/users", Body: creds, NoAuth: true}); err != nil || r.Status != http.StatusCreated {
		s.loginFail = "signup: " + describe(r, err)
		return
	}
	r, err := s.Do(ctx, Req{Method: http.MethodPost, Path: "/v1/login", Body: creds, NoAuth: true})
	if err != nil || r.Status != http.StatusOK {
		s.loginFail = "login: " + describe(r, err)
		return
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(r.Body, &out)
	switch {
	case out.AccessToken != "":
		s.Token = out.AccessToken
		s.Auth = http.Header{"Authorization": {"Bearer " + out.AccessToken}}
	case r.Cookie("sid") != "":
		s.Auth = http.Header{"Cookie": {"sid=" + r.Cookie("sid")}}
	default:
		s.loginFail = "login answered neither access_token nor a sid cookie"
	}
}

// Req is one request of a rule.
type Req struct {
	Method, Path string
	Body         string            // JSON; Content-Type is set when not empty
	Header       map[string]string // extra headers
	NoAuth       bool              // send without the suite user's credential
	RawBody      []byte            // sent as is instead of Body (for size limits)
}

// Resp is an answer, read whole.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Code is the contract's error code of the answer ("" when the body has none).
func (r *Resp) Code() string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Code
}

// Cookie returns the value of a cookie the answer sets.
func (r *Resp) Cookie(name string) string {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Do sends one request and reads its answer.
func (s *Suite) Do(ctx context.Context, q Req) (*Resp, error) {
	var body io.Reader
	switch {
	case q.RawBody != nil:
		body = bytes.NewReader(q.RawBody)
	case q.Body != "":
		body = strings.NewReader(q.Body)
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, s.base+q.Path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !q.NoAuth {
		for k, v := range s.Auth {
			req.Header[k] = v
		}
	}
	for k, v := range q.Header {
		req.Header.Set(k, v)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s %s: %w", q.Method, q.Path, err)
	}
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// Nonce is a fresh random name part, so that reruns against one service never collide.
func Nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// describe says what an answer was, for a rule's detail.
func describe(r *Resp, err error) string {
	if err != nil {
		return "no answer: " + err.Error()
	}
	if c := r.Code(); c != "" {
		return fmt.Sprintf("%d %s", r.Status, c)
	}
	b := strings.Join(strings.Fields(string(r.Body)), " ")
	if len(b) > 80 {
		b = b[:80] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, b)
}

// expect is the common shape of a rule step: the answer must have status want (and code, when not "").
func expect(r *Resp, err error, want int, code string) (bool, string) {
	if err != nil || r.Status != want || (code != "" && r.Code() != code) {
		w := fmt.Sprint(want)
		if code != "" {
			w += " " + code
		}
		return false, "want " + w + ", got " + describe(r, err)
	}
	return true, ""
}
