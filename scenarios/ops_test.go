package scenarios

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeclaredTicketdeskExample(t *testing.T) {
	raw, err := os.ReadFile("../examples/ticketdesk/ticketdesk.yaml")
	require.NoError(t, err)
	p, err := Parse("ticketdesk.yaml", raw)
	require.NoError(t, err)
	require.True(t, p.Declared())
	require.Empty(t, p.Mix, "no built-in op in the mix")
	require.Equal(t, []DeclaredWeight{{"counter.bump", 40}, {"ticket.create", 60}}, p.DeclaredMix)
	require.Len(t, p.Client.Vars, 2)
	require.Len(t, p.Client.Setup, 2)
	require.Equal(t, "token", p.Client.Session.Token)
	require.Equal(t, []int{401}, p.Client.Session.Unknown)
	require.Equal(t, []string{"counter.bump", "ticket.create"}, []string{p.Ops[0].Name, p.Ops[1].Name})
	require.Equal(t, "X-Request-Token", p.Ops[1].IdempotencyHeader)
	require.Equal(t, []int{412}, p.Ops[0].RestartOn)
	require.NotNil(t, p.Client.Setup[1].BasicUser)
	require.Len(t, p.Ops[0].Steps[0].Captures, 3)
}

// head is a valid start of a declared scenario: a client with a variable and a login that captures token.
const head = `name: x
phases: [{duration: 10s, rate: 10/s}]
client:
  vars: {user: "u{{client.id}}"}
  setup:
    - request: {method: POST, path: /login, json: {user: "{{user}}"}}
      capture: {token: {json: "$.token"}}
`

func TestDeclaredErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // each must appear in the error text
	}{
		// A variable nobody defines, at the column of its expression in the path (the string opens at column 38, its {{ is at 46).
		{"unknown variable", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: \"/items/{{item}}\"}\n",
			[]string{"bad.yaml:11:46:", "ops.a.b.steps[0].request.path:", "item: unknown variable"}},
		// A capture used before the step that sets it.
		{"capture before it is set", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: \"/x/{{id}}\"}\n      - request: {method: GET, path: /y}\n        capture: {id: {json: $.id}}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request.path:", "id: unknown variable"}},
		// A capture of one op is not another op's.
		{"capture of another op", head + "ops:\n  a.one:\n    steps:\n      - request: {method: GET, path: /y}\n        capture: {id: {json: $.id}}\n  a.two:\n    steps:\n      - request: {method: GET, path: \"/x/{{id}}\"}\n",
			[]string{"bad.yaml:15:", "ops.a.two.steps[0].request.path:", "id: unknown variable"}},
		// idempotency.key only where the op declares idempotency.
		{"idempotency.key without idempotency", head + "ops:\n  a.b:\n    steps:\n      - request: {method: POST, path: /t, headers: {K: \"{{idempotency.key}}\"}}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request.headers.K:", "declares no idempotency"}},
		// An unknown template function, at its name within the string (column 44 of the file).
		{"unknown function", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: \"/c/{{pik a b}}\"}\n",
			[]string{"bad.yaml:11:44:", "ops.a.b.steps[0].request.path:", `unknown function "pik"`}},
		// An unclosed expression.
		{"unclosed", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: \"/c/{{token}\"}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request.path:"}},
		// A JSON path outside the subset in a capture.
		{"bad capture path", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n        capture: {n: {json: \"$.items[\"}}\n",
			[]string{"bad.yaml:12:", "ops.a.b.steps[0].capture.n.json:"}},
		// A capture with two sources.
		{"capture with two sources", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n        capture: {n: {json: $.n, header: ETag}}\n",
			[]string{"bad.yaml:12:", "ops.a.b.steps[0].capture.n:", "exactly one of json, header, status"}},
		// An expected status that is not one.
		{"bad expect status", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n        expect: {status: [2000]}\n",
			[]string{"bad.yaml:12:", "ops.a.b.steps[0].expect.status[0]:", "not an HTTP status"}},
		// Two bodies.
		{"two bodies", head + "ops:\n  a.b:\n    steps:\n      - request: {method: POST, path: /c, json: {a: 1}, body: x}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request:", "at most one body"}},
		// A method in lower case.
		{"bad method", head + "ops:\n  a.b:\n    steps:\n      - request: {method: get, path: /c}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request.method:", `"get"`}},
		// A path without its slash.
		{"relative path", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: c}\n",
			[]string{"bad.yaml:11:", "ops.a.b.steps[0].request.path:", "starting with /"}},
		// A built-in op weighted beside a client section: it would run without the contract's session.
		{"built-in op with a client", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n" +
			"mix: {a.b: 1, order.create: 2}\n",
			[]string{"bad.yaml:12:29:", `mix."order.create":`, "is a built-in op"}},
		// The same with declared ops and no client section.
		{"built-in op with ops", "name: x\nphases: [{duration: 10s, rate: 10/s}]\nops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n" +
			"mix: {a.b: 1, profile.read: 1}\n",
			[]string{"bad.yaml:7:29:", `mix."profile.read":`, "is a built-in op"}},
		// A client section and no ops: the default mix would be the built-in ops.
		{"client without ops", head,
			[]string{"bad.yaml:4:", "client:", "no ops"}},
		// A declared op named like a built-in one.
		{"clashes with a built-in", head + "ops:\n  order.create:\n    steps:\n      - request: {method: GET, path: /c}\n",
			[]string{"bad.yaml:9:3:", "ops.order.create:", "is a built-in op"}},
		// An op with no steps.
		{"no steps", head + "ops:\n  a.b: {restart_on: [412]}\n",
			[]string{"bad.yaml:9:3:", "ops.a.b:", "at least one step", "at least one step"}},
		// A field the schema does not have.
		{"unknown field", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n        expext: {status: [200]}\n",
			[]string{"bad.yaml:12:", `unknown field "expext"`}},
		// A client variable may read only the built-ins (the map has no order).
		{"var reads var", "name: x\nphases: [{duration: 10s, rate: 10/s}]\nclient:\n  vars: {a: x, b: \"{{a}}\"}\n",
			[]string{"bad.yaml:4:", "client.vars.b:", "client variables may read only client.id and run.id"}},
		// The session's token must be a variable the client has.
		{"session token unknown", head + "  session: {token: tok, unknown: [401]}\n",
			[]string{"bad.yaml:8:", "client.session.token:", `"tok"`}},
		{"session lifetime", head + "  session: {token: token, lifetime: forever}\n",
			[]string{"bad.yaml:8:", "client.session.lifetime:", "forever"}},
		// restart_on statuses are statuses.
		{"bad restart_on", head + "ops:\n  a.b:\n    restart_on: [4120]\n    steps:\n      - request: {method: GET, path: /c}\n",
			[]string{"bad.yaml:10:", "ops.a.b.restart_on[0]:"}},
		// The op's idempotency header is set by the op, not by a step.
		{"idempotency header set by hand", head + "ops:\n  a.b:\n    idempotency: {header: X-Key}\n    steps:\n      - request: {method: POST, path: /c, headers: {X-Key: abc}}\n",
			[]string{"bad.yaml:12:", "ops.a.b.steps[0].request.headers.X-Key:", "sets X-Key itself"}},
		// A mix that names neither a declared nor a built-in op.
		{"mix unknown op", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\nmix: {a.c: 1}\n",
			[]string{"bad.yaml:12:", "mix.", `unknown operation "a.c"`}},
		// A bad think time.
		{"bad think", head + "ops:\n  a.b:\n    steps:\n      - request: {method: GET, path: /c}\n        think: soon\n",
			[]string{"bad.yaml:12:", "ops.a.b.steps[0].think:", "soon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.yaml))
			require.Error(t, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestDeclaredAllowed: what a step may read.
func TestDeclaredAllowed(t *testing.T) {
	y := head + `ops:
  a.b:
    idempotency: {header: X-Key}
    steps:
      - request: {method: GET, path: "/x/{{client.id}}/{{run.id}}/{{seq}}/{{uuid}}", query: {u: "{{user}}"}, headers: {T: "{{token}}", K2: "{{idempotency.key}}"}}
        capture: {id: {json: $.id}}
      - request: {method: PUT, path: "/x/{{id}}", form: {a: "{{add id 1}}"}, basic: {user: "{{user}}", password: p}}
        think: 10ms
mix: {a.b: 3, order.create: 0}
`
	p, err := Parse("ok.yaml", []byte(y))
	require.NoError(t, err)
	require.Len(t, p.Ops, 1)
	require.Equal(t, []DeclaredWeight{{"a.b", 3}}, p.DeclaredMix)
}

// TestEngineMixAndClient: what the load engine is given for a declared scenario (its declared ops by
// their weights, its client section) and for a built-in one (the mix as it was, no client section).
func TestEngineMixAndClient(t *testing.T) {
	raw, err := os.ReadFile("../examples/ticketdesk/ticketdesk.yaml")
	require.NoError(t, err)
	p, err := Parse("ticketdesk.yaml", raw)
	require.NoError(t, err)
	m := p.EngineMix()
	require.Len(t, m, 2)
	require.Equal(t, "counter.bump", m[0].Op.Name())
	require.Equal(t, 40, m[0].Weight)
	require.Equal(t, "ticket.create", m[1].Op.Name())
	require.Same(t, p.Client, p.EngineClient())

	// Ops without a client section: clients get an empty one (client.id, run.id; no built-in sign-up).
	p.Client = nil
	require.NotNil(t, p.EngineClient())
	require.Empty(t, p.EngineClient().Setup)

	b, err := Parse("b.yaml", []byte("name: b\nphases: [{duration: 10s, rate: 10/s}]\n"))
	require.NoError(t, err)
	require.Nil(t, b.EngineClient())
	require.Equal(t, b.Mix, b.EngineMix())
}
