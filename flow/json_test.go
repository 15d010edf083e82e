package flow

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestJSONBody(t *testing.T) {
	for _, tc := range []struct {
		body any
		want string
	}{
		// Constants only: folded into one literal, keys sorted.
		{map[string]any{"b": 1, "a": "x", "c": []any{true, nil, 1.5}}, `{"a":"x","b":1,"c":[true,null,1.5]}`},
		// One expression keeps its type: add gives a number.
		{map[string]any{"count": "{{add n 1}}"}, `{"count":42}`},
		// A captured JSON number stays a number, a captured object is inserted whole.
		{map[string]any{"n": "{{n}}", "o": "{{obj}}"}, `{"n":41,"o":{"a":[1,2]}}`},
		// An integer variable is a number; a text variable is a string.
		{[]any{"{{client.id}}", "{{user}}"}, `[7,"u7-run1"]`},
		// Text around an expression makes a string, even around a number.
		{map[string]any{"sku": "sku-{{add n 1}}"}, `{"sku":"sku-42"}`},
		// seq and random.int are numbers on their own.
		{[]any{"{{seq}}", "{{random.int 3 3}}"}, `[12,3]`},
		// pick is a string.
		{[]any{"{{pick a}}"}, `["a"]`},
		// A rendered value with quotes, backslash and newline is escaped.
		{map[string]any{"q": "<{{quote}}>"}, `{"q":"\u003csay \"hi\"\\n\u003e"}`},
		// Unicode goes through unescaped, in constants and in rendered text.
		{map[string]any{"ü": "naïve {{user}} ✓", "k": "日本"}, `{"k":"日本","ü":"naïve u7-run1 ✓"}`},
		// Control characters are \u escapes.
		{[]any{"a\x01{{seq}}"}, `["a\u000112"]`},
		// An ordered map keeps the file's order.
		{yaml.MapSlice{{Key: "z", Value: "{{seq}}"}, {Key: "a", Value: 1}}, `{"z":12,"a":1}`},
		// Nested structures with templates at several depths.
		{map[string]any{"items": []any{map[string]any{"id": "{{n}}", "qty": 2}}, "user": "{{user}}"}, `{"items":[{"id":41,"qty":2}],"user":"u7-run1"}`},
		// A scalar body.
		{"{{token}}", `"t0k"`},
	} {
		b, err := CompileJSON(tc.body)
		if err != nil {
			t.Fatalf("CompileJSON(%v): %v", tc.body, err)
		}
		got, err := b.Append(nil, testEnv())
		if err != nil {
			t.Errorf("Append(%v): %v", tc.body, err)
			continue
		}
		// Go's encoder escapes < and > where we do not; compare those rows through a decode.
		if strings.Contains(tc.want, `\u003c`) {
			var a, w any
			if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(tc.want), &w) != nil || !jsonSame(a, w) {
				t.Errorf("body %v = %s, want (as JSON) %s", tc.body, got, tc.want)
			}
			continue
		}
		if string(got) != tc.want {
			t.Errorf("body %v = %s, want %s", tc.body, got, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("body %v = %s: not valid JSON", tc.body, got)
		}
	}
}

func jsonSame(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestJSONBodyErrors(t *testing.T) {
	for _, tc := range []struct {
		body  any
		field string
		col   int
	}{
		// A bad template in a nested value names the path to it and the column in the string.
		{map[string]any{"items": []any{map[string]any{"sku": "x{{nope 1}}"}}}, "items[0].sku", 4},
		// A template in a key is refused.
		{map[string]any{"{{user}}": 1}, "{{user}}", 0},
		// A value of a type JSON has not.
		{map[string]any{"f": func() {}}, "f", 0},
		// A bad template at the top.
		{"{{", "(body)", 1},
	} {
		_, err := CompileJSON(tc.body)
		var fe *Error
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Col != tc.col {
			t.Errorf("CompileJSON(%v) = %v, want field %q col %d", tc.body, err, tc.field, tc.col)
		}
	}
}

func TestJSONBodyVars(t *testing.T) {
	b, err := CompileJSON(map[string]any{"a": "{{user}}", "b": []any{"{{add n 1}}", "{{user}}-{{token}}"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Vars(), []string{"user", "n", "token"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %v, want %v", got, want)
	}
}

func TestFormBody(t *testing.T) {
	for _, tc := range []struct {
		body any
		want string
	}{
		// Names sorted, values rendered and percent-encoded (space as +).
		{map[string]any{"user": "{{user}}", "note": "a b&c=d/é", "n": 3}, "n=3&note=a+b%26c%3Dd%2F%C3%A9&user=u7-run1"},
		// The file's order with an ordered map, and a rendered value that needs encoding.
		{yaml.MapSlice{{Key: "q", Value: "{{quote}}"}, {Key: "a b", Value: "{{seq}}"}}, "q=say+%22hi%22%5Cn&a+b=12"},
	} {
		f, err := CompileForm(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Append(nil, testEnv())
		if err != nil || string(got) != tc.want {
			t.Errorf("form %v = %s, %v; want %s", tc.body, got, err, tc.want)
		}
	}
	// A form is a map.
	if _, err := CompileForm([]any{"a"}); err == nil {
		t.Error("CompileForm of a list: no error")
	}
}
