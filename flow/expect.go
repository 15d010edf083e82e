package flow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// ExpectSpec is a step's expectation as the scenario declares it:
//
//	expect: {status: [200, 201], json: {"$.state": "paid"}}
//	expect: {status: [201], already_done: [409]}
type ExpectSpec struct {
	Status []int          `yaml:"status,omitempty"`
	JSON   map[string]any `yaml:"json,omitempty"`
	// AlreadyDone are statuses that answer a retry whose earlier attempt's answer was lost (a timeout, a
	// reset, a 5xx) by saying the work is done already: a sign-up retried after its 201 was lost meets
	// 409 "username taken", its own. They are accepted only on such a retry (Response.Retried), never on
	// a first answer, where the same 409 is somebody else's user; the JSON rules are not applied to them.
	AlreadyDone []int `yaml:"already_done,omitempty"`
}

// Expect is a compiled expectation.
type Expect struct {
	status      []int
	alreadyDone []int
	json        []jsonRule // sorted by path, so the first failure reported is the same on every run
}

type jsonRule struct {
	path Path
	want gjson.Result // the expected value, parsed once
}

// CompileExpect compiles spec. No status means any 2xx: the default that needs no thought for a
// request that simply has to succeed.
func CompileExpect(spec ExpectSpec) (*Expect, error) {
	e := &Expect{status: slices.Clone(spec.Status), alreadyDone: slices.Clone(spec.AlreadyDone)}
	for i, s := range spec.Status {
		if s < 100 || s > 599 {
			return nil, &Error{Field: "expect.status[" + strconv.Itoa(i) + "]", Msg: fmt.Sprintf("%d is not an HTTP status (100..599)", s)}
		}
	}
	for i, s := range spec.AlreadyDone {
		field := "expect.already_done[" + strconv.Itoa(i) + "]"
		switch {
		case s < 100 || s > 599:
			return nil, &Error{Field: field, Msg: fmt.Sprintf("%d is not an HTTP status (100..599)", s)}
		case e.StatusOK(s):
			return nil, &Error{Field: field, Msg: fmt.Sprintf("%d is accepted on every answer already (expect.status): already_done is for a status that means success only on a retry, such as 409", s)}
		}
	}
	paths := make([]string, 0, len(spec.JSON))
	for p := range spec.JSON {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		field := "expect.json[" + p + "]"
		path, err := CompilePath(p)
		if err != nil {
			return nil, inField(err, field)
		}
		raw, err := json.Marshal(spec.JSON[p])
		if err != nil {
			return nil, &Error{Field: field, Msg: fmt.Sprintf("the expected value is not JSON: %v", err)}
		}
		e.json = append(e.json, jsonRule{path: path, want: gjson.ParseBytes(raw)})
	}
	return e, nil
}

// Rule names which part of an expectation failed.
type Rule string

const (
	RuleStatus Rule = "status"
	RuleJSON   Rule = "json"
)

// Mismatch is an expectation that failed: which rule, and what was wanted and found. Check returns nil
// when every rule holds.
type Mismatch struct {
	Rule    Rule
	Path    string // RuleJSON: the path as written
	Want    string // the accepted statuses, or the expected JSON
	Got     string // the status, or the JSON found ("" when the path matched nothing)
	Status  int
	Excerpt string // the body's first ExcerptLen bytes
}

func (m *Mismatch) Error() string {
	if m.Rule == RuleStatus {
		return fmt.Sprintf("expect status %s, got %s (body: %q)", m.Want, m.Got, m.Excerpt)
	}
	got := m.Got
	if got == "" {
		got = "nothing"
	}
	return fmt.Sprintf("expect %s == %s, got %s (status %d, body: %q)", m.Path, m.Want, got, m.Status, m.Excerpt)
}

// Check applies the rules in order, status first, and returns the first that fails. An already_done
// status answering a retry holds without the JSON rules.
func (e *Expect) Check(r *Response) *Mismatch {
	if r.Retried && slices.Contains(e.alreadyDone, r.Status) {
		return nil
	}
	if !e.StatusOK(r.Status) {
		want := "2xx"
		if len(e.status) > 0 {
			s := make([]string, len(e.status))
			for i, c := range e.status {
				s[i] = strconv.Itoa(c)
			}
			want = "[" + strings.Join(s, ", ") + "]"
		}
		return &Mismatch{Rule: RuleStatus, Want: want, Got: strconv.Itoa(r.Status), Status: r.Status, Excerpt: excerpt(string(r.Body), ExcerptLen)}
	}
	for _, rule := range e.json {
		got, ok := rule.path.peek(r.Body)
		if ok && jsonEqual(got, rule.want) {
			continue
		}
		got, ok = rule.path.Get(r.Body) // the Mismatch keeps Got: a copy, not a view of a reused buffer
		m := &Mismatch{Rule: RuleJSON, Path: rule.path.src, Want: rule.want.Raw, Status: r.Status, Excerpt: excerpt(string(r.Body), ExcerptLen)}
		if ok {
			m.Got = got.Raw
		}
		return m
	}
	return nil
}

// StatusOK reports whether status is one the expectation accepts.
func (e *Expect) StatusOK(status int) bool {
	if len(e.status) == 0 {
		return status >= 200 && status <= 299
	}
	return slices.Contains(e.status, status)
}

// jsonEqual compares two JSON values as values, not text: 1 == 1.0 == 1e0, "a" != a, strings by their
// unescaped content, objects regardless of key order, arrays in order.
func jsonEqual(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case gjson.Null, gjson.True, gjson.False:
		return true
	case gjson.String:
		return a.Str == b.Str
	case gjson.Number:
		// Integers exactly (beyond 2^53 a float would call distinct ids equal), others as floats.
		x, errx := strconv.ParseInt(a.Raw, 10, 64)
		y, erry := strconv.ParseInt(b.Raw, 10, 64)
		if errx == nil && erry == nil {
			return x == y
		}
		return a.Num == b.Num
	}
	// JSON: an object or an array.
	if a.IsArray() != b.IsArray() {
		return false
	}
	if a.IsArray() {
		x, y := a.Array(), b.Array()
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	x, y := a.Map(), b.Map()
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || !jsonEqual(v, w) {
			return false
		}
	}
	return true
}
