package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// ordered is a JSON object that keeps the document's order of properties.
type ordered []field

type field struct {
	key   string
	value any
}

// maxDepth bounds how deep a body is made from nested (or recursive) schemas.
const maxDepth = 5

func schemaOf(sp *base.SchemaProxy) *base.Schema {
	if sp == nil {
		return nil
	}
	return sp.Schema()
}

// sample is a value for schema sp: its example, const, default or first enum value if it has one, else a
// typed placeholder (a template the load renders per request).
func sample(sp *base.SchemaProxy, depth int) any { return sampleIn(sp, depth, nil) }

// sampleIn is sample with the $refs being expanded on the way here (a recursive schema stops at its
// second visit).
func sampleIn(sp *base.SchemaProxy, depth int, refs []string) any {
	if sp != nil && sp.IsReference() {
		refs = append(refs[:len(refs):len(refs)], sp.GetReference())
	}
	s := schemaOf(sp)
	if s == nil {
		return "{{random.hex 8}}"
	}
	for _, n := range []*yaml.Node{s.Example, s.Const, s.Default} {
		if n != nil {
			return clean(decodeNode(n))
		}
	}
	if len(s.Examples) > 0 && s.Examples[0] != nil {
		return clean(decodeNode(s.Examples[0]))
	}
	if len(s.Enum) > 0 && s.Enum[0] != nil {
		return clean(decodeNode(s.Enum[0]))
	}
	if len(s.AllOf) > 0 {
		merged := ordered{}
		for _, sub := range s.AllOf {
			if m, ok := sampleIn(sub, depth, refs).(ordered); ok {
				merged = append(merged, m...)
			}
		}
		if s.Properties != nil {
			merged = append(merged, object(s, depth, refs)...)
		}
		return merged
	}
	for _, alts := range [][]*base.SchemaProxy{s.OneOf, s.AnyOf} {
		if len(alts) > 0 {
			return sampleIn(alts[0], depth, refs)
		}
	}
	typ := ""
	for _, t := range s.Type {
		if t != "null" {
			typ = t
			break
		}
	}
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		if depth >= maxDepth {
			return ordered{}
		}
		return object(s, depth, refs)
	case "array":
		if depth >= maxDepth || s.Items == nil || !s.Items.IsA() || s.Items.A == nil {
			return []any{}
		}
		if recursive(s.Items.A, refs) {
			return []any{}
		}
		return []any{sampleIn(s.Items.A, depth+1, refs)}
	case "integer", "number":
		lo, hi := int64(1), int64(0)
		if s.Minimum != nil {
			lo = int64(math.Ceil(*s.Minimum))
		}
		if s.ExclusiveMinimum != nil && s.ExclusiveMinimum.IsB() {
			lo = int64(math.Floor(s.ExclusiveMinimum.B)) + 1
		}
		hi = lo + 99
		if s.Maximum != nil {
			hi = int64(math.Floor(*s.Maximum))
		}
		if s.ExclusiveMaximum != nil && s.ExclusiveMaximum.IsB() {
			hi = int64(math.Ceil(s.ExclusiveMaximum.B)) - 1
		}
		if hi < lo {
			hi = lo
		}
		return fmt.Sprintf("{{random.int %d %d}}", lo, hi)
	case "boolean":
		return true
	case "null":
		return nil
	}
	// string, or no type at all
	switch s.Format {
	case "uuid":
		return "{{uuid}}"
	case "date-time":
		return "2026-01-01T00:00:00Z"
	case "date":
		return "2026-01-01"
	case "email":
		return "u{{random.hex 8}}@example.com"
	case "uri", "url":
		return "https://example.com/{{random.hex 8}}"
	}
	n := int64(8)
	if s.MinLength != nil && *s.MinLength > n {
		n = min(*s.MinLength, 4096)
	}
	if s.MaxLength != nil && *s.MaxLength < n {
		n = max(*s.MaxLength, 1)
	}
	return fmt.Sprintf("{{random.hex %d}}", n)
}

// recursive reports whether sp is a $ref already being expanded.
func recursive(sp *base.SchemaProxy, refs []string) bool {
	return sp != nil && sp.IsReference() && slices.Contains(refs, sp.GetReference())
}

func object(s *base.Schema, depth int, refs []string) ordered {
	out := ordered{}
	if s.Properties == nil {
		return out
	}
	for name, p := range s.Properties.FromOldest() {
		if ps := schemaOf(p); ps != nil && ps.ReadOnly != nil && *ps.ReadOnly {
			continue // the server's to set
		}
		if recursive(p, refs) {
			continue // a recursive schema: left out rather than nested
		}
		out = append(out, field{key: name, value: sampleIn(p, depth+1, refs)})
	}
	return out
}

// decodeNode is a YAML node's value, mappings kept in order.
func decodeNode(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return decodeNode(n.Content[0])
		}
		return nil
	case yaml.AliasNode:
		return decodeNode(n.Alias)
	case yaml.MappingNode:
		out := ordered{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, field{key: n.Content[i].Value, value: decodeNode(n.Content[i+1])})
		}
		return out
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			out = append(out, decodeNode(c))
		}
		return out
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}

// clean makes an example safe as a template: "{{" has no escape in a template, so a string with one is
// replaced by a placeholder.
func clean(v any) any {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "{{") {
			return "TODO"
		}
	case ordered:
		for i := range x {
			x[i].value = clean(x[i].value)
		}
	case []any:
		for i := range x {
			x[i] = clean(x[i])
		}
	case map[string]any: // from Decode of an odd scalar: keep it as JSON text
		b, _ := json.Marshal(x)
		return string(b)
	}
	return v
}

// scalarString is v as the text of a template (a query or header value, a form field, a pick word).
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case ordered, []any:
		var b bytes.Buffer
		writeJSON(&b, x)
		return b.String()
	}
	return fmt.Sprint(v)
}

func exampleOf(p *v3.Parameter) *yaml.Node {
	if p.Example != nil {
		return p.Example
	}
	if p.Examples != nil {
		for _, ex := range p.Examples.FromOldest() {
			if ex != nil && ex.Value != nil {
				return ex.Value
			}
		}
	}
	if s := schemaOf(p.Schema); s != nil {
		if s.Example != nil {
			return s.Example
		}
		if len(s.Examples) > 0 {
			return s.Examples[0]
		}
	}
	return nil
}

// paramValue is a parameter's template: its example, else a value made from its schema; the second
// result is a TODO comment when the value was made up.
func paramValue(p *v3.Parameter) (string, string) {
	if ex := exampleOf(p); ex != nil {
		if s := scalarString(clean(decodeNode(ex))); s != "" {
			return s, ""
		}
	}
	v := scalarString(sample(p.Schema, maxDepth))
	if v == "" {
		v = "{{random.hex 8}}"
	}
	return v, "TODO: made up from the schema"
}

// writeJSON writes v as one line of JSON (which YAML reads as a flow value), object keys in order.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case ordered:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, f.key)
			b.WriteString(": ")
			writeJSON(b, f.value)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	default:
		writeJSONString(b, fmt.Sprint(x))
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
}
