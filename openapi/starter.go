// Package openapi writes a starter scenario from an OpenAPI 3 document (3.0 and 3.1, YAML or JSON):
// `chaosbench init --openapi`. The starter declares a client and one op per operation (docs/scenarios.md,
// "Your own API") and says in comments what the document could not tell: credentials, ids that exist,
// the load, what must hold. It is read with github.com/pb33f/libopenapi, which resolves $refs.
//
// Starter only writes text; whether that text is a valid scenario is package scenarios' business (the
// command loads it before saying it is done, and the tests load every starter they make).
package openapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
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
