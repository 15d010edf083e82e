// Package openapi writes a starter scenario from an OpenAPI 3 document (3.0 and 3.1, YAML or JSON):
// `chaosbench init --openapi`. The starter declares a client and one op per operation (docs/scenarios.md,
// "Your own API") and says in comments what the document could not tell: credentials, ids that exist,
// the load, what must hold. It is read with github.com/pb33f/libopenapi, which resolves $refs.
//
// Starter only writes text; whether that text is a valid scenario is package scenarios' business (the
// command loads it before saying it is done, and the tests load every starter they make).
package openapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/index"
)

// DefaultURL is the target of a starter whose document names no server on this machine.
const DefaultURL = "http://127.0.0.1:8080"

// builtinOps are the reference contract's op names, which a declared op may not take (load.OpNames;
// named here so that this package stays free of the load engine).
var builtinOps = map[string]bool{"cart.write": true, "order.create": true, "profile.read": true, "resource.update": true}

type config struct {
	url      string // --url: the target, overriding the document's servers
	source   string // the document's name, for the header
	basePath string // where relative $refs to other files are read from ("" for none)
}

// Option changes what Starter writes.
type Option func(*config)

// WithURL makes url the scenario's target.url (the document's servers are then ignored but for a path
// prefix of url's own).
func WithURL(url string) Option { return func(c *config) { c.url = url } }

// WithSource names the document in the starter's header (e.g. its path).
func WithSource(name string) Option { return func(c *config) { c.source = name } }

// WithBasePath lets $refs to other files be read, relative to dir (the document's folder).
func WithBasePath(dir string) Option { return func(c *config) { c.basePath = dir } }

// ErrNotOpenAPI3 is a document that parses but is not OpenAPI 3 (Swagger 2, AsyncAPI, any YAML).
var ErrNotOpenAPI3 = errors.New("not an OpenAPI 3 document")

// Starter reads an OpenAPI 3 document and returns a starter scenario and notes: what the user must fill
// in (also written as TODO comments in the scenario). An error means the document could not be read or
// is not OpenAPI 3, or has no operation.
func Starter(spec []byte, opts ...Option) ([]byte, []string, error) {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	doc, warnings, err := read(spec, cfg)
	if err != nil {
		return nil, nil, err
	}
	g := newGen(doc, cfg)
	for _, w := range warnings {
		g.note("%s", w)
	}
	if err := g.build(); err != nil {
		return nil, nil, err
	}
	return g.write(), g.notes, nil
}

// read parses and builds the document's model; libopenapi logs nothing (its default logger writes to
// stdout, where the starter may go).
func read(spec []byte, cfg config) (_ *v3.Document, warnings []string, err error) {
	defer func() {
		if r := recover(); r != nil { // a document the library chokes on is bad input, not a crash
			err = fmt.Errorf("not a readable OpenAPI document: the reader failed on it (%v)", r)
		}
	}()
	dc := datamodel.NewDocumentConfiguration()
	dc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.basePath != "" {
		dc.BasePath = cfg.basePath
		dc.AllowFileReferences = true
	}
	d, err := libopenapi.NewDocumentWithConfiguration(spec, dc)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "spec type not supported") || strings.Contains(msg, "no openapi") {
			return nil, nil, fmt.Errorf("%w: no openapi: 3.x field (%s)", ErrNotOpenAPI3, msg)
		}
		return nil, nil, fmt.Errorf("not a readable OpenAPI document: %s", msg)
	}
	info := d.GetSpecInfo()
	switch info.SpecFormat {
	case datamodel.OAS3, datamodel.OAS31, datamodel.OAS32:
	case datamodel.OAS2:
		return nil, nil, fmt.Errorf("%w: it is Swagger %s (OpenAPI 2); convert it to OpenAPI 3 first (e.g. swagger2openapi, or editor.swagger.io's Convert)",
			ErrNotOpenAPI3, info.Version)
	default:
		return nil, nil, fmt.Errorf("%w: no openapi: 3.x field", ErrNotOpenAPI3)
	}
	m, err := d.BuildV3Model()
	if m == nil {
		if err == nil {
			err = errors.New("no model")
		}
		return nil, nil, fmt.Errorf("not a usable OpenAPI 3 document: %v", err)
	}
	// Errors beside a model are unresolved or circular references: the starter is made from what resolved,
	// and the notes say what did not.
	// (warnings is the named result)
	if err != nil {
		for _, e := range unwrap(err) {
			where := "the document"
			var re *index.ResolvingError
			var ie *index.IndexingError
			switch {
			case errors.As(e, &re) && re.Node != nil && re.Node.Line > 0:
				where += fmt.Sprintf(", line %d", re.Node.Line)
			case errors.As(e, &ie) && ie.Node != nil && ie.Node.Line > 0:
				where += fmt.Sprintf(", line %d", ie.Node.Line)
			}
			warnings = append(warnings, where+": "+oneLine(e.Error()))
		}
	}
	return &m.Model, warnings, nil
}

