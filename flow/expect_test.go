package flow

import (
	"errors"
	"strings"
	"testing"
)

func TestExpect(t *testing.T) {
	body := []byte(`{"state":"paid","n":1,"big":9007199254740993,"tags":["a","b"],"o":{"x":1,"y":[true,null]},"s":"1"}`)
	for _, tc := range []struct {
		spec   ExpectSpec
		status int
		rule   Rule   // "" when every rule holds
		got    string // Mismatch.Got
	}{
		// A listed status.
		{ExpectSpec{Status: []int{200, 201}}, 201, "", ""},
		// An unlisted one.
		{ExpectSpec{Status: []int{200, 201}}, 409, RuleStatus, "409"},
		// No list: any 2xx.
		{ExpectSpec{}, 204, "", ""},
		{ExpectSpec{}, 302, RuleStatus, "302"},
		// The status is checked before the body.
		{ExpectSpec{Status: []int{200}, JSON: map[string]any{"$.state": "nope"}}, 500, RuleStatus, "500"},
		// A string equal.
		{ExpectSpec{JSON: map[string]any{"$.state": "paid"}}, 200, "", ""},
		// A string different.
		{ExpectSpec{JSON: map[string]any{"$.state": "new"}}, 200, RuleJSON, `"paid"`},
		// Numbers as numbers: 1 == 1.0.
		{ExpectSpec{JSON: map[string]any{"$.n": 1.0}}, 200, "", ""},
		// "1" (a string) is not 1.
		{ExpectSpec{JSON: map[string]any{"$.s": 1}}, 200, RuleJSON, `"1"`},
		// Large integers compare exactly, not as floats.
		{ExpectSpec{JSON: map[string]any{"$.big": int64(9007199254740992)}}, 200, RuleJSON, "9007199254740993"},
		// An array in order.
		{ExpectSpec{JSON: map[string]any{"$.tags": []any{"a", "b"}}}, 200, "", ""},
		{ExpectSpec{JSON: map[string]any{"$.tags": []any{"b", "a"}}}, 200, RuleJSON, `["a","b"]`},
		// An object in any key order, nested values compared as JSON.
		{ExpectSpec{JSON: map[string]any{"$.o": map[string]any{"y": []any{true, nil}, "x": 1.0}}}, 200, "", ""},
		// An object with a key missing.
		{ExpectSpec{JSON: map[string]any{"$.o": map[string]any{"x": 1}}}, 200, RuleJSON, `{"x":1,"y":[true,null]}`},
		// A path that matches nothing: Got is empty.
		{ExpectSpec{JSON: map[string]any{"$.missing": nil}}, 200, RuleJSON, ""},
		// null matches null only.
		{ExpectSpec{JSON: map[string]any{"$.o.y[1]": nil}}, 200, "", ""},
		// [*] compares the list of values.
		{ExpectSpec{JSON: map[string]any{"$.o.y[*]": []any{true, nil}}}, 200, "", ""},
	} {
		e, err := CompileExpect(tc.spec)
		if err != nil {
			t.Fatalf("CompileExpect(%+v): %v", tc.spec, err)
		}
		m := e.Check(&Response{Status: tc.status, Body: body})
		switch {
		case tc.rule == "" && m != nil:
			t.Errorf("Check(%+v, %d) = %v, want nil", tc.spec, tc.status, m)
		case tc.rule != "" && (m == nil || m.Rule != tc.rule || m.Got != tc.got):
			t.Errorf("Check(%+v, %d) = %+v, want rule %s got %q", tc.spec, tc.status, m, tc.rule, tc.got)
		}
	}
}

// TestExpectAlreadyDone: an already_done status holds only on a retry after a lost answer.
func TestExpectAlreadyDone(t *testing.T) {
	signup := ExpectSpec{Status: []int{201}, AlreadyDone: []int{409}}
	for _, tc := range []struct {
		spec    ExpectSpec
		status  int
		retried bool // Response.Retried: an earlier attempt's answer was lost
		ok      bool
	}{
		// On a first answer: the 409 is somebody else's user, a mismatch.
		{signup, 409, false, false},
		// On a retry after a lost answer: the lost attempt did the work.
		{signup, 409, true, true},
		// The JSON rules are for the success body: not applied to it.
		{ExpectSpec{Status: []int{201}, AlreadyDone: []int{409}, JSON: map[string]any{"$.state": "new"}}, 409, true, true},
		// A retry answered with another status is judged as any answer.
		{signup, 400, true, false},
		{signup, 201, true, true},
	} {
		e, err := CompileExpect(tc.spec)
		if err != nil {
			t.Fatalf("CompileExpect(%+v): %v", tc.spec, err)
		}
		if m := e.Check(&Response{Status: tc.status, Body: []byte(`{"error":"username_taken"}`), Retried: tc.retried}); (m == nil) != tc.ok {
			t.Errorf("Check(%+v, %d, retried %v) = %v, want ok %v", tc.spec, tc.status, tc.retried, m, tc.ok)
		}
	}
}

func TestExpectMessage(t *testing.T) {
	e, _ := CompileExpect(ExpectSpec{Status: []int{200, 201}, JSON: map[string]any{"$.state": "paid"}})
	m := e.Check(&Response{Status: 200, Body: []byte(`{"state":"new"}`)})
	if want := `expect $.state == "paid", got "new" (status 200, body: "{\"state\":\"new\"}")`; m == nil || m.Error() != want {
		t.Errorf("message %v, want %s", m, want)
	}
	m = e.Check(&Response{Status: 503, Body: []byte(`busy`)})
	if want := `expect status [200, 201], got 503 (body: "busy")`; m == nil || m.Error() != want {
		t.Errorf("message %v, want %s", m, want)
	}
}

func TestCompileExpectErrors(t *testing.T) {
	for _, tc := range []struct {
		spec  ExpectSpec
		field string
		want  string
	}{
		// Not an HTTP status.
		{ExpectSpec{Status: []int{200, 2000}}, "expect.status[1]", "not an HTTP status"},
		// A path outside the subset.
		{ExpectSpec{JSON: map[string]any{"$..x": 1}}, "expect.json[$..x]", "recursive descent"},
		// A value JSON cannot hold.
		{ExpectSpec{JSON: map[string]any{"$.x": func() {}}}, "expect.json[$.x]", "not JSON"},
		// already_done: not an HTTP status.
		{ExpectSpec{AlreadyDone: []int{4090}}, "expect.already_done[0]", "not an HTTP status"},
		// already_done naming a status every answer is accepted with.
		{ExpectSpec{Status: []int{200, 201}, AlreadyDone: []int{409, 201}}, "expect.already_done[1]", "accepted on every answer"},
		// ... the default 2xx included.
		{ExpectSpec{AlreadyDone: []int{204}}, "expect.already_done[0]", "accepted on every answer"},
	} {
		_, err := CompileExpect(tc.spec)
		var fe *Error
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("CompileExpect(%+v) = %v, want %s %q", tc.spec, err, tc.field, tc.want)
		}
	}
}
