package flow

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a Value holds.
type Kind uint8

const (
	// KindString is text: rendered as is in a path or header, JSON-quoted in a body.
	KindString Kind = iota
	// KindInt is an integer: what add, sub, seq and random.int produce.
	KindInt
	// KindJSON is a raw JSON value other than a string (a number, true, false, null, an object or an
	// array), as a capture found it in a response: inserted into a JSON body as is, so a captured
	// number stays a number.
	KindJSON
)

// Value is one variable's value. The zero Value is the empty string.
//
// It is a small struct, not an interface, so a scope can hand one back without allocating.
type Value struct {
	kind Kind
	s    string // KindString: the text; KindJSON: the raw JSON
	n    int64  // KindInt
}

// String makes a text value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int makes an integer value.
func Int(n int64) Value { return Value{kind: KindInt, n: n} }

// JSON makes a value from raw JSON (a number, true, false, null, an object or an array). The caller
// vouches that raw is valid JSON: captures take it from gjson, which has checked it. A raw JSON string
// should be given as String of its unquoted text instead, so that it renders without quotes in a path.
func JSON(raw string) Value { return Value{kind: KindJSON, s: raw} }

// Kind says what the value holds.
func (v Value) Kind() Kind { return v.kind }

// Text is the value as text (an integer in decimal, raw JSON as is).
func (v Value) Text() string {
	if v.kind == KindInt {
		return strconv.FormatInt(v.n, 10)
	}
	return v.s
}

// Int64 is the value as an integer: an integer, raw JSON that is an integer (a captured count), or text
// that is one (a variable declared as "5" in YAML). The second result is false for anything else: add
// and sub refuse it at run time rather than guess.
func (v Value) Int64() (int64, bool) {
	switch v.kind {
	case KindInt:
		return v.n, true
	default:
		n, err := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64)
		return n, err == nil
	}
}

// AppendText appends the value as text.
func (v Value) AppendText(dst []byte) []byte {
	if v.kind == KindInt {
		return strconv.AppendInt(dst, v.n, 10)
	}
	return append(dst, v.s...)
}

// AppendJSON appends the value as a JSON value of its own type: text quoted, an integer as a number,
// raw JSON as is.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case KindInt:
		return strconv.AppendInt(dst, v.n, 10)
	case KindJSON:
		return append(dst, v.s...)
	default:
		return appendQuoted(dst, v.s)
	}
}

// Vars is a Scope over a map: enough for tests, tools and a client's few variables.
type Vars map[string]Value

// Lookup implements Scope.
func (m Vars) Lookup(name string) (Value, bool) {
	v, ok := m[name]
	return v, ok
}

var _ Scope = Vars(nil)

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string. It escapes what JSON requires (quote, backslash, control
// characters) and replaces invalid UTF-8 with U+FFFD, as encoding/json does; other characters, unicode
// included, go through as is (JSON is UTF-8; no need for \u escapes of printable text).
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// needsEscape reports whether b has a byte appendEscaped would change.
func needsEscape(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return true
		}
		i += size
	}
	return false
}
