package openapi

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// --- names -------------------------------------------------------------------------------------------

var (
	opNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)
	headerRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	camelRE   = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	notWordRE = regexp.MustCompile(`[^a-z0-9_-]+`)
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// opName is a valid op name from an operationId (createTicket -> create-ticket), else from the method
// and path (GET /counters/{name} -> get.counters.by-name).
func opName(id, method, path string) string {
	if n := cleanName(camelRE.ReplaceAllString(id, "$1-$2")); n != "" {
		return n
	}
	parts := []string{strings.ToLower(method)}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = "by-" + seg[1:len(seg)-1]
		}
		parts = append(parts, seg)
	}
	return cleanName(strings.Join(parts, "."))
}

func cleanName(s string) string {
	var segs []string
	for _, seg := range strings.Split(strings.ToLower(s), ".") {
		seg = strings.Trim(notWordRE.ReplaceAllString(seg, "-"), "-_")
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	n := strings.Join(segs, ".")
	if n != "" && (n[0] < 'a' || n[0] > 'z') {
		n = "op-" + n
	}
	if builtinOps[n] {
		n += "-api"
	}
	if n != "" && !opNameRE.MatchString(n) {
		return ""
	}
	return n
}

func uniqueName(n string, used map[string]bool) string {
	if n == "" {
		n = "op"
	}
	u := n
	for i := 2; used[u]; i++ {
		u = n + "-" + strconv.Itoa(i)
	}
	used[u] = true
	return u
}

var reserved = map[string]bool{"seq": true, "uuid": true, "pick": true, "add": true, "sub": true, "client": true,
	"run": true, "idempotency": true, "random": true}

// varName is a valid client variable name from a parameter's or header's name (X-Session-Token ->
// x_session_token).
func varName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := strings.Trim(b.String(), "_")
	if n == "" {
		n = "param"
	}
	if n[0] >= '0' && n[0] <= '9' {
		n = "p_" + n
	}
	if reserved[n] {
		n += "_param"
	}
	return n
}

// slug is a scenario name from the document's title.
func slug(title string) string {
	s := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if !nameRE.MatchString(s) {
		return "starter"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func appendUnique(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// quote writes s as a YAML double-quoted scalar (JSON's quoting, which YAML reads).
func quote(s string) string {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}
