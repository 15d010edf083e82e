package flow

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		col  int
		want string // a substring of the message
	}{
		// An unclosed expression is an error, not text: "{{token}" would otherwise be sent as is.
		{"Bearer {{token}", 8, "not closed"},
		// Nothing between the braces.
		{"a{{ }}b", 2, "empty expression"},
		// An unknown function is named, with the column of its name.
		{"x {{upper name}}", 5, `unknown function "upper"`},
		// random.* is a namespace of functions: an unknown one is not taken for a variable.
		{"{{random.float}}", 3, `unknown function "random.float"`},
		// Wrong arity: the column is the expression's.
		{"ab{{random.int 1}}", 3, "random.int takes 2 integers"},
		// seq takes nothing.
		{"{{seq 1}}", 1, "seq takes no arguments"},
		// pick needs at least one word.
		{"{{pick}}", 1, "pick takes 1 or more words"},
		// add takes exactly two operands.
		{"{{add n}}", 1, "add takes 2 operands"},
		// A non-integer literal: the column points at the argument itself.
		{"{{random.int 1 x}}", 16, `"x" is not an integer`},
		// random.hex's count is an integer too.
		{"{{random.hex 1.5}}", 14, `"1.5" is not an integer`},
		// Bounds in the wrong order.
		{"{{random.int 9 1}}", 14, "MIN 9 is above MAX 1"},
		// A hex length outside its range.
		{"{{random.hex 0}}", 14, "outside 1..4096"},
		// An operand of add that is neither a number nor a variable.
		{"{{add n 1.5}}", 9, `"1.5" is neither an integer nor a variable`},
		// A function name used as an operand is not a variable.
		{"{{sub seq 1}}", 7, `"seq" is neither`},
		// Not a variable name.
		{"{{a..b}}", 3, `"a..b" is not a variable name`},
		// Columns count characters, not bytes: é is one column.
		{"é{{1x}}", 4, `"1x" is not a variable name`},
		// The second expression's column.
		{"{{a}}/{{b c}}", 9, `unknown function "b"`},
	} {
		_, err := Compile(tc.src)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q) = %v, want an *Error", tc.src, err)
			continue
		}
		if fe.Col != tc.col || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("Compile(%q) = col %d %q, want col %d containing %q", tc.src, fe.Col, fe.Msg, tc.col, tc.want)
		}
	}
}

func testEnv() *Env {
	return &Env{
		Scope: Vars{
			"user":      String("u7-run1"),
			"token":     String("t0k"),
			"client.id": Int(7),
			"run.id":    String("run1"),
			"n":         JSON("41"),
			"five":      String("5"),
			"obj":       JSON(`{"a":[1,2]}`),
			"quote":     String(`say "hi"\n`),
			"word":      String("word"),
		},
		Rand: rand.New(rand.NewPCG(1, 2)),
		Seq:  12,
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string // exact, or a regexp when it starts with ^
	}{
		// No expression: the text as is.
		{"/v1/orders", "/v1/orders"},
		// Variables, dotted names included, between literals.
		{"/users/{{user}}/c{{client.id}}?r={{run.id}}", "/users/u7-run1/c7?r=run1"},
		// Spaces inside the braces do not matter.
		{"{{ token }}", "t0k"},
		// seq is the Env's sequence number.
		{"k-{{seq}}", "k-12"},
		// add on a captured JSON integer.
		{"{{add n 1}}", "42"},
		// sub with two variables, one of them text that is an integer.
		{"{{sub n five}}", "36"},
		// add of literals, negative included.
		{"{{add -3 1}}", "-2"},
		// Raw JSON renders as is in text.
		{"{{obj}}", `{"a":[1,2]}`},
		// uuid is a version 4 UUID.
		{"{{uuid}}", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		// random.hex N is N hex digits.
		{"{{random.hex 20}}", `^[0-9a-f]{20}$`},
		// random.int within its inclusive bounds.
		{"{{random.int 1 3}}", `^[123]$`},
		// random.int with one value.
		{"{{random.int 5 5}}", "5"},
		// pick one of the words.
		{"s/{{pick s1 s2 s3}}", `^s/s[123]$`},
		// A lone "}}" is text.
		{"a}}b", "a}}b"},
	} {
		tmpl, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		got, err := tmpl.Render(testEnv())
		if err != nil {
			t.Errorf("Render(%q): %v", tc.src, err)
			continue
		}
		if strings.HasPrefix(tc.want, "^") {
			if !regexp.MustCompile(tc.want).MatchString(got) {
				t.Errorf("Render(%q) = %q, want it to match %s", tc.src, got, tc.want)
			}
		} else if got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		env  *Env
		want string
	}{
		// A variable not in scope: validation should have caught it, but the message names it.
		{"x{{nope}}", testEnv(), "nope: variable not defined"},
		// add on text that is not an integer.
		{"{{add word 1}}", testEnv(), `word is "word": not an integer`},
		// Randomness without a Rand is refused, not drawn from the global source.
		{"{{uuid}}", &Env{}, "no Rand"},
		// A nil Env has no variables.
		{"{{user}}", nil, "user: variable not defined"},
		// Nor any Rand.
		{"{{seq}}{{random.hex 2}}", nil, "no Rand"},
	} {
		_, err := MustCompile(tc.src).Render(tc.env)
		var re *RenderError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q) = %v, want a RenderError containing %q", tc.src, err, tc.want)
		}
	}
}

func TestVars(t *testing.T) {
	tmpl := MustCompile("{{user}}/{{add n k}}/{{user}}/{{seq}}/{{client.id}}")
	if got, want := tmpl.Vars(), []string{"user", "n", "k", "client.id"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %v, want %v", got, want)
	}
}

// The same seed gives the same requests: randomness comes only from Env.Rand.
func TestRenderDeterministic(t *testing.T) {
	tmpl := MustCompile("{{uuid}} {{random.hex 9}} {{random.int 1 1000}} {{pick a b c d}}")
	a, _ := tmpl.Render(testEnv())
	b, _ := tmpl.Render(testEnv())
	if a != b {
		t.Errorf("same seed, different renders: %q and %q", a, b)
	}
}
