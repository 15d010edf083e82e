package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// FieldError is one problem in a scenario file, positioned so that an
// editor can jump to it: "kill-node.yaml:12:11: faults[0].kind: ...".
type FieldError struct {
	File  string
	Line  int // 1-based; 0 when unknown
	Col   int
	Field string // e.g. faults[0].kind; empty for syntax errors
	Msg   string
}

func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file; validation reports all at once.
type Errors []FieldError

// sortByLine orders problems as they appear in the file.
func (es Errors) sortByLine() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
}

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// positioner resolves field paths to lines of the parsed file.
type positioner struct {
	file string
	ast  *ast.File
	errs Errors
}

// add records a problem with field, a dotted path such as
// "faults[0].kind" or "mix.profile.read" (map keys are quoted for lookup).
func (p *positioner) add(field, format string, args ...any) {
	line, col := p.pos(field)
	p.errs = append(p.errs, FieldError{File: p.file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// pos finds field's node, walking up to the nearest existing parent (a
// missing field is reported where its parent is).
func (p *positioner) pos(field string) (int, int) {
	if p.ast == nil {
		return 0, 0
	}
	segs := splitField(field)
	for n := len(segs); n > 0; n-- {
		path, err := yaml.PathString("$" + strings.Join(segs[:n], ""))
		if err != nil {
			continue
		}
		node, err := path.FilterFile(p.ast)
		if err != nil || node == nil {
			continue
		}
		tk := node.GetToken()
		if n < len(segs) {
			// The field itself is missing: point at the parent's key, which
			// is the line a person would edit.
			if m, ok := node.(*ast.MappingValueNode); ok {
				tk = m.Key.GetToken()
			}
		}
		if tk != nil {
			return tk.Position.Line, tk.Position.Column
		}
	}
	return 0, 0
}

// splitField turns "faults[0].params.percent" into path segments
// [".faults", "[0]", ".params", ".percent"]; a segment that is a map key
// containing dots (mix.profile.read) is passed whole with a quote.
func splitField(field string) []string {
	var segs []string
	// Keys of maps whose names contain dots are written key="..." by callers.
	for field != "" {
		switch {
		case strings.HasPrefix(field, "["):
			end := strings.IndexByte(field, ']')
			segs = append(segs, field[:end+1])
			field = strings.TrimPrefix(field[end+1:], ".")
		case strings.HasPrefix(field, `"`):
			end := strings.IndexByte(field[1:], '"') + 1
			segs = append(segs, ".'"+field[1:end]+"'")
			field = strings.TrimPrefix(field[end+1:], ".")
		default:
			end := strings.IndexAny(field, ".[")
			if end < 0 {
				segs = append(segs, "."+field)
				field = ""
				continue
			}
			segs = append(segs, "."+field[:end])
			field = strings.TrimPrefix(field[end:], ".")
		}
	}
	return segs
}

// yamlError converts a decoder error (syntax, unknown field, wrong type)
// into a positioned FieldError; with the parsed file (nil for a syntax
// error) it also names the field at that position.
func yamlError(file string, f *ast.File, err error) FieldError {
	fe := FieldError{File: file, Msg: err.Error()}
	if ye, ok := err.(yaml.Error); ok {
		fe.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil {
			fe.Line, fe.Col = tk.Position.Line, tk.Position.Column
			fe.Field = fieldAt(f, fe.Line, fe.Col)
			if tk.Prev != nil && strings.HasSuffix(tk.Prev.Value, "faults") && tk.Value == "[" {
				fe.Msg += " (" + flowFaultHint + ")"
			}
		}
	}
	if hint, ok := fieldHints[fe.Field+": "+fe.Msg]; ok {
		fe.Msg += " (" + hint + ")"
	}
	// Say what was expected in the file's terms, not in Go's.
	var te *yaml.TypeError
	if errors.As(err, &te) {
		want := map[reflect.Kind]string{
			reflect.Int: "a whole number", reflect.Int64: "a whole number", reflect.String: "a string",
			reflect.Bool: "true or false", reflect.Slice: "a list", reflect.Map: "a mapping", reflect.Struct: "a mapping",
		}[te.DstType.Kind()]
		if te.DstType.Kind() == reflect.Pointer {
			want = map[reflect.Kind]string{reflect.Int: "a whole number", reflect.Int64: "a whole number", reflect.Bool: "true or false"}[te.DstType.Elem().Kind()]
		}
		if want != "" {
			val := ""
			if te.Token != nil {
				val = fmt.Sprintf("%q ", te.Token.Value)
			}
			fe.Msg = fmt.Sprintf("value %sis of the wrong type: want %s", val, want)
		}
	}
	return fe
}

// fieldHints show the shape a field wants where a wrong one is a likely slip (by field and the decoder's
// message): a suite file's shared thresholds are a list, a scenario's are per architecture.
var fieldHints = map[string]string{
	"thresholds: sequence was used where mapping is expected": "want a mapping of architecture names, or all, to lists: thresholds: {all: [errors.rate < 1%]}",
}

// flowFaultHint explains the YAML syntax error of a fault threshold in a flow list: [faults[0].errors.rate
// < 5%] reads the selector's brackets as a nested list.
const flowFaultHint = "a threshold on one fault has brackets, faults[0] or faults[kill], which a [flow, list] reads as " +
	"its own: quote it, \"faults[0].errors.rate < 5%\", or write the list as block items, - faults[0].errors.rate < 5%"

// fieldAt is the path of the outermost node of f that starts at line:col, in the file's terms
// (thresholds, faults[0].params), or "" when none does: the decoder says what it expected at a
// token, and a person needs to know which field that was.
func fieldAt(f *ast.File, line, col int) string {
	if f == nil {
		return ""
	}
	best := ""
	for _, doc := range f.Docs {
		ast.Walk(visitFunc(func(n ast.Node) {
			tk := n.GetToken()
			if tk == nil || tk.Position.Line != line || tk.Position.Column != col {
				return
			}
			if p := strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), "."); p != "" && (best == "" || len(p) < len(best)) {
				best = p
			}
		}), doc)
	}
	return best
}

// visitFunc is an ast.Visitor that calls itself on every node.
type visitFunc func(ast.Node)

func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	v(n)
	return v
}
