package scenarios

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chaosbench/chaosbench/flow"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// step compiles one step; it returns the names the step captures. defined are the variables its
// templates may read; idemHeader is the op's idempotency header ("" for none).
func (v *positioner) step(field string, s stepSpec, defined map[string]bool, idemHeader string) (flow.Step, []string) {
	sp := flow.Step{Name: s.Name}
	r := s.Request
	rf := field + ".request"
	read := func(f, src string, vars []string) { v.checkVars(f, src, vars, defined, "") }
	sp.Method = r.Method
	if !methodRE.MatchString(r.Method) {
		v.addq(rf+".method", "%q: want an HTTP method in capitals (GET, POST, PUT, PATCH, DELETE, ...)", r.Method)
	}
	if r.Path == "" {
		v.addq(rf+".path", "is required (e.g. /api/items/{{id}})")
	} else if !strings.HasPrefix(r.Path, "/") {
		v.addq(rf+".path", "%q: want a path starting with / (the target's URL gives the host)", r.Path)
	} else if t := v.template(rf+".path", r.Path); t != nil {
		sp.Path = t
		read(rf+".path", r.Path, t.Vars())
	}
	named := func(sub string, m map[string]string) []flow.Named {
		var out []flow.Named
		for _, k := range sortedKeys(m) {
			f := rf + "." + sub + `."` + k + `"`
			if t := v.template(f, m[k]); t != nil {
				read(f, m[k], t.Vars())
				out = append(out, flow.Named{Name: k, Tmpl: t})
			}
		}
		return out
	}
	sp.Query = named("query", r.Query)
	for _, k := range sortedKeys(r.Headers) {
		if !headerRE.MatchString(k) {
			v.addq(rf+`.headers."`+k+`"`, "%q is not a header name", k)
		}
		if idemHeader != "" && http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(idemHeader) {
			v.addq(rf+`.headers."`+k+`"`, "the op's idempotency sets %s itself (one key per logical op)", idemHeader)
		}
		if r.Basic != nil && http.CanonicalHeaderKey(k) == "Authorization" {
			v.addq(rf+`.headers."`+k+`"`, "basic sets Authorization: give one or the other")
		}
	}
	sp.Headers = named("headers", r.Headers)
	n := 0
	if r.JSON != nil {
		n++
		if b, err := flow.CompileJSON(r.JSON); err != nil {
			v.flowError(rf, err)
		} else {
			sp.Body, sp.BodyType = b, flow.ContentTypeJSON
			read(rf+".json", "", b.Vars())
		}
	}
	if r.Form != nil {
		n++
		if b, err := flow.CompileForm(r.Form); err != nil {
			v.flowError(rf, err)
		} else {
			sp.Body, sp.BodyType = b, flow.ContentTypeForm
			read(rf+".form", "", b.Vars())
		}
	}
	if r.Body != nil {
		n++
		if t := v.template(rf+".body", *r.Body); t != nil {
			sp.Body = t
			read(rf+".body", *r.Body, t.Vars())
		}
	}
	if n > 1 {
		v.addq(rf, "give at most one body: json, form or body")
	}
	if b := r.Basic; b != nil {
		if b.User == "" {
			v.addq(rf+".basic.user", "is required")
		} else if t := v.template(rf+".basic.user", b.User); t != nil {
			sp.BasicUser = t
			read(rf+".basic.user", b.User, t.Vars())
		}
		if t := v.template(rf+".basic.password", b.Password); t != nil {
			sp.BasicPassword = t
			read(rf+".basic.password", b.Password, t.Vars())
		}
	}
	var es flow.ExpectSpec
	if s.Expect != nil {
		es = *s.Expect
	}
	if e, err := flow.CompileExpect(es); err != nil {
		v.flowError(field, err)
	} else {
		sp.Expect = e
	}
	var caps []string
	for _, name := range sortedKeys(s.Capture) {
		c, err := flow.CompileCapture(name, s.Capture[name])
		if err != nil {
			v.flowError(field, err)
			caps = append(caps, name) // declared all the same: no cascade of unknown-variable errors
			continue
		}
		if reservedVar(name) || name == VarClientID || name == VarRunID {
			v.addq(field+`.capture."`+name+`"`, "%q is a built-in: capture into another name", name)
			continue
		}
		sp.Captures = append(sp.Captures, c)
		caps = append(caps, name)
	}
	if s.Think != "" {
		d, err := time.ParseDuration(s.Think)
		if err != nil || d < 0 {
			v.addq(field+".think", "%q: want a duration like 500ms", s.Think)
		}
		sp.Think = d
	}
	return sp, caps
}

