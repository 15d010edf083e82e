package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/chaosbench/chaosbench/internal/poll"
)

// API error codes the engine reacts to.
const (
	CodeInFlight        = "idempotency_in_flight"
	CodeSessionNotFound = "session_not_found"
	CodeTokenExpired    = "token_expired"
	CodeUsernameTaken   = "username_taken"
)

// Error classes in records and outcomes.
const (
	ClassOK        = "ok"
	Class4xx       = "http_4xx"
	Class5xx       = "http_5xx"
	ClassTimeout   = "timeout"
	ClassConnect   = "connect"
	ClassTransport = "transport" // reset, EOF, bad response
	ClassCanceled  = "canceled"  // the run ended (grace expired) or its context was cancelled
	ClassSetup     = "setup"     // the op could not even build its request
)

// maxBody bounds what is read of a response: the contract's bodies are small
// and a misbehaving target must not balloon memory.
const maxBody = 1 << 20

// Request is one logical HTTP call of an op.
type Request struct {
	Method string
	Path   string // appended to the base URL
	Body   []byte // sent as ContentType when non-nil
	// ContentType is the body's Content-Type; "" means application/json (the built-in ops' bodies).
	ContentType string
	// IdempotencyKey is sent on every attempt of the call, as IdempotencyHeader ("" means
	// Idempotency-Key, the contract's).
	IdempotencyKey    string
	IdempotencyHeader string
	IfMatch           string
	// Headers are the extra headers of a declared step, sent on every attempt as they are.
	Headers []Header
	// NoAuth skips the client's token or cookie.
	NoAuth bool
	// Retry, when set, is this call's retry policy instead of the run's (Config.Retry): a declared op's
	// own. Its budget counts from the request's dispatch, as the run's does.
	Retry *RetryPolicy
}

// Header is one header of a Request.
type Header struct{ Name, Value string }

// contentType is r's body type.
func (r *Request) contentType() string {
	if r.ContentType == "" {
		return "application/json"
	}
	return r.ContentType
}

// idempotencyHeader is the header r's idempotency key goes in.
func (r *Request) idempotencyHeader() string {
	if r.IdempotencyHeader == "" {
		return "Idempotency-Key"
	}
	return r.IdempotencyHeader
}

// Response is the final answer of a logical call after retries.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Code is the API error code of a JSON error body ("" on success).
	Code string
	// Uncertain counts attempts whose effect on the server is unknown
	// (timeout, reset, 5xx): the ledger needs it to bound what may have
	// been applied. Connect errors never reached the server and are certain.
	Uncertain int
	// Replayed is true when the server said Idempotent-Replayed: true.
	Replayed bool
}

// Exec runs the HTTP calls of one request of the mix. It is not safe for
// concurrent use: each request gets its own.
type Exec struct {
	e        *engine
	w        *worker // the worker running it: its wire connection
	client   *Client
	seq      uint64
	planned  time.Duration
	rnd      *rand.Rand
	deadline time.Time

	attempts  int
	calls     int   // logical calls (Do), so that retries = attempts - calls
	reqBytes  int64 // written by every attempt: Record.ReqBytes
	service   time.Duration
	node      string
	session   string
	lastClass string
	st        stamps // the first write and, when traced, the last answer's first byte (trace.go)
}

// Client is the virtual client of this request (nil when Config.Clients is 0).
func (x *Exec) Client() *Client { return x.client }

// Seq is the request's sequence number in the run.
func (x *Exec) Seq() uint64 { return x.seq }

// Planned is the request's planned send time on the run's clock (since
// Result.Start): what its latency is measured from.
func (x *Exec) Planned() time.Duration { return x.planned }

// Attempts counts the HTTP attempts made so far, by every call of the
// request (retries and re-login repeats included): what a ledger entry
// reports as the request's attempts.
func (x *Exec) Attempts() int { return x.attempts }

// Rand is a per-request generator derived from the run seed.
func (x *Exec) Rand() *rand.Rand { return x.rnd }

// Ledger is where write outcomes go.
func (x *Exec) Ledger() *Ledger { return x.e.ledger }

// Resources is Config.Resources.
func (x *Exec) Resources() int { return x.e.cfg.Resources }

// Key returns an idempotency key unique to this logical request and run:
// seeded randomness would repeat keys across runs on the same Redis.
func (x *Exec) Key() string {
	return x.e.runID + "-" + strconv.FormatUint(x.seq, 10)
}

