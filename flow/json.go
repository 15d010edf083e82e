package flow

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/goccy/go-yaml"
)

// Content types of the bodies flow renders; the request layer sets the header from them unless the
// user set one.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// JSONBody is a JSON request body with templates in its strings, compiled into a flat list of parts:
// runs of constant JSON text (keys, punctuation, values with no template, merged at compile time) and
// the templated values between them. Rendering appends the parts in order: no tree walk, no
// reflection, no encoding/json.
type JSONBody struct {
	parts []jsonPart
	vars  []string
}

// jsonPart is constant JSON text (tmpl == nil), a string template rendered and quoted, or a
// single-expression template rendered with its value's type (typed).
type jsonPart struct {
	lit   string
	tmpl  *Template
	typed bool
}

// CompileJSON compiles a JSON body given as YAML decodes it: map[string]any (or map[any]any with string
// keys), yaml.MapSlice, []any, string, bool, nil, integers and floats.
//
// Every string value is a template. A string that is exactly one expression keeps its value's type:
// "{{add n 1}}" renders as a number, "{{n}}" as n's own JSON (a captured number stays a number, a
// captured object is inserted whole), "{{uuid}}" as a string. Any other string is rendered and then
// JSON-quoted. Object keys are literal (a key with "{{" is an error: keys that vary make a body that
// the service's schema cannot check).
//
// Key order: a map's keys are sorted, so the same scenario sends the same bytes on every run; a
// yaml.MapSlice (decoding with yaml.UseOrderedMap) keeps the file's order, for services that care.
func CompileJSON(v any) (*JSONBody, error) {
	c := &jsonCompiler{}
	if err := c.value(v, ""); err != nil {
		return nil, err
	}
	c.flush()
	return &JSONBody{parts: c.parts, vars: c.vars}, nil
}

// ContentType is application/json.
func (b *JSONBody) ContentType() string { return ContentTypeJSON }

// Vars lists the variables the body reads, each once.
func (b *JSONBody) Vars() []string { return b.vars }

