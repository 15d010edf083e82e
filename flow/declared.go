package flow

import "time"

// The compiled form of a scenario's declared client and ops. Package scenarios decodes and validates
// the YAML and builds these; the load engine and `chaosbench try` (package flowrun) run them.

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
// promised lifetime (0: none declared). Login are the indexes in Client.Setup of the steps that make a new
// session (the step that captures Token, unless the scenario names them): a client whose session is
// refused runs them again, during the load and when the invariants are read back.
type Session struct {
	Token    string
	Unknown  []int
	Lifetime time.Duration
	Login    []int
}

// Op is one declared op.
type Op struct {
	Name string
	// Idempotent: the op has a key made once per logical op ({{idempotency.key}}), re-sent on every
	// retry; IdempotencyHeader, when set, carries it.
	Idempotent        bool
	IdempotencyHeader string
	RestartOn         []int
	// Record says what the op's outcome adds to the ledger for the invariants; nil: nothing.
	Record *Record
	Steps  []Step
}

// Record is what one op's outcome adds to the ledger, for an invariant to read back.
type Record struct {
	// Set names the set invariant the op adds an element to: the op's idempotency key, made once per
	// logical op, so that an outcome the client never learnt is still looked for.
	Set string
	// Counter names the counter invariant the op increments by By; Key says which of its counters, rendered
	// when the op ends (from the client's variables and the captures of the steps before the last).
	Counter string
	Key     *Template
	By      int64
}

// Invariant is one declared correctness rule, read back through the API once the faults are reverted.
type Invariant struct {
	Name string
	// Set or Counter names the records it judges (Record.Set, Record.Counter); one of them is set.
	Set, Counter string
	// PerClient: the read runs once for every client, as that client (its variables, its session), and
	// the elements of all the reads are pooled; otherwise once, as the first client whose setup held.
	PerClient bool
	// Read is the request; a counter's may read {{counter.key}}, the page cursor goes in the query the invariant names.
	Read Step
	// Elements is where a set's read finds its elements (a JSON array, e.g. $.items[*].request_token).
	Elements Path
	// Value is where a counter's read finds the value.
	Value Path
	// Next, for a paginated set: where an answer says what comes next; the read stops when it is absent,
	// null or empty.
	Next *Next
	// Start is a counter's value before any increment.
	Start int64
}

// Next is how a set's read pages: Next.Path's value goes into the query parameter Query, or is the next
// page's path (or URL on the same host) when Link.
type Next struct {
	Path  Path
	Query string
	Link  bool
}

// VarKey is what a counter's read reads besides the client's variables: which counter (dotted, so that no
// client variable can take the name).
const VarKey = "counter.key"

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

// Accept reads a step's answer: r checked against the step's expectation and, when it holds, each
// capture extracted into vars, in order. The one reading of an answer for the load's declared steps and
// the invariants' logins (try reports each capture, so it reads them itself). A mismatch is returned as
// such; otherwise the first capture that failed, with vars holding the captures before it.
func (s *Step) Accept(r *Response, vars Vars) (mismatch *Mismatch, capture error) {
	if m := s.Expect.Check(r); m != nil {
		return m, nil
	}
	for i := range s.Captures {
		v, err := s.Captures[i].Extract(r)
		if err != nil {
			return nil, err
		}
		vars[s.Captures[i].Name] = v
	}
	return nil, nil
}
