// Package flow is the vocabulary of a declared request: templates, typed JSON and form bodies,
// captures and expectations, each compiled once when a scenario is validated and then applied per
// request with no parsing, no reflection and few allocations. It knows nothing of the load engine, the
// scenario file or HTTP clients: it renders bytes and reads a Response.
//
// # Templates
//
// A template is text with expressions in {{ }}; Compile splits it into literal and expression
// segments. Inside the braces, words are separated by spaces:
//
//	name, client.id, run.id   a variable (letters, digits, _ and -, parts joined by dots), from Env.Scope
//	seq                       Env.Seq, the caller's sequence number
//	uuid                      a version 4 UUID from Env.Rand
//	random.int MIN MAX        an integer in [MIN, MAX]; both integer literals
//	random.hex N              N hex digits (1..4096)
//	pick a b c                one of the words, uniformly
//	add X Y, sub X Y          integer arithmetic; each operand a variable or an integer literal
//
// Every "{{" opens an expression (there is no escape: an unclosed one is an error, so "{{token}" is
// caught rather than sent). Unknown functions, wrong arity and non-integer literals are compile errors
// (*Error with the column); Template.Vars lists what a template reads, for the scenario layer to check
// each is declared or captured by an earlier step. Randomness comes only from Env.Rand, a seeded source
// per client, so a run can be replayed from its seed.
//
// # Values
//
// A Value is text, an integer or raw JSON. Captures keep a JSON string as text and anything else (a
// number above all) as raw JSON, so that in a JSON body "{{n}}" stays a number and "{{add n 1}}" is
// one: a JSON string value that is exactly one expression keeps its value's type; any other string is
// rendered and quoted (see CompileJSON).
//
// # Captures and expectations
//
// JSON paths are a JSONPath subset ($.a.b, $.items[0].id, $.items[*].id, $['any key']) translated to
// gjson paths at compile time (CompilePath says what is refused and why); at run time each is one
// gjson lookup on the raw body bytes. A capture that matches nothing is a *CaptureError naming the
// capture, the path and the start of the body. Expect checks the status (default: any 2xx) and
// JSON-path equalities compared as JSON values (1 == 1.0, "1" != 1), and returns a *Mismatch naming
// the rule that failed.
//
// # Who uses it
//
// The scenario layer (package scenarios) decodes ops, client setup and invariants from YAML, compiles
// every string with this package into a Client and Ops (declared.go) and turns an *Error's Field and Col
// into file:line:col. The load
// layer (package load) runs a declared op: per step it renders the path, headers and body into reused
// buffers with one Env per virtual client, sends it, checks the Expect, and stores captures in the
// client's Scope; a CaptureError becomes a failed request of kind capture_failed. Invariants read back
// through the API with the same templates and paths.
package flow
