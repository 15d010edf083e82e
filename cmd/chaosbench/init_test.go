package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/scenarios"
)

const ticketdeskOpenAPI = "../../examples/ticketdesk/openapi.yaml"

// TestInitTicketdesk writes the starter of the bundled example's OpenAPI document and loads it as
// `chaosbench validate` does.
func TestInitTicketdesk(t *testing.T) {
	out := filepath.Join(t.TempDir(), "desk.yaml")
	msg, err := execCLI(t, "init", "--openapi", ticketdeskOpenAPI, "-o", out)
	require.NoError(t, err, msg)
	require.Contains(t, msg, "it loads as a scenario")
	require.Contains(t, msg, "chaosbench try "+out)
	plan, err := scenarios.Load(out)
	require.NoError(t, err)
	require.True(t, plan.Declared())
	require.Len(t, plan.Ops, 9)

	msg, err = execCLI(t, "validate", out)
	require.NoError(t, err, msg)

	// an existing -o is not replaced without --force
	_, err = execCLI(t, "init", "--openapi", ticketdeskOpenAPI, "-o", out)
	require.ErrorContains(t, err, "exists: give --force")
	require.Equal(t, exitBadInput, exitCode(err))
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
	_, err = execCLI(t, "init", "--openapi", ticketdeskOpenAPI, "-o", out, "--force", "--url", "http://127.0.0.1:9090")
	require.NoError(t, err)
	plan, err = scenarios.Load(out)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9090", plan.Attach.URL)
}

// TestInitStdout: without -o the starter goes to stdout, the notes to stderr.
func TestInitStdout(t *testing.T) {
	root := newRootCmd()
	var stdout, stderr strings.Builder
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"init", "--openapi", ticketdeskOpenAPI})
	require.NoError(t, root.Execute())
	require.True(t, strings.HasPrefix(stdout.String(), "# A starter scenario"), stdout.String())
	require.NotContains(t, stdout.String(), "init: wrote")
	require.Contains(t, stderr.String(), "init: wrote the starter")
	_, err := scenarios.Parse("stdout.yaml", []byte(stdout.String()))
	require.NoError(t, err)
}

func TestInitBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"init"}, []string{"--openapi SPEC is required"}},
		{[]string{"init", "--openapi", filepath.Join(dir, "missing.yaml")}, []string{"missing.yaml: no such file"}},
		{[]string{"init", "--openapi", write("swagger.yaml", "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\npaths: {}\n")},
			[]string{"swagger.yaml: not an OpenAPI 3 document", "Swagger 2.0"}},
		{[]string{"init", "--openapi", write("bad.yaml", "openapi: 3.0.3\ninfo:\n  title: [t\n")}, []string{"bad.yaml: not a readable OpenAPI document", "L3"}},
		{[]string{"init", "--openapi", ticketdeskOpenAPI, "--url", "nope"}, []string{"--url"}},
		{[]string{"init", "extra", "--openapi", ticketdeskOpenAPI}, []string{"unknown command"}},
	} {
		_, err := execCLI(t, tc.args...)
		require.Error(t, err, "%v", tc.args)
		for _, w := range tc.want {
			require.Contains(t, err.Error(), w, "%v", tc.args)
		}
		require.Equal(t, exitBadInput, exitCode(err), "%v: %v", tc.args, err)
	}
}

// TestInitTicketdeskTry runs the ticketdesk starter against the real service after the edits its comments
// ask for (docs/scenarios.md, "Start from an OpenAPI document"): the requests init wrote are right, and what
// still fails is what the comments say (an If-Match without a read, ops after logout).
func TestInitTicketdeskTry(t *testing.T) {
	base := startTicketdesk(t)
	out := filepath.Join(t.TempDir(), "desk.yaml")
	msg, err := execCLI(t, "init", "--openapi", ticketdeskOpenAPI, "-o", out, "--url", base)
	require.NoError(t, err, msg)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	text := string(raw)
	edit := func(old, new string) {
		t.Helper()
		require.Contains(t, text, old)
		text = strings.Replace(text, old, new, 1)
	}
	// delete the session variable; uncomment the login, with a register step before it
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "    x_session_token: ") {
			lines = append(lines[:i], lines[i+1:]...)
			break
		}
	}
	text = strings.Join(lines, "\n")
	edit("  # setup:", "  setup:\n    - name: register\n      request: {method: POST, path: /api/v2/accounts, json: {login: \"{{username}}\", password: \"{{password}}\"}}\n      expect: {status: [201]}\n  # setup:")
	edit("  #   - name: login", "    - name: login")
	edit("  #     request: {method: POST, path: /api/v2/sessions", "      request: {method: POST, path: /api/v2/sessions")
	edit("  #     expect: {status: [201]}", "      expect: {status: [201]}")
	edit("  #     capture: {x_session_token:", "      capture: {x_session_token:")
	edit("  # session: {token: x_session_token", "  session: {token: x_session_token")
	require.NoError(t, os.WriteFile(out, []byte(text), 0o644))

	msg, err = execCLI(t, "try", out)
	require.Equal(t, exitFailed, exitCode(err), "%v\n%s", err, msg)
	require.Contains(t, msg, "capture x_session_token=")
	status := func(step string) string {
		for _, l := range strings.Split(msg, "\n") {
			if f := strings.Fields(l); len(f) >= 4 && f[0] == step {
				return f[3]
			}
		}
		return "missing"
	}
	for step, want := range map[string]string{
		"setup/register": "201", "setup/login": "201",
		"create-ticket/steps[0]": "201", "get-counter/steps[0]": "200", "list-tickets/steps[0]": "200",
		"health/steps[0]": "200", "login/steps[0]": "201", "logout/steps[0]": "204", "register-account/steps[0]": "201",
		// after logout (try runs ops in name order): the session is gone
		"put-counter/steps[0]": "401", "whoami/steps[0]": "401",
	} {
		require.Equal(t, want, status(step), "%s\n%s", step, msg)
	}
}