// Do performs one logical call with the run's retry policy, or r.Retry when set. It returns the
// last response, or the last transport error when no attempt got an answer.
func (x *Exec) Do(ctx context.Context, r Request) (*Response, error) {
	x.calls++
	pol := &x.e.cfg.Retry
	deadline := x.deadline // the dispatch plus the run's budget
	if r.Retry != nil {
		pol = r.Retry
		deadline = deadline.Add(pol.Budget - x.e.cfg.Retry.Budget)
	}
	maxAttempts := pol.Attempts
	renewed := false
	uncertain := 0
	var lastErr error
	var last *Response
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 && !time.Now().Before(deadline) {
			break
		}
		gen, err := x.prepareSession(ctx)
		if err != nil {
			x.lastClass = ClassSetup // no session to send with: the op's class, not an earlier attempt's (or none)
			return &Response{Uncertain: uncertain}, fmt.Errorf("renew session: %w", err)
		}
		resp, class, err := x.attemptUntil(ctx, r, deadline)
		x.lastClass = class
		if err != nil {
			lastErr = err
			if class != ClassConnect {
				uncertain++
			}
			if class == ClassCanceled || ctx.Err() != nil || !pol.retryError(class) {
				break
			}
		} else {
			lastErr = nil
			last = resp
			if resp.Status >= 500 {
				uncertain++
			}
			if resp.Status == http.StatusUnauthorized && x.client != nil && !r.NoAuth && !renewed &&
				(resp.Code == CodeSessionNotFound || resp.Code == CodeTokenExpired) {
				// The session the client holds was refused: record it (a
				// lost session if we believed it alive), log in again and
				// repeat the call once; the user waited for all of it.
				renewed = true
				maxAttempts++
				if err := x.client.renew(ctx, x.e, gen, resp.Code); err != nil {
					last.Uncertain = uncertain
					return last, nil // the 401 stands as the answer
				}
				continue
			}
			if !pol.retryStatus(resp.Status, resp.Code) {
				last.Uncertain = uncertain
				return last, nil
			}
		}
		if attempt == maxAttempts {
			break
		}
		var ra time.Duration
		if last != nil && err == nil {
			ra = retryAfter(last.Header)
		}
		d := pol.backoff(attempt, x.rnd, ra)
		if time.Now().Add(d).After(deadline) {
			break // the next attempt could not finish within the budget
		}
		if !poll.Sleep(ctx, d) {
			break
		}
	}
	if lastErr != nil {
		// No answer: the caller still needs Uncertain for its ledger entry.
		return &Response{Uncertain: uncertain}, lastErr
	}
	if last != nil {
		last.Uncertain = uncertain
	}
	return last, nil
}

// prepareSession renews a session that the client knows has expired, and
// returns the session generation the attempt will use.
func (x *Exec) prepareSession(ctx context.Context) (uint64, error) {
	if x.client == nil {
		return 0, nil
	}
	gen, expired := x.client.state()
	// A declared client (Config.Client) has no built-in login to renew by: its session is renewed by its
	// own login steps when refused (sessionRefused), and its lifetime only says whether a refusal is a lost
	// session.
	if expired && x.e.cfg.Client == nil {
		if err := x.client.renew(ctx, x.e, gen, "expired"); err != nil {
			return gen, err
		}
		gen, _ = x.client.state()
	}
	return gen, nil
}

func (x *Exec) attempt(ctx context.Context, r Request) (*Response, string, error) {
	return x.attemptUntil(ctx, r, x.deadline)
}

