package flow

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Response is what captures and expectations read: the status, the headers and the raw body bytes.
// Nothing decodes the body as a whole: each path is a gjson lookup on the bytes.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Retried: the answer is to a retry after an attempt whose effect is unknown (its answer was lost to
	// a timeout, a reset or a 5xx), so the work may be done already (ExpectSpec.AlreadyDone).
	Retried bool
}

// Path is a JSONPath of the subset flow accepts, translated once to a gjson path.
type Path struct {
	src   string // as the user wrote it
	gjson string
}

// CompilePath translates a JSONPath to gjson's syntax. The subset:
//
//	$                  the whole body
//	$.a.b              members (letters, digits, _, -)
//	$['weird key']     any member name, in single or double quotes (\' and \\ escape)
//	$.items[0].id      an array index
//	$.items[*].id      every element's id, as one JSON array
//
// Refused, with the column: recursive descent (..), filters ([?(...)]), slices ([1:3]), negative
// indexes, unions ([0,1]) and anything not starting with $. Each has no faithful gjson form, and a
// path that silently matched something else would make a capture or an invariant lie.
func CompilePath(src string) (Path, error) {
	if !strings.HasPrefix(src, "$") {
		return Path{}, errorf(1, "a JSON path starts with $ (got %q)", src)
	}
	var parts []string
	i := 1
	for i < len(src) {
		switch src[i] {
		case '.':
			if i+1 < len(src) && src[i+1] == '.' {
				return Path{}, errorf(i+1, "recursive descent (..) is not supported: name the path from $")
			}
			j := i + 1
			for j < len(src) && isMemberByte(src[j]) {
				j++
			}
			if j == i+1 {
				if j < len(src) && src[j] == '*' {
					return Path{}, errorf(j+1, "use [*] for every element")
				}
				return Path{}, errorf(j+1, "a member name is expected after '.' (use ['...'] for other characters)")
			}
			parts = append(parts, gjson.Escape(src[i+1:j]))
			i = j
		case '[':
			end, part, err := bracket(src, i)
			if err != nil {
				return Path{}, err
			}
			parts = append(parts, part)
			i = end
		default:
			return Path{}, errorf(i+1, "unexpected %q: a path goes on with .name, ['name'], [N] or [*]", src[i])
		}
	}
	// gjson's "#" maps over elements; a trailing one would count them instead: "every element" of an
	// array at the end is the array itself.
	for len(parts) > 0 && parts[len(parts)-1] == "#" {
		parts = parts[:len(parts)-1]
	}
	g := strings.Join(parts, ".")
	if g == "" {
		g = "@this"
	}
	return Path{src: src, gjson: g}, nil
}

// MustPath is CompilePath for paths known good; it panics on an error.
func MustPath(src string) Path {
	p, err := CompilePath(src)
	if err != nil {
		panic(err)
	}
	return p
}

func isMemberByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// bracket reads [N], [*] or ['name'] at src[i] and returns the offset after it and its gjson part.
func bracket(src string, i int) (int, string, error) {
	rest := src[i+1:]
	if rest == "" {
		return 0, "", errorf(i+1, "'[' is not closed")
	}
	if q := rest[0]; q == '\'' || q == '"' {
		var name strings.Builder
		for j := 1; j < len(rest); j++ {
			c := rest[j]
			if c == '\\' && j+1 < len(rest) {
				j++
				name.WriteByte(rest[j])
				continue
			}
			if c == q {
				if j+1 >= len(rest) || rest[j+1] != ']' {
					return 0, "", errorf(i+1+j+2, "a quoted name is closed by %c]", q)
				}
				return i + 1 + j + 2, gjson.Escape(name.String()), nil
			}
			name.WriteByte(c)
		}
		return 0, "", errorf(i+1, "the quoted name is not closed")
	}
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return 0, "", errorf(i+1, "'[' is not closed")
	}
	in := rest[:j]
	c := i + 2 // column of what is inside the brackets
	switch {
	case in == "*":
		return i + 1 + j + 1, "#", nil
	case strings.HasPrefix(in, "?"):
		return 0, "", errorf(c, "filters ([?(...)]) are not supported: capture the array with [*] and check it after")
	case strings.Contains(in, ":"):
		return 0, "", errorf(c, "slices ([a:b]) are not supported: use one index or [*]")
	case strings.Contains(in, ","):
		return 0, "", errorf(c, "unions ([a,b]) are not supported: capture each index on its own")
	}
	n, err := strconv.Atoi(in)
	if err != nil || n < 0 || in[0] == '+' {
		return 0, "", errorf(c, "%q is not an index: use [N] with N >= 0, [*] or ['name']", in)
	}
	return i + 1 + j + 1, strconv.Itoa(n), nil
}

