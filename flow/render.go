package flow

import (
	"encoding/base64"
	"fmt"
	"slices"
)

// ContentTypeRaw is the Content-Type of a raw body whose step gives no Content-Type header.
const ContentTypeRaw = "application/octet-stream"

// Header is one rendered request header.
type Header struct{ Name, Value string }

// Rendered is one step rendered into a request: what the load engine and `chaosbench try` send. Keep
// one per virtual client (or per in-flight request) and pass it to Step.Render again: its buffers are
// reused, so Path, Headers and Body are valid only until the next Render into it.
type Rendered struct {
	// Path is the step's path with its query appended (names and values escaped as url.QueryEscape
	// does, in the step's order, after a "&" when the path already has a "?").
	Path []byte
	// Headers are the step's headers, then Authorization for basic; a Content-Type header is not among
	// them when the step has a body (it is ContentType).
	Headers []Header
	// Body is nil when the step has none.
	Body []byte
	// ContentType is the body's type: the step's Content-Type header when it gives one, else the body's
	// own (JSON, form), else ContentTypeRaw for a raw body; "" when there is no body.
	ContentType string

	body []byte // Body's buffer, kept when a step has no body
	val  []byte // scratch for header, query and basic values
}

// Render renders s into dst, reusing dst's buffers. Constant headers cost nothing; a templated header
// value and the basic Authorization are one string each. The error says which part failed.
func (s *Step) Render(dst *Rendered, env *Env) error {
	var err error
	p := dst.Path[:0]
	if s.Path != nil {
		if p, err = s.Path.Append(p, env); err != nil {
			return fmt.Errorf("path: %w", err)
		}
	}
	for i, q := range s.Query {
		if i == 0 && !slices.Contains(p, '?') {
			p = append(p, '?')
		} else {
			p = append(p, '&')
		}
		p = appendQueryEscapeString(p, q.Name)
		p = append(p, '=')
		if dst.val, err = q.Tmpl.Append(dst.val[:0], env); err != nil {
			dst.Path = p
			return fmt.Errorf("query %s: %w", q.Name, err)
		}
		p = AppendQueryEscape(p, dst.val)
	}
	dst.Path = p

	hs := dst.Headers[:0]
	ct := -1 // index in hs of a Content-Type header
	for _, h := range s.Headers {
		v := ""
		if h.Tmpl.IsConst() {
			v = h.Tmpl.String()
		} else {
			if dst.val, err = h.Tmpl.Append(dst.val[:0], env); err != nil {
				dst.Headers = hs
				return fmt.Errorf("header %s: %w", h.Name, err)
			}
			v = string(dst.val)
		}
		if ct < 0 && s.Body != nil && isContentType(h.Name) {
			ct = len(hs)
		}
		hs = append(hs, Header{Name: h.Name, Value: v})
	}
	if s.BasicUser != nil {
		b := dst.val[:0]
		if b, err = s.BasicUser.Append(b, env); err != nil {
			dst.Headers = hs
			return fmt.Errorf("basic.user: %w", err)
		}
		b = append(b, ':')
		if s.BasicPassword != nil {
			if b, err = s.BasicPassword.Append(b, env); err != nil {
				dst.Headers = hs
				return fmt.Errorf("basic.password: %w", err)
			}
		}
		dst.val = b
		hs = append(hs, Header{Name: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString(b)})
	}

	dst.Body, dst.ContentType = nil, ""
	if s.Body != nil {
		if dst.body, err = s.Body.Append(dst.body[:0], env); err != nil {
			dst.Headers = hs
			return fmt.Errorf("body: %w", err)
		}
		dst.Body = dst.body
		switch {
		case ct >= 0:
			// The step's Content-Type header is the body's type, sent once.
			dst.ContentType = hs[ct].Value
			hs = slices.Delete(hs, ct, ct+1)
		case s.BodyType != "":
			dst.ContentType = s.BodyType
		default:
			dst.ContentType = ContentTypeRaw
		}
	}
	dst.Headers = hs
	return nil
}

// isContentType reports whether a header name is Content-Type, in any case, without allocating.
func isContentType(name string) bool {
	const ct = "content-type"
	if len(name) != len(ct) {
		return false
	}
	for i := 0; i < len(ct); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != ct[i] {
			return false
		}
	}
	return true
}

// appendQueryEscapeString is AppendQueryEscape for a string.
func appendQueryEscapeString(dst []byte, s string) []byte { return appendQueryEscape(dst, s) }
