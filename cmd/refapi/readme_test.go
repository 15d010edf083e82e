package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/internal/ports"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/stretchr/testify/require"
)

// TestReadmeWalkthrough runs the README's curl walkthrough, as written,
// against a real node, so that the documentation cannot drift from the API.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(raw), "<!-- walkthrough:start -->")
	require.True(t, ok, "README.md has no walkthrough block")
	block, _, ok := strings.Cut(rest, "<!-- walkthrough:end -->")
	require.True(t, ok)
	script := strings.TrimSpace(block)
	script = strings.TrimPrefix(script, "```sh")
	script = strings.TrimSuffix(script, "```")

	bin := buildRefapi(t)
	rs := redistest.Start(t)
	addr, err := ports.Addr()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--addr", addr)
	cmd.Env = append(os.Environ(), "REDIS_URL="+rs.URL(), "JWT_SECRET=0123456789abcdef0123456789abcdef", "BCRYPT_COST=4")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		r, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	}, 30*time.Second, 50*time.Millisecond)

	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Env = append(os.Environ(), "API=http://"+addr)
	out, err := sh.CombinedOutput()
	require.NoError(t, err, "walkthrough failed:\n%s", out)
	o := string(out)
	for _, want := range []string{
		`"status":"ok"`, `"status":"ready"`, `"username":"ada"`, `"cart":[{"sku":"tea","qty":2}]`,
		"HTTP/1.1 201 Created", "Idempotent-Replayed: true", `"code":"idempotency_key_reused"`,
		`"request_id":"req-1"`, `{"id":"counter-1","value":1}`, "\n412\n", "refapi_orders_created_total{",
	} {
		require.Contains(t, o, want, "walkthrough output:\n%s", o)
	}
	require.Equal(t, 1, strings.Count(o, `"idempotency_key":"order-1"`), "GET /v1/orders lists exactly one order:\n%s", o)
}