// String is the path as the user wrote it.
func (p Path) String() string { return p.src }

// GJSON is the translated gjson path.
func (p Path) GJSON() string { return p.gjson }

// Get looks the path up in body. ok is false when nothing matches.
func (p Path) Get(body []byte) (gjson.Result, bool) {
	r := gjson.GetBytes(body, p.gjson)
	return r, r.Exists()
}

// peek looks the path up without copying the result out of body: for a comparison done before body
// is reused (expectations). The Result must not outlive body.
func (p Path) peek(body []byte) (gjson.Result, bool) {
	r := gjson.Get(unsafe.String(unsafe.SliceData(body), len(body)), p.gjson)
	return r, r.Exists()
}

// CaptureSpec is one capture as the scenario declares it: exactly one source.
//
//	capture: {token: {json: "$.token"}, etag: {header: ETag}, code: {status: true}}
type CaptureSpec struct {
	JSON   string `yaml:"json,omitempty"`
	Header string `yaml:"header,omitempty"`
	Status bool   `yaml:"status,omitempty"`
}

// Capture is a compiled capture: one value read from a response into a variable.
type Capture struct {
	Name   string
	path   Path
	header string // canonical form, so the lookup in http.Header needs no canonicalisation per request
	status bool
}

// CompileCapture compiles the capture named name. A spec with no source or several is an error, as is a
// path outside the subset (Field "capture.NAME.json", Col within the path).
func CompileCapture(name string, spec CaptureSpec) (*Capture, error) {
	field := "capture." + name
	if !isVarName(name) || isReserved(name) {
		return nil, &Error{Field: field, Msg: fmt.Sprintf("%q cannot be a variable name (letters, digits, _ and -; not a function's name)", name)}
	}
	n := 0
	for _, set := range []bool{spec.JSON != "", spec.Header != "", spec.Status} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, &Error{Field: field, Msg: fmt.Sprintf("give exactly one of json, header, status (got %d)", n)}
	}
	c := &Capture{Name: name, status: spec.Status, header: http.CanonicalHeaderKey(spec.Header)}
	if spec.JSON != "" {
		p, err := CompilePath(spec.JSON)
		if err != nil {
			return nil, inField(err, field+".json")
		}
		c.path = p
	}
	return c, nil
}

// CaptureError is a capture that found nothing: a failed request of kind capture_failed for the load,
// and for `chaosbench try` enough to see why (the path and the start of the body).
type CaptureError struct {
	Capture string
	Source  string // "json $.token", "header ETag"
	Status  int
	Excerpt string // the body's first bytes
}

func (e *CaptureError) Error() string {
	return fmt.Sprintf("capture %s: %s matched nothing (status %d, body: %q)", e.Capture, e.Source, e.Status, e.Excerpt)
}

// ExcerptLen is how much of a body errors show.
const ExcerptLen = 200

// Excerpt is the start of body as errors show it (ExcerptLen bytes, cut on a rune).
func Excerpt(body []byte) string { return excerpt(string(body), ExcerptLen) }

// Extract reads the capture's value from r. A JSON string becomes text (unquoted: it renders bare in a
// path, quoted in a body); any other JSON value (a number above all) stays raw JSON, so that
// "{{add n 1}}" and "{{n}}" in a JSON body keep it a number. [*] gives a JSON array.
func (c *Capture) Extract(r *Response) (Value, error) {
	switch {
	case c.status:
		return Int(int64(r.Status)), nil
	case c.header != "":
		// Direct map access: the key is canonical already, and Header.Get would canonicalise again.
		if vs := r.Header[c.header]; len(vs) > 0 {
			return String(vs[0]), nil
		}
		return Value{}, c.fail(r, "header "+c.header)
	}
	res, ok := c.path.Get(r.Body)
	if !ok {
		return Value{}, c.fail(r, "json "+c.path.src)
	}
	return resultValue(res), nil
}

func resultValue(res gjson.Result) Value {
	if res.Type == gjson.String {
		return String(res.Str)
	}
	return JSON(res.Raw)
}

func (c *Capture) fail(r *Response, source string) error {
	return &CaptureError{Capture: c.Name, Source: source, Status: r.Status, Excerpt: excerpt(string(r.Body), ExcerptLen)}
}

// Source says where the capture reads from, as the user wrote it.
func (c *Capture) Source() string {
	switch {
	case c.status:
		return "status"
	case c.header != "":
		return "header " + c.header
	}
	return "json " + c.path.src
}