// Append appends the rendered body to dst.
func (b *JSONBody) Append(dst []byte, env *Env) ([]byte, error) {
	if env == nil {
		env = &Env{}
	}
	var err error
	for i := range b.parts {
		p := &b.parts[i]
		switch {
		case p.tmpl == nil:
			dst = append(dst, p.lit...)
		case p.typed:
			dst, err = p.tmpl.segs[0].expr.append(dst, env, true)
		default:
			dst, err = p.tmpl.appendJSONString(dst, env)
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

type jsonCompiler struct {
	parts []jsonPart
	lit   []byte // constant text not yet flushed into parts
	vars  []string
}

func (c *jsonCompiler) flush() {
	if len(c.lit) > 0 {
		c.parts = append(c.parts, jsonPart{lit: string(c.lit)})
		c.lit = c.lit[:0]
	}
}

func (c *jsonCompiler) addVars(vs []string) {
	for _, v := range vs {
		if !contains(c.vars, v) {
			c.vars = append(c.vars, v)
		}
	}
}

func (c *jsonCompiler) value(v any, field string) error {
	switch x := v.(type) {
	case string:
		t, err := Compile(x)
		if err != nil {
			return inField(err, fieldOr(field))
		}
		if t.IsConst() {
			c.lit = appendQuoted(c.lit, x)
			return nil
		}
		c.flush()
		c.parts = append(c.parts, jsonPart{tmpl: t, typed: t.single() != nil})
		c.addVars(t.Vars())
		return nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return c.object(len(keys), func(i int) (string, any) { return keys[i], x[keys[i]] }, field)
	case map[any]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			s, ok := k.(string)
			if !ok {
				return &Error{Field: fieldOr(field), Msg: fmt.Sprintf("object key %v is a %T, want a string", k, k)}
			}
			keys = append(keys, s)
		}
		slices.Sort(keys)
		return c.object(len(keys), func(i int) (string, any) { return keys[i], x[keys[i]] }, field)
	case yaml.MapSlice:
		for _, it := range x {
			if _, ok := it.Key.(string); !ok {
				return &Error{Field: fieldOr(field), Msg: fmt.Sprintf("object key %v is a %T, want a string", it.Key, it.Key)}
			}
		}
		return c.object(len(x), func(i int) (string, any) { return x[i].Key.(string), x[i].Value }, field)
	case []any:
		c.lit = append(c.lit, '[')
		for i, e := range x {
			if i > 0 {
				c.lit = append(c.lit, ',')
			}
			if err := c.value(e, field+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		c.lit = append(c.lit, ']')
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &Error{Field: fieldOr(field), Msg: fmt.Sprintf("%v is not a JSON number", x)}
		}
		c.lit = strconv.AppendFloat(c.lit, x, 'g', -1, 64)
		return nil
	case nil, bool, int, int64, uint64, int32, uint32, int16, uint16, int8, uint8, uint, float32, json.Number:
		b, err := json.Marshal(x)
		if err != nil {
			return &Error{Field: fieldOr(field), Msg: err.Error()}
		}
		c.lit = append(c.lit, b...)
		return nil
	default:
		return &Error{Field: fieldOr(field), Msg: fmt.Sprintf("a %T cannot be a JSON body value", v)}
	}
}

func (c *jsonCompiler) object(n int, at func(int) (string, any), field string) error {
	c.lit = append(c.lit, '{')
	for i := 0; i < n; i++ {
		k, v := at(i)
		sub := field + "." + k
		if field == "" {
			sub = k
		}
		if t, err := Compile(k); err != nil || !t.IsConst() {
			return &Error{Field: fieldOr(sub), Msg: "object keys are literal, not templates"}
		}
		if i > 0 {
			c.lit = append(c.lit, ',')
		}
		c.lit = appendQuoted(c.lit, k)
		c.lit = append(c.lit, ':')
		if err := c.value(v, sub); err != nil {
			return err
		}
	}
	c.lit = append(c.lit, '}')
	return nil
}

func fieldOr(f string) string {
	if f == "" {
		return "(body)"
	}
	return f
}

// FormBody is an application/x-www-form-urlencoded body: name=value pairs whose values are templates,
// percent-encoded after rendering.
type FormBody struct {
	fields []formField
	vars   []string
}

type formField struct {
	prefix string // "name=" already encoded, with the "&" before it when not first
	value  *Template
}

// CompileForm compiles a form body from a map (names sorted, as url.Values.Encode does) or a
// yaml.MapSlice (the file's order). Values are templates; numbers and booleans are their text.
func CompileForm(v any) (*FormBody, error) {
	type kv struct {
		k string
		v any
	}
	var pairs []kv
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			pairs = append(pairs, kv{k, e})
		}
		slices.SortFunc(pairs, func(a, b kv) int { return cmpString(a.k, b.k) })
	case yaml.MapSlice:
		for _, it := range x {
			k, ok := it.Key.(string)
			if !ok {
				return nil, &Error{Field: "form", Msg: fmt.Sprintf("field name %v is a %T, want a string", it.Key, it.Key)}
			}
			pairs = append(pairs, kv{k, it.Value})
		}
	default:
		return nil, &Error{Field: "form", Msg: fmt.Sprintf("a form body is a map of names to values, not a %T", v)}
	}
	f := &FormBody{}
	for i, p := range pairs {
		var src string
		switch x := p.v.(type) {
		case string:
			src = x
		case nil:
		case bool, int, int64, uint64, float64:
			src = fmt.Sprint(x)
		default:
			return nil, &Error{Field: "form." + p.k, Msg: fmt.Sprintf("a form value is text, not a %T", p.v)}
		}
		t, err := Compile(src)
		if err != nil {
			return nil, inField(err, "form."+p.k)
		}
		prefix := url.QueryEscape(p.k) + "="
		if i > 0 {
			prefix = "&" + prefix
		}
		f.fields = append(f.fields, formField{prefix: prefix, value: t})
		for _, v := range t.Vars() {
			if !contains(f.vars, v) {
				f.vars = append(f.vars, v)
			}
		}
	}
	return f, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ContentType is application/x-www-form-urlencoded.
func (f *FormBody) ContentType() string { return ContentTypeForm }

// Vars lists the variables the body reads, each once.
func (f *FormBody) Vars() []string { return f.vars }

// Append appends the encoded form to dst. Each value is rendered in place and then percent-encoded
// (through env's scratch buffer only when it has a byte to encode).
func (f *FormBody) Append(dst []byte, env *Env) ([]byte, error) {
	if env == nil {
		env = &Env{}
	}
	for _, fl := range f.fields {
		dst = append(dst, fl.prefix...)
		start := len(dst)
		var err error
		if dst, err = fl.value.Append(dst, env); err != nil {
			return dst, err
		}
		if needsQueryEscape(dst[start:]) {
			env.scratch = append(env.scratch[:0], dst[start:]...)
			dst = AppendQueryEscape(dst[:start], env.scratch)
		}
	}
	return dst, nil
}

func shouldEscape(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	case c == '-' || c == '_' || c == '.' || c == '~':
		return false
	}
	return true
}

func needsQueryEscape(b []byte) bool {
	for _, c := range b {
		if shouldEscape(c) {
			return true
		}
	}
	return false
}

// AppendQueryEscape appends s encoded as url.QueryEscape does (space as +), without allocating: for
// form bodies here and for query values in the request layer.
func AppendQueryEscape(dst, s []byte) []byte { return appendQueryEscape(dst, s) }

func appendQueryEscape[T string | []byte](dst []byte, s T) []byte {
	const upper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			dst = append(dst, '+')
		case shouldEscape(c):
			dst = append(dst, '%', upper[c>>4], upper[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
