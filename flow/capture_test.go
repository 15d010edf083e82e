package flow

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCompilePath(t *testing.T) {
	for _, tc := range []struct {
		src, gjson string
	}{
		// The whole body.
		{"$", "@this"},
		// Members.
		{"$.a.b", "a.b"},
		// An index.
		{"$.items[0].id", "items.0.id"},
		// Every element's field, as gjson's map over an array.
		{"$.items[*].id", "items.#.id"},
		// Every element of an array at the end is the array itself (a trailing # would count it).
		{"$.items[*]", "items"},
		// Nested arrays.
		{"$.a[*].b[*].c", "a.#.b.#.c"},
		// A quoted name with gjson's special characters is escaped for gjson.
		{"$['weird key.with*dots?']", `weird key\.with\*dots\?`},
		// Double quotes and an escaped quote inside.
		{`$["it's"].x`, `it\'s.x`},
		{`$['it\'s']`, `it\'s`},
		// Dashes are member characters.
		{"$.order-id", `order-id`},
	} {
		p, err := CompilePath(tc.src)
		if err != nil {
			t.Errorf("CompilePath(%q): %v", tc.src, err)
			continue
		}
		if p.GJSON() != tc.gjson {
			t.Errorf("CompilePath(%q) = %q, want %q", tc.src, p.GJSON(), tc.gjson)
		}
	}
}

func TestCompilePathErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		col  int
		want string
	}{
		// Not from the root.
		{"items[0]", 1, "starts with $"},
		// Recursive descent.
		{"$..id", 2, "recursive descent"},
		// A filter.
		{"$.items[?(@.id==1)]", 9, "filters"},
		// A slice.
		{"$.items[0:2]", 9, "slices"},
		// A union.
		{"$.items[0,1]", 9, "unions"},
		// A negative index.
		{"$.items[-1]", 9, "not an index"},
		// A wildcard member.
		{"$.*", 3, "use [*]"},
		// An unclosed bracket.
		{"$.items[0", 8, "not closed"},
		// An unclosed quoted name.
		{"$['abc", 2, "not closed"},
		// Junk after a member.
		{"$.a b", 4, "unexpected"},
		// A trailing dot.
		{"$.a.", 5, "member name is expected"},
	} {
		_, err := CompilePath(tc.src)
		var fe *Error
		if !errors.As(err, &fe) || fe.Col != tc.col || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("CompilePath(%q) = %v, want col %d containing %q", tc.src, err, tc.col, tc.want)
		}
	}
}

var orderBody = []byte(`{"id":"o-1","count":41,"price":9.5,"paid":true,"note":null,"meta":{"a":1},` +
	`"items":[{"id":10,"sku":"a"},{"id":11,"sku":"b"}],"weird key":"w","uni":"日本\"x\""}`)

func TestCapture(t *testing.T) {
	resp := &Response{Status: 201, Header: http.Header{"Etag": {`"v3"`}}, Body: orderBody}
	for _, tc := range []struct {
		spec CaptureSpec
		kind Kind
		want string // the value's text
	}{
		// A JSON string becomes text, unquoted.
		{CaptureSpec{JSON: "$.id"}, KindString, "o-1"},
		// A number stays raw JSON: a number in a body.
		{CaptureSpec{JSON: "$.count"}, KindJSON, "41"},
		{CaptureSpec{JSON: "$.price"}, KindJSON, "9.5"},
		// true and null are raw JSON too.
		{CaptureSpec{JSON: "$.paid"}, KindJSON, "true"},
		{CaptureSpec{JSON: "$.note"}, KindJSON, "null"},
		// An object, whole.
		{CaptureSpec{JSON: "$.meta"}, KindJSON, `{"a":1}`},
		// An index and a field.
		{CaptureSpec{JSON: "$.items[1].sku"}, KindString, "b"},
		// Every element's id: one array.
		{CaptureSpec{JSON: "$.items[*].id"}, KindJSON, "[10,11]"},
		// A quoted name.
		{CaptureSpec{JSON: "$['weird key']"}, KindString, "w"},
		// An escaped string is unescaped.
		{CaptureSpec{JSON: "$.uni"}, KindString, `日本"x"`},
		// A header, named in any case.
		{CaptureSpec{Header: "ETag"}, KindString, `"v3"`},
		// The status, as an integer.
		{CaptureSpec{Status: true}, KindInt, "201"},
	} {
		c, err := CompileCapture("v", tc.spec)
		if err != nil {
			t.Fatalf("CompileCapture(%+v): %v", tc.spec, err)
		}
		v, err := c.Extract(resp)
		if err != nil {
			t.Errorf("Extract(%+v): %v", tc.spec, err)
			continue
		}
		if v.Kind() != tc.kind || v.Text() != tc.want {
			t.Errorf("Extract(%+v) = kind %d %q, want kind %d %q", tc.spec, v.Kind(), v.Text(), tc.kind, tc.want)
		}
	}
}

