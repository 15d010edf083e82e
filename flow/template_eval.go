package flow

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// RenderError is a run-time failure of a compiled template: a variable not in scope (validation should
// have caught it), an add on a value that is not an integer, a missing Rand.
type RenderError struct {
	Expr string // the expression, as {{...}}
	Col  int
	Err  error
}

func (e *RenderError) Error() string {
	return "{{" + e.Expr + "}} (col " + strconv.Itoa(e.Col) + "): " + e.Err.Error()
}

func (e *RenderError) Unwrap() error { return e.Err }

// ErrUndefined is what a RenderError wraps when a variable is not in scope.
var ErrUndefined = errors.New("variable not defined")

var (
	errNoRand = errors.New("flow.Env has no Rand")
	errNotInt = errors.New("not an integer")
)

// Render renders into a new string: for tests and tools. The hot path uses Append with a reused buffer.
func (t *Template) Render(env *Env) (string, error) {
	b, err := t.Append(nil, env)
	return string(b), err
}

// Append appends the rendered text to dst.
func (t *Template) Append(dst []byte, env *Env) ([]byte, error) {
	if env == nil {
		env = &Env{} // no variables, seq 0, no Rand: each expression then fails or renders as it should
	}
	var err error
	for i := range t.segs {
		s := &t.segs[i]
		if s.expr == nil {
			dst = append(dst, s.lit...)
			continue
		}
		if dst, err = s.expr.append(dst, env, false); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendJSONString appends the rendered text as one JSON string. It renders straight into dst and
// escapes afterwards only if something needs it, so the common case copies nothing twice.
func (t *Template) appendJSONString(dst []byte, env *Env) ([]byte, error) {
	dst = append(dst, '"')
	start := len(dst)
	dst, err := t.Append(dst, env)
	if err != nil {
		return dst, err
	}
	if needsEscape(dst[start:]) {
		env.scratch = append(env.scratch[:0], dst[start:]...)
		dst = appendEscaped(dst[:start], string(env.scratch)) // the conversion does not escape: no allocation
	}
	return append(dst, '"'), nil
}

// append renders e. In json mode the value keeps its type: an integer is a number, a captured JSON
// value is inserted raw, text is quoted.
func (e *expr) append(dst []byte, env *Env, json bool) ([]byte, error) {
	switch e.op {
	case opVar:
		v, ok := lookup(env, e.name)
		if !ok {
			return dst, e.undefined(e.name)
		}
		if json {
			return v.AppendJSON(dst), nil
		}
		return v.AppendText(dst), nil
	case opSeq:
		return strconv.AppendUint(dst, env.Seq, 10), nil
	case opAdd, opSub:
		a, err := e.operand(env, e.a)
		if err != nil {
			return dst, err
		}
		b, err := e.operand(env, e.b)
		if err != nil {
			return dst, err
		}
		if e.op == opSub {
			b = -b
		}
		return strconv.AppendInt(dst, a+b, 10), nil
	}
	if env.Rand == nil {
		return dst, e.fail(errNoRand)
	}
	if json && e.op != opRandInt {
		dst = append(dst, '"')
	}
	switch e.op {
	case opRandInt:
		// Int64N's bound must be positive; the full int64 range is the one case it is not.
		span := uint64(e.hi - e.lo + 1)
		n := e.lo
		if span == 0 {
			n = int64(env.Rand.Uint64())
		} else {
			n += int64(env.Rand.Uint64N(span))
		}
		return strconv.AppendInt(dst, n, 10), nil
	case opRandHex:
		for i := int64(0); i < e.lo; {
			x := env.Rand.Uint64()
			for k := 0; k < 16 && i < e.lo; k, i = k+1, i+1 {
				dst = append(dst, hexDigits[x&0xf])
				x >>= 4
			}
		}
	case opUUID:
		dst = appendUUID(dst, env.Rand)
	case opPick:
		w := e.words[env.Rand.IntN(len(e.words))]
		if json {
			dst = appendEscaped(dst, w)
		} else {
			dst = append(dst, w...)
		}
	}
	if json {
		dst = append(dst, '"')
	}
	return dst, nil
}

func (e *expr) operand(env *Env, o operand) (int64, error) {
	if o.name == "" {
		return o.n, nil
	}
	v, ok := lookup(env, o.name)
	if !ok {
		return 0, e.undefined(o.name)
	}
	n, ok := v.Int64()
	if !ok {
		return 0, e.fail(fmt.Errorf("%s is %q: %w", o.name, excerpt(v.Text(), 40), errNotInt))
	}
	return n, nil
}

func (e *expr) fail(err error) error {
	return &RenderError{Expr: e.src, Col: e.col, Err: err}
}

func (e *expr) undefined(name string) error {
	return e.fail(fmt.Errorf("%s: %w", name, ErrUndefined))
}

func lookup(env *Env, name string) (Value, bool) {
	if env == nil || env.Scope == nil {
		return Value{}, false
	}
	return env.Scope.Lookup(name)
}

// appendUUID appends a version 4 UUID drawn from r (RFC 9562 section 5.4).
func appendUUID(dst []byte, r *rand.Rand) []byte {
	var u [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (8 * i))
		u[8+i] = byte(lo >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return dst
}
