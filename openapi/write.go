package openapi

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// write renders the starter: a header saying what was generated and what to fill in, then the scenario.
func (g *gen) write() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	src := g.cfg.source
	if src == "" {
		src = "an OpenAPI document"
	}
	ver := ""
	if g.version != "" {
		ver = " " + g.version
	}
	oas := g.doc.Version
	w("# A starter scenario, written by `chaosbench init --openapi %s`\n", src)
	weights := "every op weighs 1 in mix"
	if g.health != "" && len(g.ops) > 1 {
		weights += " (the health check 0)"
	}
	w("# from %q%s (OpenAPI %s): one op per operation (%d); %s.\n", g.title, ver, oas, len(g.ops), weights)
	w("# It loads (`chaosbench validate`), but the document could not say everything; before\n")
	w("# `chaosbench try` and `chaosbench run`, fill in what the TODO comments name:\n")
	w("#   - client.vars: credentials, tokens and ids that exist on your API (or client.setup steps\n")
	w("#     that create them and capture them; a commented login skeleton is under client:);\n")
	w("#   - request bodies and parameters: made up from the schemas (random strings and numbers in\n")
	w("#     range); put values your API accepts, and chain ops with captures where one needs another;\n")
	w("#   - expect: the documented 2xx statuses; mix and phases: the load you want;\n")
	w("#   - invariants: what must hold after the load (commented at the end; not generated).\n")
	w("# docs/scenarios.md (\"Your own API\") describes every field.\n")
	w("name: %s\n", g.name)
	w("description: %s\n", quote(fmt.Sprintf("Starter for %s%s, generated from its OpenAPI document (%s); edit before running.", g.title, ver, src)))
	target := "{url: " + g.target
	if g.health != "" {
		target += ", health: " + g.health
	}
	target += "}"
	if g.targetNote != "" {
		target += "   # " + g.targetNote
	} else if g.health == "" {
		target += "   # health: the readiness path run probes (default /readyz)"
	}
	w("target: %s\n", target)
	w("clients: 10                                # TODO: how many virtual clients\n")
	w("phases: [{duration: 30s, rate: 20/s}]      # TODO: the load you want (rate, or from/to for a ramp)\n")

	if len(g.vars) > 0 || len(g.tokenVars) > 0 {
		w("client:\n")
		w("  vars:                                    # once per client; may read client.id and run.id only\n")
		for _, v := range g.vars {
			w("    %s: %s", v.name, quote(v.value))
			c := v.comment
			if len(v.usedBy) > 0 {
				c += " (path of " + strings.Join(v.usedBy, ", ") + ")"
			}
			if c != "" {
				w("   # %s", c)
			}
			w("\n")
		}
		g.writeLoginSkeleton(&b)
	}

	w("ops:\n")
	for _, o := range g.ops {
		g.writeOp(&b, o)
	}

	w("mix:                                       # TODO: the weights you want (a weight of 0 leaves an op out)\n")
	onlyHealth := true
	for _, o := range g.ops {
		if !o.health {
			onlyHealth = false
		}
	}
	for _, o := range g.ops {
		if o.health && !onlyHealth {
			w("  %s: 0   # a health check: target.health probes it\n", o.name)
			continue
		}
		if o.method == "DELETE" {
			w("  %s: 1   # TODO: it deletes; under load, what the other ops use goes too\n", o.name)
			continue
		}
		w("  %s: 1\n", o.name)
	}

	w("\n")
	w("# invariants:   TODO: what must hold once the load is over (docs/scenarios.md, \"Invariants\"). Not\n")
	w("#   generated: the document says what each operation accepts and answers, not what your API promises\n")
	w("#   across them. An op that creates records its idempotency key into a set, one that increments\n")
	w("#   records which counter, e.g. record: {set: items} or record: {counter: counts, key: \"{{name}}\"},\n")
	w("#   and each is read back through the API after the load:\n")
	w("#   - set: items\n")
	w("#     read:\n")
	w("#       request: {method: GET, path: /items}\n")
	w("#       elements: \"$.items[*].idempotency_key\"       # where the listing shows each op's key\n")
	w("#       next: {json: \"$.next_cursor\", query: cursor}  # when it pages\n")
	w("#   - counter: counts\n")
	w("#     read: {request: {method: GET, path: \"/counters/{{counter.key}}\"}, value: \"$.count\"}\n")
	return b.Bytes()
}

