package flow

import (
	"fmt"
	"strings"
)

// Error is a compile error: what is wrong, in which field and at which column of its string.
//
// flow knows neither the file nor the line: the scenario layer does (it holds the YAML node of the
// field), and turns Field and Col into file:line:col. Col counts characters (runes) from 1 within the
// string as the user wrote it, so that layer adds it to the string's own column.
type Error struct {
	// Field is where in the compiled value the mistake is: "json.items[0].sku", "capture.token",
	// "expect.json[$.state]"; empty for a bare template.
	Field string
	// Col is the 1-based column within the field's string; 0 when the mistake is not at a position
	// (a wrong type, a missing key).
	Col int
	// Msg says what is wrong, and what would be right when that is short.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Col > 0 {
		fmt.Fprintf(&b, "col %d: ", e.Col)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// inField returns err with field prefixed to its Field (field.sub, or field[..] when sub is an index).
func inField(err error, field string) error {
	e, ok := err.(*Error)
	if !ok {
		return &Error{Field: field, Msg: err.Error()}
	}
	c := *e
	switch {
	case c.Field == "":
		c.Field = field
	case strings.HasPrefix(c.Field, "["):
		c.Field = field + c.Field
	default:
		c.Field = field + "." + c.Field
	}
	return &c
}

func errorf(col int, format string, args ...any) *Error {
	return &Error{Col: col, Msg: fmt.Sprintf(format, args...)}
}
