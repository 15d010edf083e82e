package flow

import "time"

// The compiled form of a scenario's declared client and ops. Package scenarios decodes and validates
// the YAML and builds these; the load engine and `chaosbench try` (flow/run) run them.

// Built-in variables every template may read.
const (
	VarClientID       = "client.id"
	VarRunID          = "run.id"
	VarIdempotencyKey = "idempotency.key"
)

// Client is the validated client section: what each virtual client renders and runs once before its ops.
type Client struct {
	Vars    []Var // sorted by name
	Setup   []Step
	Session *Session
}

// Var is one client variable, rendered once per client (it may read only client.id, run.id and the
// template functions).
type Var struct {
	Name string
	Tmpl *Template
}

// Session says which variable holds the session token, which statuses mean it is unknown, and its
// promised lifetime (0: none declared).
type Session struct {
	Token    string
	Unknown  []int
	Lifetime time.Duration
}

// Op is one declared op.
type Op struct {
	Name string
	// IdempotencyHeader, when set, carries a key made once per logical op ({{idempotency.key}}).
	IdempotencyHeader string
	RestartOn         []int
	// Record is accepted and kept for the invariants that come next; nothing reads it yet.
	Record map[string]any
	Steps  []Step
}

// Step is one compiled request with its expectation and captures.
type Step struct {
	Name    string // as declared; may be empty
	Method  string
	Path    *Template
	Query   []Named // sorted by name
	Headers []Named // sorted by name
	// Body is a *JSONBody, *FormBody or *Template (raw); nil for none. BodyType is its Content-Type ("" for
	// a raw body: the headers say it).
	Body                     Renderer
	BodyType                 string
	BasicUser, BasicPassword *Template
	Expect                   *Expect
	Captures                 []*Capture // sorted by name
	Think                    time.Duration
}

// Named is a header or query parameter.
type Named struct {
	Name string
	Tmpl *Template
}
