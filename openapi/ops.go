package openapi

import (
	"fmt"
	"regexp"
	"strings"

	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// --- ops ---------------------------------------------------------------------------------------------

var healthPaths = map[string]bool{"/health": true, "/healthz": true, "/readyz": true, "/ready": true, "/livez": true, "/ping": true}

func (g *gen) buildOp(path, method string, item *v3.PathItem, o *v3.Operation, used map[string]bool) *op {
	out := &op{method: method, docPath: path, summary: strings.TrimSpace(firstLine(o.Summary))}
	if out.summary == "" {
		out.summary = strings.TrimSpace(firstLine(o.Description))
	}
	out.name = uniqueName(opName(o.OperationId, method, path), used)
	if method == "GET" && healthPaths[strings.ToLower(path)] {
		out.health = true
		if g.health == "" {
			g.health = g.prefix + path
		}
	}

	// Parameters: the path item's, overridden by the operation's of the same name and place.
	params := map[string]*v3.Parameter{}
	var order []string
	for _, list := range [][]*v3.Parameter{item.Parameters, o.Parameters} {
		for _, p := range list {
			if p == nil {
				continue
			}
			k := p.In + ":" + p.Name
			if _, ok := params[k]; !ok {
				order = append(order, k)
			}
			params[k] = p
		}
	}
	pathVals := map[string]string{}
	for _, k := range order {
		p := params[k]
		required := p.Required != nil && *p.Required
		switch p.In {
		case "path":
			pathVals[p.Name] = g.pathParam(p, out)
		case "query":
			if !required {
				out.optional = append(out.optional, "query "+p.Name)
				continue
			}
			v, todo := paramValue(p)
			out.query = append(out.query, named{name: p.Name, value: v, comment: todo})
		case "header":
			switch strings.ToLower(p.Name) {
			case "accept", "content-type", "authorization": // the spec says these are ignored as parameters
				continue
			}
			if strings.Contains(strings.ToLower(p.Name+" "+p.Description), "idempot") && headerRE.MatchString(p.Name) {
				out.idemHeader = p.Name
				continue
			}
			if !required {
				out.optional = append(out.optional, "header "+p.Name)
				continue
			}
			v, todo := paramValue(p)
			if h := strings.ToLower(p.Name); h == "if-match" || h == "if-none-match" {
				todo = "TODO: the ETag of what an earlier step read: capture it ({header: ETag}) and send {{etag}}"
				out.todos = append(out.todos, fmt.Sprintf("TODO: %s needs an ETag read first: add a GET step before this one (see examples/ticketdesk/ticketdesk.yaml, counter.bump)", p.Name))
				g.note("ops.%s: %s needs the ETag of a read; add a step that captures it", out.name, p.Name)
			}
			if headerRE.MatchString(p.Name) {
				out.headers = setNamed(out.headers, named{name: p.Name, value: v, comment: todo}, true)
			}
		case "cookie":
			out.todos = append(out.todos, "TODO: cookie parameter "+p.Name+" is not sent: add a Cookie header")
		}
	}
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		if _, ok := pathVals[m[1]]; !ok { // a parameter the document does not declare
			name := varName(m[1])
			vr := g.addVar(name, "{{random.hex 8}}", "TODO: "+m[1]+" is in the path but not declared as a parameter: a value that exists")
			vr.usedBy = appendUnique(vr.usedBy, out.name)
			pathVals[m[1]] = "{{" + name + "}}"
		}
	}
	out.path = g.prefix + templatePath(path, pathVals)
	if method == "DELETE" {
		out.todos = append(out.todos, "TODO: this deletes: under load it removes what the other ops may be using (weight it, or drop it from mix)")
	}

	g.security(o, out)
	g.requestBody(o, out)
	g.responses(o, out)
	return out
}

// pathParam returns the template that fills path parameter p: {{pick ...}} of its enum, else a client
// variable named after it.
func (g *gen) pathParam(p *v3.Parameter, out *op) string {
	if s := schemaOf(p.Schema); s != nil && len(s.Enum) > 0 {
		var words []string
		for _, e := range s.Enum {
			w := scalarString(decodeNode(e))
			if w == "" || strings.ContainsAny(w, " \t{}\"") {
				words = nil
				break
			}
			words = append(words, w)
		}
		if len(words) > 0 {
			return "{{pick " + strings.Join(words, " ") + "}}"
		}
	}
	name := varName(p.Name)
	if have, ok := g.varByName[name]; ok && len(have.usedBy) == 0 {
		name += "_param" // the name of a credential's variable: keep them apart
	}
	v, _ := paramValue(p)
	exampled := exampleOf(p) != nil
	comment := "TODO: a " + p.Name + " that exists, or capture one from the answer that creates it"
	if exampled {
		comment = "TODO: the document's example; one that exists on your API, or capture one"
	}
	vr := g.addVar(name, v, comment)
	vr.usedBy = appendUnique(vr.usedBy, out.name)
	g.note("client.vars.%s: a path parameter (%s); the value is %s", name, p.Name, map[bool]string{true: "the document's example", false: "made up"}[exampled])
	return "{{" + name + "}}"
}

var pathParamRE = regexp.MustCompile(`\{([^{}]+)\}`)

// templatePath turns /a/{id} into /a/{{id}}, with each parameter's template.
func templatePath(path string, vals map[string]string) string {
	return pathParamRE.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := vals[name]; ok {
			return v
		}
		return m
	})
}

// setNamed puts n in list, replacing an entry of the same name (headers: case-insensitively), so that
// a header both declared as a parameter and set by a security scheme is written once (YAML refuses a
// key twice).
func setNamed(list []named, n named, fold bool) []named {
	for i, have := range list {
		if have.name == n.name || (fold && strings.EqualFold(have.name, n.name)) {
			list[i] = n
			return list
		}
	}
	return append(list, n)
}
