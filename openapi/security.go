package openapi

import (
	"fmt"
	"strings"

	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// --- security ----------------------------------------------------------------------------------------

func (g *gen) security(o *v3.Operation, out *op) {
	reqs := o.Security
	if reqs == nil {
		reqs = g.doc.Security
	}
	if len(reqs) == 0 {
		return
	}
	var schemes map[string]*v3.SecurityScheme
	if c := g.doc.Components; c != nil && c.SecuritySchemes != nil {
		schemes = map[string]*v3.SecurityScheme{}
		for k, v := range c.SecuritySchemes.FromOldest() {
			schemes[k] = v
		}
	}
	req := reqs[0]
	if req == nil || req.Requirements == nil || req.Requirements.Len() == 0 {
		return // {}: anonymous access allowed
	}
	for name := range req.Requirements.KeysFromOldest() {
		s := schemes[name]
		if s == nil {
			out.todos = append(out.todos, "TODO: security scheme "+name+" is not in components.securitySchemes")
			continue
		}
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
			out.basic = true
			out.basicUser = g.credVar("username", "u{{client.id}}-{{run.id}}", "TODO: HTTP Basic user ("+name+"): one that exists, or a client.setup step that creates it")
			out.basicPassword = g.credVar("password", "{{random.hex 12}}", "TODO: its password")
			g.note("client.vars %s, %s: HTTP Basic (%s) credentials that exist on your API", out.basicUser, out.basicPassword, name)
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"),
			s.Type == "oauth2", s.Type == "openIdConnect":
			if out.basic {
				out.todos = append(out.todos, "TODO: "+name+" (a bearer token) beside HTTP Basic: send one or the other")
				continue
			}
			v := g.credVar("token", "TODO-token", "TODO: a bearer token ("+name+", "+s.Type+"); or capture one in client.setup (below)")
			g.tokenVars = appendUnique(g.tokenVars, v)
			out.headers = setNamed(out.headers, named{name: "Authorization", value: "Bearer {{" + v + "}}"}, true)
			g.note("client.vars.%s: a bearer token (%s), or a client.setup login that captures it", v, name)
		case s.Type == "apiKey" && s.Name != "" && headerRE.MatchString(s.Name):
			v := varName(s.Name)
			v = g.credVar(v, "TODO-"+strings.ReplaceAll(v, "_", "-"), "TODO: the API key or session token sent as "+s.Name+" "+s.In+" ("+name+"); or capture it in client.setup (below)")
			g.tokenVars = appendUnique(g.tokenVars, v)
			switch s.In {
			case "header":
				out.headers = setNamed(out.headers, named{name: s.Name, value: "{{" + v + "}}"}, true)
			case "query":
				out.query = setNamed(out.query, named{name: s.Name, value: "{{" + v + "}}"}, false)
			case "cookie":
				out.headers = setNamed(out.headers, named{name: "Cookie", value: s.Name + "={{" + v + "}}"}, true)
			}
			g.note("client.vars.%s: the %s %s (%s), or a client.setup login that captures it", v, s.Name, s.In, name)
		default:
			out.todos = append(out.todos, fmt.Sprintf("TODO: security scheme %s (%s %s) is not mapped: add its header", name, s.Type, s.Scheme))
			g.note("ops.%s: security scheme %s (%s) is not mapped", out.name, name, s.Type)
		}
	}
}