// attemptUntil is one attempt of r, cut short at the call's deadline.
func (x *Exec) attemptUntil(ctx context.Context, r Request, deadline time.Time) (*Response, string, error) {
	remaining := time.Until(deadline)
	to := x.e.cfg.Timeout
	if remaining < to {
		to = remaining
	}
	if to <= 0 {
		return nil, ClassTimeout, errors.New("retry budget exhausted before the attempt")
	}
	if x.w != nil && x.w.wire != nil {
		return x.attemptWire(ctx, r, to)
	}
	actx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(actx, r.Method, x.e.base+r.Path, body)
	if err != nil {
		return nil, ClassSetup, fmt.Errorf("build %s %s: %w", r.Method, r.Path, err)
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", r.contentType())
		// net/http silently re-sends a request carrying an Idempotency-Key
		// when a reused connection drops; without GetBody it cannot, so
		// every attempt that reaches the server is one we count.
		req.GetBody = nil
	}
	if r.IdempotencyKey != "" {
		req.Header.Set(r.idempotencyHeader(), r.IdempotencyKey)
	}
	if r.IfMatch != "" {
		req.Header.Set("If-Match", r.IfMatch)
	}
	for _, h := range r.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	if x.client != nil && !r.NoAuth {
		x.session = x.client.authorize(req)
	}
	x.attempts++
	x.reqBytes += requestBytes(req, len(r.Body))
	var hs *httpStamps
	if x.st.traced {
		hs = &httpStamps{}
		req = hs.attach(req)
	}
	t0 := time.Now()
	resp, err := x.e.http.Do(req)
	if hs != nil {
		defer hs.into(&x.st) // once the body is read: the trace's callbacks are done
	}
	if err != nil {
		x.service = time.Since(t0)
		return nil, classifyErr(ctx, actx, err), fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	x.service = time.Since(t0)
	if n := resp.Header.Get("X-Node-Id"); n != "" {
		x.node = n
	}
	if err != nil {
		return nil, classifyErr(ctx, actx, err), fmt.Errorf("read %s %s body: %w", r.Method, r.Path, err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b,
		Replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	if resp.StatusCode >= 400 {
		out.Code = errorCode(b)
	}
	return out, classOfStatus(resp.StatusCode), nil
}

// attemptWire is attempt on the worker's own connection (wire.go).
func (x *Exec) attemptWire(ctx context.Context, r Request, to time.Duration) (*Response, string, error) {
	w := x.w.wire
	if r.Method == "" || !validWire(r.Method, true) || !validWire(r.Path, true) ||
		!validWire(r.IdempotencyKey, false) || !validWire(r.IfMatch, false) || !validWire(r.ContentType, false) ||
		!validHeaders(r.Headers) {
		return nil, ClassSetup, fmt.Errorf("build %s %s: invalid method, path or header value", r.Method, r.Path)
	}
	w.appendHead(r.Method, r.Path, r.contentType(), r.Body)
	if r.IdempotencyKey != "" {
		w.header(r.idempotencyHeader(), r.IdempotencyKey)
	}
	if r.IfMatch != "" {
		w.header("If-Match", r.IfMatch)
	}
	for _, h := range r.Headers {
		w.header(h.Name, h.Value)
	}
	if x.client != nil && !r.NoAuth {
		var ok bool
		if x.session, ok = x.client.authorizeWire(w); !ok {
			return nil, ClassSetup, fmt.Errorf("build %s %s: invalid token or cookie from the login answer", r.Method, r.Path)
		}
	}
	w.endHead(r.Body)
	x.attempts++
	x.reqBytes += int64(len(w.req))
	t0 := time.Now()
	a, err := w.roundTrip(ctx, t0.Add(to), r.Method, r.Body != nil, &x.st)
	x.service = time.Since(t0)
	if n := a.header.Get("X-Node-Id"); n != "" {
		x.node = n
	}
	if err != nil {
		return nil, classifyWireErr(ctx, err), fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	out := &Response{Status: a.status, Header: a.header, Body: a.body,
		Replayed: a.header.Get("Idempotent-Replayed") == "true"}
	if a.status >= 400 {
		out.Code = errorCode(a.body)
	}
	return out, classOfStatus(a.status), nil
}

// requestBytes estimates what net/http writes for req: request line, Host,
// the headers set here and the body. The transport's own headers
// (User-Agent, Accept-Encoding, Content-Length) are not counted, a few dozen
// bytes; the wire client counts its bytes exactly.
func requestBytes(req *http.Request, body int) int64 {
	n := len(req.Method) + 1 + len(req.URL.RequestURI()) + len(" HTTP/1.1\r\n") + len("Host: \r\n") + len(req.URL.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return int64(n + len("\r\n") + body)
}

// classifyWireErr is classifyErr for the wire client, whose attempt timeout
// is a connection deadline: a timeout, dial included, is ClassTimeout as it
// was with the attempt's context.
func classifyWireErr(runCtx context.Context, err error) string {
	if runCtx.Err() != nil || errors.Is(err, errWireCanceled) {
		return ClassCanceled
	}
	return classifyNetErr(err)
}

// classifyNetErr names a transport error: a timeout, a dial that failed
// (nothing listens: certainly not applied), or anything else.
func classifyNetErr(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return ClassConnect
	}
	return ClassTransport
}

func errorCode(b []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.Code
}

func classOfStatus(s int) string {
	switch {
	case s >= 500:
		return Class5xx
	case s >= 400:
		return Class4xx
	default:
		return ClassOK
	}
}

// classifyErr separates "the run is over" from "the attempt timed out" from
// "nothing listens there" (certainly not applied) from everything else.
func classifyErr(runCtx, attemptCtx context.Context, err error) string {
	if runCtx.Err() != nil {
		return ClassCanceled
	}
	if errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return ClassTimeout
	}
	return classifyNetErr(err)
}