// writeLoginSkeleton writes a commented client.setup that logs in and captures the token into the
// variable the ops send, made from the operation that looks like a login when there is one.
func (g *gen) writeLoginSkeleton(b *bytes.Buffer) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	into := "token"
	if len(g.tokenVars) > 0 {
		into = g.tokenVars[0]
	}
	method, path, status, prop := "POST", "/login", 200, "token"
	auth := ", json: {user: \"{{username}}\", password: \"{{password}}\"}"
	what := "TODO: your API's login"
	if l := g.login; l != nil {
		method, path, status, prop = l.method, l.path, l.status, l.prop
		if l.basic {
			auth = fmt.Sprintf(", basic: {user: \"{{%s}}\", password: \"{{%s}}\"}", l.user, l.pass)
		}
		what = "made from " + l.method + " " + l.path + ", whose answer has " + l.prop
	}
	if len(g.tokenVars) == 0 && g.login == nil {
		return
	}
	w("  # setup:                                # once per client, before its ops: log in and capture the token\n")
	w("  #   - name: login                        # (%s)\n", what)
	w("  #     request: {method: %s, path: %s%s}\n", method, path, auth)
	w("  #     expect: {status: [%d]}\n", status)
	w("  #     capture: {%s: {json: \"$.%s\"}}   # then delete %s from vars above\n", into, prop, into)
	w("  # session: {token: %s, unknown: [401]}   # which variable is the session, which status means it is gone\n", into)
}

func (g *gen) writeOp(b *bytes.Buffer, o *op) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	head := o.method + " " + g.prefix + o.docPath
	if o.summary != "" {
		head += ": " + o.summary
	}
	w("  %s:   # %s\n", o.name, oneLine(head))
	for _, t := range o.todos {
		w("    # %s\n", oneLine(t))
	}
	if len(o.optional) > 0 {
		w("    # left out (optional): %s\n", strings.Join(o.optional, ", "))
	}
	if o.idemHeader != "" {
		w("    idempotency: {header: %s}   # a fresh key per logical op, the same on its retries\n", o.idemHeader)
	}
	w("    steps:\n")
	w("      - request:\n")
	w("          method: %s\n", o.method)
	w("          path: %s\n", quote(o.path))
	writeNamed(b, "query", o.query)
	writeNamed(b, "headers", o.headers)
	if o.basic {
		w("          basic: {user: \"{{%s}}\", password: \"{{%s}}\"}\n", o.basicUser, o.basicPassword)
	}
	switch o.bodyKey {
	case "json", "form":
		var jb bytes.Buffer
		writeJSON(&jb, o.body)
		w("          %s: %s", o.bodyKey, jb.String())
		if hasPlaceholder(o.body) {
			w("   # TODO: made up from the schema")
		}
		w("\n")
	case "body":
		w("          body: %s\n", quote(scalarString(o.body)))
	}
	if len(o.statuses) > 0 {
		s := make([]string, len(o.statuses))
		for i, n := range o.statuses {
			s[i] = strconv.Itoa(n)
		}
		w("        expect: {status: [%s]}\n", strings.Join(s, ", "))
	} else {
		w("        # expect: {status: [200]}   # the document names no single 2xx status: any 2xx is expected\n")
	}
}

func writeNamed(b *bytes.Buffer, key string, list []named) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(b, "          %s:\n", key)
	for _, n := range list {
		fmt.Fprintf(b, "            %s: %s", quote(n.name), quote(n.value))
		if n.comment != "" {
			fmt.Fprintf(b, "   # %s", oneLine(n.comment))
		}
		b.WriteString("\n")
	}
}

func hasPlaceholder(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{random.") || x == "TODO"
	case ordered:
		for _, f := range x {
			if hasPlaceholder(f.value) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasPlaceholder(e) {
				return true
			}
		}
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
