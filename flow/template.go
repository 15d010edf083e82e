package flow

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scope is where a template's variables come from: the client's declared variables and captures,
// client.id, run.id. The caller implements it over whatever it keeps (a map, a slice indexed by a
// compiled slot); Lookup must not allocate on the hot path.
type Scope interface {
	Lookup(name string) (Value, bool)
}

// Env is what one render reads besides the template: the variables, the randomness and the sequence
// number. Keep one per virtual client and reuse it (it holds a scratch buffer that quoting reuses); it
// is not safe for concurrent use, nor is its *rand.Rand.
type Env struct {
	// Scope answers variables; nil means none are defined.
	Scope Scope
	// Rand feeds uuid, random.int, random.hex and pick. It is explicit (a seeded source per client),
	// never the global one, so that a run's requests can be replayed from its seed.
	Rand *rand.Rand
	// Seq is what {{seq}} renders: the caller's per-request (or per-op) sequence number.
	Seq uint64

	scratch []byte
}

// Renderer renders a request's part (a path, a header, a body) by appending to dst. Template,
// *JSONBody and *FormBody are Renderers.
type Renderer interface {
	Append(dst []byte, env *Env) ([]byte, error)
	// Vars lists the variables it reads, each once, in the order they first appear.
	Vars() []string
}

var (
	_ Renderer = (*Template)(nil)
	_ Renderer = (*JSONBody)(nil)
	_ Renderer = (*FormBody)(nil)
)

// Template is a string with {{...}} expressions, parsed once by Compile into literal and expression
// segments. Rendering walks the segments: no parsing, no reflection, no allocation beyond dst's growth
// (except uuid/hex which write into dst directly too).
type Template struct {
	src  string
	segs []segment
	vars []string
}

// segment is a literal (expr == nil) or one expression.
type segment struct {
	lit  string
	expr *expr
}

type opcode uint8

const (
	opVar opcode = iota
	opSeq
	opUUID
	opRandInt
	opRandHex
	opPick
	opAdd
	opSub
)

// operand is an argument of add and sub: a variable or an integer literal.
type operand struct {
	name string // variable; empty for a literal
	n    int64
}

type expr struct {
	op    opcode
	col   int    // column of the expression's "{{" (1-based, runes), for run-time errors
	src   string // the expression as written, for run-time errors
	name  string // opVar
	a, b  operand
	lo    int64 // opRandInt: inclusive bounds; opRandHex: lo is the digit count
	hi    int64
	words []string // opPick
}

// maxHex bounds random.hex: a token, not a payload generator.
const maxHex = 4096

// Compile parses src once. An error is an *Error whose Col is the column of the bad expression or
// token within src.
//
// There is no escape for a literal "{{": every "{{" opens an expression, and one left unclosed is an
// error rather than text, because a typo such as "{{token}" would otherwise be sent as is.
func Compile(src string) (*Template, error) {
	t := &Template{src: src}
	rest, off := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.segs = append(t.segs, segment{lit: rest})
			}
			break
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: rest[:i]})
		}
		open := off + i
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, errorf(col(src, open), "%q is not closed by }}", "{{")
		}
		body := rest[i+2 : i+2+j]
		e, err := parseExpr(src, open+2, body)
		if err != nil {
			return nil, err
		}
		e.col = col(src, open)
		t.segs = append(t.segs, segment{expr: e})
		t.addVars(e)
		off = open + 2 + j + 2
		rest = src[off:]
	}
	return t, nil
}

