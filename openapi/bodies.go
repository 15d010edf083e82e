package openapi

import (
	"sort"
	"strconv"
	"strings"

	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// --- bodies ------------------------------------------------------------------------------------------

func (g *gen) requestBody(o *v3.Operation, out *op) {
	rb := o.RequestBody
	if rb == nil || rb.Content == nil || rb.Content.Len() == 0 {
		return
	}
	var jsonMT, formMT *v3.MediaType
	var other string
	for ct, mt := range rb.Content.FromOldest() {
		base := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		switch {
		case jsonMT == nil && (base == "application/json" || strings.HasSuffix(base, "+json")):
			jsonMT = mt
		case formMT == nil && base == "application/x-www-form-urlencoded":
			formMT = mt
		case other == "":
			other = ct
		}
	}
	switch {
	case jsonMT != nil:
		out.bodyKey = "json"
		out.body = g.mediaExample(jsonMT)
	case formMT != nil:
		out.bodyKey = "form"
		v := g.mediaExample(formMT)
		m, ok := v.(ordered)
		if !ok {
			m = ordered{}
		}
		for i := range m {
			m[i].value = scalarString(m[i].value)
		}
		out.body = m
	default:
		out.bodyKey = "body"
		out.body = "TODO"
		out.headers = setNamed(out.headers, named{name: "Content-Type", value: other}, true)
		out.todos = append(out.todos, "TODO: a body of type "+other+": write it in body:")
		g.note("ops.%s: a body of type %s is not generated: write it", out.name, other)
	}
}

func (g *gen) mediaExample(mt *v3.MediaType) any {
	if mt == nil {
		return ordered{}
	}
	if mt.Example != nil {
		return clean(decodeNode(mt.Example))
	}
	if mt.Examples != nil {
		for _, ex := range mt.Examples.FromOldest() {
			if ex != nil && ex.Value != nil {
				return clean(decodeNode(ex.Value))
			}
		}
	}
	if mt.Schema == nil {
		return ordered{}
	}
	return sample(mt.Schema, 0)
}

// --- responses ---------------------------------------------------------------------------------------

func (g *gen) responses(o *v3.Operation, out *op) {
	if o.Responses == nil || o.Responses.Codes == nil {
		return
	}
	anyRange := false
	for code, resp := range o.Responses.Codes.FromOldest() {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		if n, err := strconv.Atoi(code); err == nil && n >= 200 && n <= 299 {
			out.statuses = append(out.statuses, n)
		} else {
			anyRange = true
		}
		g.loginCandidate(out, n2(code), resp)
	}
	if anyRange {
		out.statuses = nil // 2XX: the default, any 2xx
	}
	sort.Ints(out.statuses)
}

func n2(code string) int { n, _ := strconv.Atoi(code); return n }

// loginCandidate remembers the first operation whose 2xx JSON answer has a property named like a token:
// the skeleton of a client.setup login is made from it.
func (g *gen) loginCandidate(out *op, status int, resp *v3.Response) {
	if g.login != nil || resp == nil || resp.Content == nil || out.method != "POST" {
		return
	}
	for ct, mt := range resp.Content.FromOldest() {
		if !strings.Contains(ct, "json") || mt == nil {
			continue
		}
		s := schemaOf(mt.Schema)
		if s == nil || s.Properties == nil {
			continue
		}
		for prop := range s.Properties.KeysFromOldest() {
			if strings.Contains(strings.ToLower(prop), "token") && !strings.ContainsAny(prop, ".[]' ") {
				if status == 0 {
					status = 200
				}
				g.login = &loginHint{method: out.method, path: out.path, basic: out.basic, user: out.basicUser, pass: out.basicPassword, status: status, prop: prop}
				return
			}
		}
	}
}
