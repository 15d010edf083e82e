package flow

import (
	"math/rand/v2"
	"net/http"
	"testing"
)

// BenchmarkRender: a typical order body with three templates (a text variable inside a string, a
// random integer and a typed add), into a reused buffer as the load engine will do.
func BenchmarkRender(b *testing.B) {
	body, err := CompileJSON(map[string]any{
		"customer": "{{user}}",
		"sku":      "sku-{{random.int 1 50}}",
		"qty":      "{{add n 1}}",
		"currency": "EUR",
		"lines":    []any{map[string]any{"note": "gift", "wrap": true}},
	})
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Scope: Vars{"user": String("u7-run1"), "n": JSON("41")}, Rand: rand.New(rand.NewPCG(1, 2))}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		env.Seq++
		if buf, err = body.Append(buf[:0], env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapture: a token and a count from a login-sized body, and a header.
func BenchmarkCapture(b *testing.B) {
	var caps []*Capture
	for name, spec := range map[string]CaptureSpec{
		"token": {JSON: "$.token"},
		"n":     {JSON: "$.items[1].count"},
		"etag":  {Header: "ETag"},
	} {
		c, err := CompileCapture(name, spec)
		if err != nil {
			b.Fatal(err)
		}
		caps = append(caps, c)
	}
	resp := &Response{
		Status: 200,
		Header: http.Header{"Etag": {`"v3"`}},
		Body:   []byte(`{"user":"u7","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1NyJ9.sig","items":[{"id":1,"count":3},{"id":2,"count":41}],"ok":true}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range caps {
			if _, err := c.Extract(resp); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkExpect: a status list and one JSON equality.
func BenchmarkExpect(b *testing.B) {
	e, err := CompileExpect(ExpectSpec{Status: []int{200, 201}, JSON: map[string]any{"$.state": "paid"}})
	if err != nil {
		b.Fatal(err)
	}
	resp := &Response{Status: 201, Body: []byte(`{"id":"o-1","state":"paid","total":12.5}`)}
	b.ReportAllocs()
	for b.Loop() {
		if m := e.Check(resp); m != nil {
			b.Fatal(m)
		}
	}
}