// MustCompile is Compile for sources known good (tests, built-in examples); it panics on an error.
func MustCompile(src string) *Template {
	t, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *Template) addVars(e *expr) {
	for _, n := range []string{e.name, e.a.name, e.b.name} {
		if n != "" && !contains(t.vars, n) {
			t.vars = append(t.vars, n)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// col is the 1-based rune column of byte offset off in s.
func col(s string, off int) int { return utf8.RuneCountInString(s[:off]) + 1 }

// String is the source the template was compiled from.
func (t *Template) String() string { return t.src }

// Vars lists the variables the template reads, each once, in order of first appearance, so that
// validation can check each is declared or captured by an earlier step.
func (t *Template) Vars() []string { return t.vars }

// IsConst reports whether the template has no expression: its text is String().
func (t *Template) IsConst() bool {
	return len(t.segs) == 0 || (len(t.segs) == 1 && t.segs[0].expr == nil)
}

// single is the template's only segment when it is exactly one expression ("{{add n 1}}"): a JSON body
// keeps that value's type.
func (t *Template) single() *expr {
	if len(t.segs) == 1 {
		return t.segs[0].expr
	}
	return nil
}

// token is one word of an expression and its byte offset in the whole source.
type token struct {
	s   string
	off int
}

func parseExpr(src string, off int, body string) (*expr, error) {
	var toks []token
	for i := 0; i < len(body); {
		if body[i] == ' ' || body[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(body) && body[j] != ' ' && body[j] != '\t' {
			j++
		}
		toks = append(toks, token{body[i:j], off + i})
		i = j
	}
	exprCol := col(src, off-2)
	if len(toks) == 0 {
		return nil, errorf(exprCol, "empty expression {{}}")
	}
	e := &expr{src: strings.TrimSpace(body)}
	head, args := toks[0], toks[1:]
	at := func(t token) int { return col(src, t.off) }
	arity := func(want string, ok bool) error {
		if ok {
			return nil
		}
		return errorf(exprCol, "%s takes %s, got %d in {{%s}}", head.s, want, len(args), e.src)
	}
	intArg := func(t token) (int64, error) {
		n, err := strconv.ParseInt(t.s, 10, 64)
		if err != nil {
			return 0, errorf(at(t), "%s: %q is not an integer", head.s, t.s)
		}
		return n, nil
	}
	switch head.s {
	case "seq", "uuid":
		if err := arity("no arguments", len(args) == 0); err != nil {
			return nil, err
		}
		e.op = opSeq
		if head.s == "uuid" {
			e.op = opUUID
		}
	case "random.int":
		if err := arity("2 integers (random.int MIN MAX)", len(args) == 2); err != nil {
			return nil, err
		}
		lo, err := intArg(args[0])
		if err != nil {
			return nil, err
		}
		hi, err := intArg(args[1])
		if err != nil {
			return nil, err
		}
		if lo > hi {
			return nil, errorf(at(args[0]), "random.int: MIN %d is above MAX %d", lo, hi)
		}
		e.op, e.lo, e.hi = opRandInt, lo, hi
	case "random.hex":
		if err := arity("1 integer (random.hex DIGITS)", len(args) == 1); err != nil {
			return nil, err
		}
		n, err := intArg(args[0])
		if err != nil {
			return nil, err
		}
		if n < 1 || n > maxHex {
			return nil, errorf(at(args[0]), "random.hex: %d digits is outside 1..%d", n, maxHex)
		}
		e.op, e.lo = opRandHex, n
	case "pick":
		if err := arity("1 or more words (pick a b c)", len(args) >= 1); err != nil {
			return nil, err
		}
		e.op = opPick
		for _, a := range args {
			e.words = append(e.words, a.s)
		}
	case "add", "sub":
		if err := arity("2 operands, each a variable or an integer ("+head.s+" n 1)", len(args) == 2); err != nil {
			return nil, err
		}
		e.op = opAdd
		if head.s == "sub" {
			e.op = opSub
		}
		for i, a := range args {
			o, err := parseOperand(head.s, a, at(a))
			if err != nil {
				return nil, err
			}
			if i == 0 {
				e.a = o
			} else {
				e.b = o
			}
		}
	default:
		if strings.HasPrefix(head.s, "random.") {
			return nil, errorf(at(head), "unknown function %q (random.int, random.hex)", head.s)
		}
		if len(args) > 0 {
			return nil, errorf(at(head), "unknown function %q (seq, uuid, random.int, random.hex, pick, add, sub)", head.s)
		}
		if !isVarName(head.s) {
			return nil, errorf(at(head), "%q is not a variable name (letters, digits, _ and -, parts joined by dots)", head.s)
		}
		e.op, e.name = opVar, head.s
	}
	return e, nil
}

func parseOperand(fn string, t token, c int) (operand, error) {
	if n, err := strconv.ParseInt(t.s, 10, 64); err == nil {
		return operand{n: n}, nil
	}
	if isVarName(t.s) && !isReserved(t.s) {
		return operand{name: t.s}, nil
	}
	return operand{}, errorf(c, "%s: %q is neither an integer nor a variable", fn, t.s)
}

func isReserved(s string) bool {
	switch s {
	case "seq", "uuid", "pick", "add", "sub":
		return true
	}
	return strings.HasPrefix(s, "random.")
}

// isVarName accepts name, client.id, my_var, order-id: parts of letters, digits, _ and - that start
// with a letter or _, joined by single dots.
func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if i == 0 && !letter {
				return false
			}
			if !letter && !(r >= '0' && r <= '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// excerpt is s cut to at most n bytes (on a rune boundary), marked with … when cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