// A captured number plus one renders as a number in a JSON body: the read-modify-write case.
func TestCaptureThenAdd(t *testing.T) {
	c, _ := CompileCapture("n", CaptureSpec{JSON: "$.count"})
	v, err := c.Extract(&Response{Status: 200, Body: orderBody})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := CompileJSON(map[string]any{"count": "{{add n 1}}", "was": "{{n}}"})
	got, err := b.Append(nil, &Env{Scope: Vars{"n": v}})
	if err != nil || string(got) != `{"count":42,"was":41}` {
		t.Errorf("body = %s, %v", got, err)
	}
}

func TestCaptureNoMatch(t *testing.T) {
	long := []byte(`{"error":"` + strings.Repeat("x", 300) + `"}`)
	for _, tc := range []struct {
		spec   CaptureSpec
		body   []byte
		source string
		excpt  string // the excerpt's start
	}{
		// A missing member: the error names the capture, the path, and shows the body.
		{CaptureSpec{JSON: "$.token"}, []byte(`{"error":"bad password"}`), "json $.token", `{"error":"bad password"}`},
		// An index past the end.
		{CaptureSpec{JSON: "$.items[5].id"}, orderBody, "json $.items[5].id", `{"id":"o-1"`},
		// A body that is not JSON at all.
		{CaptureSpec{JSON: "$.token"}, []byte("<html>502 Bad Gateway</html>"), "json $.token", "<html>502"},
		// A header that is absent.
		{CaptureSpec{Header: "ETag"}, nil, "header Etag", ""},
		// A long body is cut to ExcerptLen bytes.
		{CaptureSpec{JSON: "$.token"}, long, "json $.token", `{"error":"xxx`},
	} {
		c, _ := CompileCapture("token", tc.spec)
		_, err := c.Extract(&Response{Status: 401, Header: http.Header{}, Body: tc.body})
		var ce *CaptureError
		if !errors.As(err, &ce) {
			t.Errorf("Extract(%+v) = %v, want a CaptureError", tc.spec, err)
			continue
		}
		if ce.Capture != "token" || ce.Source != tc.source || !strings.HasPrefix(ce.Excerpt, tc.excpt) || len(ce.Excerpt) > ExcerptLen+len("…") {
			t.Errorf("Extract(%+v) = %+v", tc.spec, ce)
		}
		if !strings.Contains(err.Error(), "capture token: "+tc.source+" matched nothing (status 401") {
			t.Errorf("message %q", err)
		}
	}
}

func TestCompileCaptureErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  CaptureSpec
		field string
		col   int
		want  string
	}{
		// No source.
		{"a", CaptureSpec{}, "capture.a", 0, "exactly one"},
		// Two sources.
		{"a", CaptureSpec{JSON: "$.x", Status: true}, "capture.a", 0, "exactly one"},
		// A bad path: the field is the json key, the column within the path.
		{"a", CaptureSpec{JSON: "$.items[?(@.x)]"}, "capture.a.json", 9, "filters"},
		// A name that a template could not read.
		{"seq", CaptureSpec{Status: true}, "capture.seq", 0, "cannot be a variable name"},
	} {
		_, err := CompileCapture(tc.name, tc.spec)
		var fe *Error
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Col != tc.col || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("CompileCapture(%q, %+v) = %v, want %s col %d %q", tc.name, tc.spec, err, tc.field, tc.col, tc.want)
		}
	}
}