// unwrap lists the errors errors.Join joined (err itself when it joins none).
func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrap(e)...)
		}
		return out
	}
	return []error{err}
}

// --- the starter's parts -----------------------------------------------------------------------------

type variable struct {
	name, value, comment string
	usedBy               []string // the ops whose path reads it
}

type named struct {
	name, value, comment string
}

type op struct {
	name, method, path, summary string
	docPath                     string   // as the document writes it
	todos                       []string // comments above the op
	idemHeader                  string
	headers, query              []named
	optional                    []string // optional parameters left out
	basic                       bool
	basicUser, basicPassword    string // their variables
	bodyKey                     string // json, form or body ("" for none)
	body                        any
	statuses                    []int
	health                      bool
}

type gen struct {
	doc   *v3.Document
	cfg   config
	notes []string

	name, title, version string
	target, prefix       string
	targetNote           string
	health               string
	vars                 []*variable
	varByName            map[string]*variable
	ops                  []*op
	login                *loginHint // an operation that looks like it opens a session
	tokenVars            []string   // variables that hold a token a login could capture
}

type loginHint struct {
	method, path string
	basic        bool
	user, pass   string
	status       int
	prop         string
}

func newGen(doc *v3.Document, cfg config) *gen {
	return &gen{doc: doc, cfg: cfg, varByName: map[string]*variable{}}
}

func (g *gen) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	for _, have := range g.notes {
		if have == n {
			return
		}
	}
	g.notes = append(g.notes, n)
}

func (g *gen) addVar(name, value, comment string) *variable {
	if v, ok := g.varByName[name]; ok {
		return v
	}
	v := &variable{name: name, value: value, comment: comment}
	g.vars = append(g.vars, v)
	g.varByName[name] = v
	return v
}

// credVar declares the variable of a credential (a user, a password, a token) and returns its name:
// name, unless a path parameter's variable took it.
func (g *gen) credVar(name, value, comment string) string {
	if have, ok := g.varByName[name]; ok && len(have.usedBy) > 0 {
		name += "_auth"
	}
	g.addVar(name, value, comment)
	return name
}

func (g *gen) build() error {
	g.title, g.version = "api", ""
	if in := g.doc.Info; in != nil {
		if in.Title != "" {
			g.title = in.Title
		}
		g.version = in.Version
	}
	g.name = slug(g.title)
	if err := g.buildTarget(); err != nil {
		return err
	}
	if g.doc.Paths == nil || g.doc.Paths.PathItems == nil || g.doc.Paths.PathItems.Len() == 0 {
		return errors.New("the document has no paths: there is no operation to make an op of")
	}
	used := map[string]bool{}
	for path, item := range g.doc.Paths.PathItems.FromOldest() {
		if item == nil {
			continue
		}
		for method, o := range item.GetOperations().FromOldest() {
			if o == nil {
				continue
			}
			g.ops = append(g.ops, g.buildOp(path, strings.ToUpper(method), item, o, used))
		}
	}
	if len(g.ops) == 0 {
		return errors.New("the document's paths have no operation to make an op of")
	}
	return nil
}