// template compiles src, the string at field, reporting a compile error at its column in the file.
func (v *positioner) template(field, src string) *flow.Template {
	t, err := flow.Compile(src)
	if err != nil {
		v.flowError(field, err)
		return nil
	}
	return t
}

// checkVars reports each variable in vars that defined does not hold.
// src is the field's string when it is one template ("" for a body), to point at the expression.
func (v *positioner) checkVars(field, src string, vars []string, defined map[string]bool, why string) {
	for _, name := range vars {
		if defined[name] {
			continue
		}
		msg := why
		if msg == "" {
			msg = "not in client.vars, nor captured by client.setup or an earlier step of this op"
			if name == VarIdempotencyKey {
				msg = "the op declares no idempotency: {header: NAME}"
			}
		}
		v.addCol(field, exprCol(src, name), "%s: unknown variable (%s)", name, msg)
	}
}

// exprCol is the 1-based column (in runes) of the first {{ expression of src that reads name, or 0.
func exprCol(src, name string) int {
	for off := 0; ; {
		i := strings.Index(src[off:], "{{")
		if i < 0 {
			return 0
		}
		start := off + i
		end := strings.Index(src[start:], "}}")
		if end < 0 {
			return 0
		}
		if slices.Contains(strings.Fields(src[start+2:start+end]), name) {
			return utf8.RuneCountInString(src[:start]) + 1
		}
		off = start + end + 2
	}
}

// flowError reports a flow compile error under prefix: its Field is relative to the step or request
// (capture.token.json, json.items[0], expect.status[1]) and its Col within that string.
func (v *positioner) flowError(prefix string, err error) {
	fe, ok := err.(*flow.Error)
	if !ok {
		v.addq(prefix, "%v", err)
		return
	}
	field := prefix
	if fe.Field != "" {
		field += "." + quoteCaptureName(fe.Field)
	}
	v.addCol(field, fe.Col, "%s", fe.Msg)
}

// quoteCaptureName quotes a capture's name in flow's "capture.NAME.json" so that the positioner
// finds it.
func quoteCaptureName(f string) string {
	rest, ok := strings.CutPrefix(f, "capture.")
	if !ok {
		return f
	}
	name, tail, _ := strings.Cut(rest, ".")
	out := `capture."` + name + `"`
	if tail != "" {
		out += "." + tail
	}
	return out
}

// addCol records a problem at col (1-based, runes) within the string at field; col 0 is the string
// itself. The message shows the field without the quotes the lookup needs.
func (v *positioner) addCol(field string, col int, format string, args ...any) {
	line, c, tk := v.posToken(field)
	if tk != nil && col > 0 {
		c += col - 1
		if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
			c++
		}
	}
	v.errs = append(v.errs, FieldError{File: v.file, Line: line, Col: c, Field: strings.ReplaceAll(field, `"`, ""),
		Msg: fmt.Sprintf(format, args...)})
}

// posToken is pos, with the token when field's own node was found (not a parent).
func (v *positioner) posToken(field string) (int, int, *token.Token) {
	if v.ast != nil {
		if path, err := yaml.PathString("$" + strings.Join(splitField(field), "")); err == nil {
			if node, err := path.FilterFile(v.ast); err == nil && node != nil {
				if tk := node.GetToken(); tk != nil {
					return tk.Position.Line, tk.Position.Column, tk
				}
			}
		}
	}
	l, c := v.pos(field)
	return l, c, nil
}

// addq is add for the declared sections: the message shows the field without the quotes the lookup
// needs around keys with dots (ops.ticket.create.steps[0], not ops."ticket.create".steps[0]).
func (v *positioner) addq(field, format string, args ...any) { v.addCol(field, 0, format, args...) }

// addKey records a problem with the entry key of the mapping at parent, at the key itself.
func (v *positioner) addKey(parent, key, format string, args ...any) {
	line, col := 0, 0
	if v.ast != nil {
		if path, err := yaml.PathString("$" + strings.Join(splitField(parent), "")); err == nil {
			if node, err := path.FilterFile(v.ast); err == nil && node != nil {
				if m, ok := node.(*ast.MappingNode); ok {
					for _, mv := range m.Values {
						if tk := mv.Key.GetToken(); tk != nil && tk.Value == key {
							line, col = tk.Position.Line, tk.Position.Column
						}
					}
				}
			}
		}
	}
	v.errs = append(v.errs, FieldError{File: v.file, Line: line, Col: col, Field: parent + "." + key, Msg: fmt.Sprintf(format, args...)})
}
