package openapi

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const ticketdeskSpec = "../examples/ticketdesk/openapi.yaml"

// starter makes a starter from a file and loads it with the scenario loader, as `chaosbench validate` does.
func starter(t *testing.T, path string, opts ...Option) (string, []string, scenarios.Plan) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	opts = append([]Option{WithSource(filepath.ToSlash(path)), WithBasePath(filepath.Dir(path))}, opts...)
	text, notes, err := Starter(raw, opts...)
	require.NoError(t, err)
	plan, err := scenarios.Parse("starter.yaml", text)
	require.NoError(t, err, "the starter must load:\n%s", text)
	return string(text), notes, plan
}

// TestOpenAPIGolden compares the ticketdesk starter with testdata/ticketdesk.golden.yaml
// (go test ./openapi -run TestOpenAPIGolden -update rewrites it).
func TestOpenAPIGolden(t *testing.T) {
	for _, tc := range []struct{ spec, golden string }{
		{ticketdeskSpec, "ticketdesk.golden.yaml"},
		{"testdata/petstore31.json", "petstore31.golden.yaml"},
	} {
		text, _, _ := starter(t, tc.spec)
		golden := filepath.Join("testdata", tc.golden)
		if *update {
			require.NoError(t, os.WriteFile(golden, []byte(text), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "go test ./openapi -run TestOpenAPIGolden -update writes it")
		require.Equal(t, string(want), text, "%s changed: review, then -update", golden)
	}
}

func TestOpenAPITicketdesk(t *testing.T) {
	text, notes, plan := starter(t, ticketdeskSpec)
	require.Equal(t, "ticketdesk", plan.Name)
	require.True(t, plan.Declared())
	require.NotNil(t, plan.Attach)
	require.Equal(t, "http://127.0.0.1:8080", plan.Attach.URL, "the document's server is on this machine")
	require.Equal(t, "/health", plan.Service.Health)

	ops := map[string]int{}
	for i, op := range plan.Ops {
		ops[op.Name] = i
	}
	for _, name := range []string{"health", "register-account", "login", "whoami", "logout", "create-ticket", "list-tickets", "get-counter", "put-counter"} {
		require.Contains(t, ops, name)
	}
	ticket := plan.Ops[ops["create-ticket"]]
	require.Equal(t, "X-Request-Token", ticket.IdempotencyHeader, "described as an idempotency key")
	require.Equal(t, "POST", ticket.Steps[0].Method)
	require.NotNil(t, ticket.Steps[0].Body)
	login := plan.Ops[ops["login"]]
	require.NotNil(t, login.Steps[0].BasicUser, "HTTP Basic becomes basic:")
	require.Len(t, plan.DeclaredMix, 8, "health is left out of the mix (weight 0), every other op weighs 1")
	for _, w := range plan.DeclaredMix {
		require.Equal(t, 1, w.Weight)
	}

	for _, want := range []string{
		`path: "/api/v2/counters/{{name}}"`,
		`"X-Session-Token": "{{x_session_token}}"`,
		`json: {"subject": "{{random.hex 8}}", "priority": "{{random.int 1 5}}"}`,
		`expect: {status: [201]}`,
		`capture: {x_session_token: {json: "$.session_token"}}`, // the commented login skeleton
		"# invariants:",
	} {
		require.Contains(t, text, want)
	}
	require.NotEmpty(t, notes)
}

// TestOpenAPI31 reads a 3.1 JSON document with a server elsewhere, a bearer scheme, a recursive schema,
// an enum path parameter, a built-in op's name as an operationId and a body that is not JSON.
func TestOpenAPI31(t *testing.T) {
	text, notes, plan := starter(t, "testdata/petstore31.json")
	require.Equal(t, "pet-store-remote", plan.Name)
	require.Equal(t, DefaultURL, plan.Attach.URL, "the document's server is not on this machine")
	require.Contains(t, text, "not on this machine")
	require.Contains(t, text, `path: "/v1/pets/{{petid}}/photos/{{pick thumb full}}"`, "the server's path prefixes every path")
	require.Contains(t, text, `"Authorization": "Bearer {{token}}"`)
	require.Contains(t, text, "order.create-api:", "a built-in op's name is not taken")
	require.Contains(t, text, "idempotency: {header: Idempotency-Key}")
	require.Contains(t, text, `"tags": ["{{uuid}}"]`)
	require.Contains(t, text, `"name": "Rex"`, "3.1 examples")
	require.NotContains(t, text, `"parent"`, "a recursive schema is not expanded")
	require.NotContains(t, text, "{{braces}}", "an example with {{ is not a template")
	require.Contains(t, text, `"species": "cat"`)
	require.NotContains(t, text, `"limit"`, "optional query parameters are left out")
	require.Contains(t, text, "# expect: {status: [200]}", "2XX: any 2xx")
	require.Contains(t, strings.Join(notes, "\n"), "image/png")
	require.Len(t, plan.Ops, 5)

	// --url replaces the document's server and its path prefix.
	text, _, plan = starter(t, "testdata/petstore31.json", WithURL("http://localhost:9000/base"))
	require.Equal(t, "http://localhost:9000", plan.Attach.URL)
	require.Contains(t, text, `path: "/base/pets"`)
}

func TestOpenAPIBadInput(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		return b
	}
	_, _, err := Starter(read("swagger2.yaml"))
	require.True(t, errors.Is(err, ErrNotOpenAPI3), "%v", err)
	require.Contains(t, err.Error(), "Swagger 2.0")

	_, _, err = Starter(read("broken.yaml"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "L7", "the library's line")

	_, _, err = Starter(read("nopaths.yaml"))
	require.ErrorContains(t, err, "no paths")

	_, _, err = Starter([]byte("just: yaml\n"))
	require.Error(t, err)

	_, _, err = Starter(read("nopaths.yaml"), WithURL("ftp://x"))
	require.ErrorContains(t, err, "--url")
}

func TestOpenAPINames(t *testing.T) {
	for _, tc := range []struct{ id, method, path, want string }{
		{"createTicket", "POST", "/tickets", "create-ticket"},
		{"getHTTPStatus", "GET", "/x", "get-httpstatus"},
		{"pets.list", "GET", "/pets", "pets.list"},
		{"order.create", "POST", "/orders", "order.create-api"},
		{"2fa_verify", "POST", "/2fa", "op-2fa_verify"},
		{"", "GET", "/api/v2/counters/{name}", "get.api.v2.counters.by-name"},
		{"..", "DELETE", "/", "delete"},
		{"Ünïcode op", "GET", "/u", "n-code-op"},
	} {
		require.Equal(t, tc.want, opName(tc.id, tc.method, tc.path), "%+v", tc)
	}
	used := map[string]bool{}
	require.Equal(t, "a", uniqueName("a", used))
	require.Equal(t, "a-2", uniqueName("a", used))
	require.Equal(t, "x_session_token", varName("X-Session-Token"))
	require.Equal(t, "seq_param", varName("seq"))
	require.Equal(t, "p_1id", varName("1id"))
	require.Equal(t, "starter", slug("ÜÜ"))
}

// TestOpenAPIFileRefs: a $ref to a file beside the document is read (WithBasePath).
func TestOpenAPIFileRefs(t *testing.T) {
	text, _, _ := starter(t, "testdata/refs/api.yaml")
	require.Contains(t, text, `json: {"size": "{{random.int 3 4}}"}`)
}

// TestOpenAPIUndeclaredPathParam: a path parameter the document forgot still becomes a variable, and the
// server's variables are filled with their defaults.
func TestOpenAPIUndeclaredPathParam(t *testing.T) {
	text, _, plan := starter(t, "testdata/undeclared.yaml")
	require.Equal(t, "http://localhost:9001", plan.Attach.URL)
	require.Contains(t, text, `path: "/api/items/{{itemid}}"`)
	require.Contains(t, text, "itemId is in the path but not declared")
}

// TestOpenAPIClashes: a header declared both as a parameter and by a security scheme is written once, and
// a path parameter and a credential that want the same variable get one each.
func TestOpenAPIClashes(t *testing.T) {
	text, _, _ := starter(t, "testdata/clash.yaml")
	require.Equal(t, 2, strings.Count(strings.ToLower(text), `"x-api-key":`), "one per op that sends it (a and c):\n%s", text)
	require.Contains(t, text, `"X-API-Key": "{{x_api_key}}"`)
	require.Contains(t, text, `path: "/a/{{token}}"`)
	require.Contains(t, text, `"Authorization": "Bearer {{token_auth}}"`)
	require.Contains(t, text, `path: "/c/{{x_api_key_param}}"`)
}

// TestOpenAPIUnresolvedRef: a $ref to nothing does not stop the starter; the notes name it with its line.
func TestOpenAPIUnresolvedRef(t *testing.T) {
	_, notes, plan := starter(t, "testdata/badref.yaml")
	require.Len(t, plan.Ops, 1)
	require.Contains(t, strings.Join(notes, "\n"), "the document, line 9: component `#/components/schemas/Nope` does not exist")
}