// --- target ------------------------------------------------------------------------------------------

func (g *gen) buildTarget() error {
	if g.cfg.url != "" {
		u, err := url.Parse(g.cfg.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--url %q: want http://HOST:PORT", g.cfg.url)
		}
		g.target = u.Scheme + "://" + u.Host
		g.prefix = strings.TrimRight(u.Path, "/")
		return nil
	}
	g.target = DefaultURL
	if len(g.doc.Servers) == 0 {
		g.targetNote = "TODO: the document names no server; set where your API listens (on this machine)"
		g.note("target.url: the document names no server; %s is a guess", DefaultURL)
		return nil
	}
	s := g.doc.Servers[0]
	raw := s.URL
	if s.Variables != nil {
		for name, v := range s.Variables.FromOldest() {
			if v != nil {
				raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		g.targetNote = fmt.Sprintf("TODO: the document's server %q is not a URL; set where your API listens", s.URL)
		g.note("target.url: the document's server %q is not a URL", s.URL)
		return nil
	}
	g.prefix = strings.TrimRight(u.Path, "/")
	if u.Host == "" { // a relative server: the path prefix alone
		g.targetNote = "TODO: the document's server is relative (" + s.URL + "); set where your API listens"
		g.note("target.url: the document's server is relative; %s is a guess", DefaultURL)
		return nil
	}
	if !loopback(u.Hostname()) {
		g.targetNote = fmt.Sprintf("TODO: the document's server is %s, not on this machine: run the API here (try and run attach to this machine only)", u.Scheme+"://"+u.Host)
		g.note("target.url: the document's server %s is not on this machine; %s is a guess", u.Scheme+"://"+u.Host, DefaultURL)
		return nil
	}
	g.target = u.Scheme + "://" + u.Host
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

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

// --- names -------------------------------------------------------------------------------------------

var (
	opNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)
	headerRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	camelRE   = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	notWordRE = regexp.MustCompile(`[^a-z0-9_-]+`)
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// opName is a valid op name from an operationId (createTicket -> create-ticket), else from the method
// and path (GET /counters/{name} -> get.counters.by-name).
func opName(id, method, path string) string {
	if n := cleanName(camelRE.ReplaceAllString(id, "$1-$2")); n != "" {
		return n
	}
	parts := []string{strings.ToLower(method)}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = "by-" + seg[1:len(seg)-1]
		}
		parts = append(parts, seg)
	}
	return cleanName(strings.Join(parts, "."))
}

func cleanName(s string) string {
	var segs []string
	for _, seg := range strings.Split(strings.ToLower(s), ".") {
		seg = strings.Trim(notWordRE.ReplaceAllString(seg, "-"), "-_")
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	n := strings.Join(segs, ".")
	if n != "" && (n[0] < 'a' || n[0] > 'z') {
		n = "op-" + n
	}
	if builtinOps[n] {
		n += "-api"
	}
	if n != "" && !opNameRE.MatchString(n) {
		return ""
	}
	return n
}

func uniqueName(n string, used map[string]bool) string {
	if n == "" {
		n = "op"
	}
	u := n
	for i := 2; used[u]; i++ {
		u = n + "-" + strconv.Itoa(i)
	}
	used[u] = true
	return u
}

var reserved = map[string]bool{"seq": true, "uuid": true, "pick": true, "add": true, "sub": true, "client": true,
	"run": true, "idempotency": true, "random": true}

// varName is a valid client variable name from a parameter's or header's name (X-Session-Token ->
// x_session_token).
func varName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := strings.Trim(b.String(), "_")
	if n == "" {
		n = "param"
	}
	if n[0] >= '0' && n[0] <= '9' {
		n = "p_" + n
	}
	if reserved[n] {
		n += "_param"
	}
	return n
}

// slug is a scenario name from the document's title.
func slug(title string) string {
	s := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if !nameRE.MatchString(s) {
		return "starter"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func appendUnique(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// quote writes s as a YAML double-quoted scalar (JSON's quoting, which YAML reads).
func quote(s string) string {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}
