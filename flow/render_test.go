package flow

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestStepRender(t *testing.T) {
	named := func(kv ...string) []Named {
		var out []Named
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Named{Name: kv[i], Tmpl: MustCompile(kv[i+1])})
		}
		return out
	}
	jsonBody := func(v any) *JSONBody {
		b, err := CompileJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	formBody := func(v map[string]any) *FormBody {
		f, err := CompileForm(v)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		step    Step
		path    string
		headers []Header
		body    string // "" with noBody: nil
		noBody  bool
		ctype   string
		err     string // a substring of the error; the rest is not checked then
	}{
		// A bare GET: the path's template rendered, no headers, no body, no content type.
		{name: "get", step: Step{Method: "GET", Path: MustCompile("/tickets/{{id}}")},
			path: "/tickets/t-7", noBody: true},
		// Query values are templates; names and values are escaped as url.QueryEscape does (space as +).
		{name: "query", step: Step{Path: MustCompile("/search"), Query: named("a b", "x&y", "q", "{{user}} 1/2")},
			path: "/search?a+b=x%26y&q=u+7+1%2F2", noBody: true},
		// A path that already has a query string: the step's query goes after a "&".
		{name: "query after ?", step: Step{Path: MustCompile("/s?v=1"), Query: named("n", "{{seq}}")},
			path: "/s?v=1&n=42", noBody: true},
		// Headers in the step's order, constant and templated; without a body a Content-Type header stays a header.
		{name: "headers", step: Step{Path: MustCompile("/"), Headers: named("Accept", "text/plain", "Content-Type", "x/y", "Token", "t-{{user}}")},
			path: "/", headers: []Header{{"Accept", "text/plain"}, {"Content-Type", "x/y"}, {"Token", "t-u 7"}}, noBody: true},
		// basic: Authorization after the step's headers, base64 of user:password.
		{name: "basic", step: Step{Path: MustCompile("/login"), Headers: named("X-A", "1"), BasicUser: MustCompile("{{user}}"), BasicPassword: MustCompile("pw")},
			path: "/login", headers: []Header{{"X-A", "1"}, {"Authorization", "Basic dSA3OnB3"}}, noBody: true},
		// basic without a password: user and a colon.
		{name: "basic no password", step: Step{Path: MustCompile("/"), BasicUser: MustCompile("admin")},
			path: "/", headers: []Header{{"Authorization", "Basic YWRtaW46"}}, noBody: true},
		// A JSON body: its type is application/json (a single expression keeps its type: seq is a number).
		{name: "json", step: Step{Path: MustCompile("/o"), Body: jsonBody(map[string]any{"n": "{{seq}}"}), BodyType: ContentTypeJSON},
			path: "/o", body: `{"n":42}`, ctype: ContentTypeJSON},
		// A form body: its type is the form's.
		{name: "form", step: Step{Path: MustCompile("/f"), Body: formBody(map[string]any{"who": "{{user}}"}), BodyType: ContentTypeForm},
			path: "/f", body: "who=u+7", ctype: ContentTypeForm},
		// A raw body without a Content-Type header: application/octet-stream.
		{name: "raw", step: Step{Path: MustCompile("/r"), Body: MustCompile("hello {{user}}")},
			path: "/r", body: "hello u 7", ctype: ContentTypeRaw},
		// A raw body takes the step's Content-Type header (any case), which is then not sent as a header too.
		{name: "raw typed", step: Step{Path: MustCompile("/r"), Body: MustCompile("a,b"), Headers: named("content-type", "text/csv", "X-B", "2")},
			path: "/r", body: "a,b", ctype: "text/csv", headers: []Header{{"X-B", "2"}}},
		// An empty raw body is a body (sent, with its type), not none.
		{name: "empty raw", step: Step{Path: MustCompile("/r"), Body: MustCompile("")},
			path: "/r", body: "", ctype: ContentTypeRaw},
		// A JSON body with a Content-Type header: the header is the body's type, sent once.
		{name: "json typed", step: Step{Path: MustCompile("/o"), Body: jsonBody(map[string]any{}), BodyType: ContentTypeJSON, Headers: named("Content-Type", "application/vnd.x+json")},
			path: "/o", body: "{}", ctype: "application/vnd.x+json"},
		// A variable not in scope fails the part it is in, by name.
		{name: "undefined header", step: Step{Path: MustCompile("/"), Headers: named("Token", "{{nope}}")}, err: "header Token: "},
		// The same in the path, a query value, basic and the body.
		{name: "undefined path", step: Step{Path: MustCompile("/{{nope}}")}, err: "path: "},
		{name: "undefined query", step: Step{Path: MustCompile("/"), Query: named("q", "{{nope}}")}, err: "query q: "},
		{name: "undefined basic", step: Step{Path: MustCompile("/"), BasicUser: MustCompile("u"), BasicPassword: MustCompile("{{nope}}")}, err: "basic.password: "},
		{name: "undefined body", step: Step{Path: MustCompile("/"), Body: MustCompile("{{nope}}")}, err: "body: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{Scope: Vars{"id": String("t-7"), "user": String("u 7")}, Rand: rand.New(rand.NewPCG(1, 2)), Seq: 42}
			// dst is dirty from another render: every field must be overwritten.
			dst := &Rendered{}
			other := Step{Path: MustCompile("/old?x=1"), Headers: named("Old", "1"), Body: MustCompile("old")}
			if err := other.Render(dst, env); err != nil {
				t.Fatal(err)
			}
			err := tc.step.Render(dst, env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrUndefined) {
					t.Fatalf("error %v, want one containing %q and wrapping ErrUndefined", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(dst.Path) != tc.path {
				t.Errorf("path %q, want %q", dst.Path, tc.path)
			}
			if len(dst.Headers) != 0 || len(tc.headers) != 0 {
				if !reflect.DeepEqual(dst.Headers, tc.headers) {
					t.Errorf("headers %q, want %q", dst.Headers, tc.headers)
				}
			}
			if tc.noBody {
				if dst.Body != nil || dst.ContentType != "" {
					t.Errorf("body %q type %q, want none", dst.Body, dst.ContentType)
				}
				return
			}
			if dst.Body == nil || string(dst.Body) != tc.body || dst.ContentType != tc.ctype {
				t.Errorf("body %q (nil %v) type %q, want %q type %q", dst.Body, dst.Body == nil, dst.ContentType, tc.body, tc.ctype)
			}
		})
	}
}

// TestStepRenderAllocs: a reused Rendered costs nothing for the path, query, constant headers and the body;
// a templated header value is its one string.
func TestStepRenderAllocs(t *testing.T) {
	b, err := CompileJSON(map[string]any{"who": "{{user}}", "n": "{{add n 1}}", "id": "{{uuid}}"})
	if err != nil {
		t.Fatal(err)
	}
	s := Step{Path: MustCompile("/orders/{{user}}"), Query: []Named{{Name: "q", Tmpl: MustCompile("a b {{seq}}")}},
		Headers: []Named{{Name: "Accept", Tmpl: MustCompile("application/json")}}, Body: b, BodyType: ContentTypeJSON}
	env := &Env{Scope: Vars{"user": String("u7"), "n": Int(41)}, Rand: rand.New(rand.NewPCG(1, 2))}
	var dst Rendered
	if n := testing.AllocsPerRun(100, func() {
		env.Seq++
		if err := s.Render(&dst, env); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per render, want 0", n)
	}
	s.Headers = append(s.Headers, Named{Name: "Token", Tmpl: MustCompile("t-{{user}}")})
	if n := testing.AllocsPerRun(100, func() {
		if err := s.Render(&dst, env); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("%v allocations per render with a templated header, want 1", n)
	}
}
