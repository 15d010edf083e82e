package stack

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/internal/dockertest"
	"github.com/chaosbench/chaosbench/target/arch"
)

var update = flag.Bool("update", false, "rewrite the golden files: deploy/compose/nginx.conf, testdata/haproxy.cfg.golden")

// composeNodes are docker-compose.yml's fixed addresses.
var composeNodes = []upstream{{"api-1", "10.214.0.11:8080"}, {"api-2", "10.214.0.12:8080"}, {"api-3", "10.214.0.13:8080"}}

// The compose file's nginx.conf is the one Up would generate for the default stack, so the two stay alike.
func TestComposeNginxConfIsGenerated(t *testing.T) {
	want, err := nginxConfig(arch.RoundRobin, composeNodes, 5*time.Second, 0)
	require.NoError(t, err)
	path := filepath.Join("..", "..", "deploy", "compose", "nginx.conf")
	if *update {
		require.NoError(t, os.WriteFile(path, want, 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "run: go test ./target/stack -run Compose -update")
}

// composeCmd returns the compose command of this machine: docker-compose 1.29 or `docker compose`.
func composeCmd() []string {
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	return nil
}

func TestComposeComesUp(t *testing.T) {
	dockertest.Require(t)
	compose := composeCmd()
	if compose == nil {
		t.Skip("neither docker-compose nor docker compose is installed")
	}
	// Below the kernel's ephemeral range, as the stack's own ports: a port from :0 can be taken by any
	// outgoing connection before compose binds it.
	free := func() string {
		p, err := freePort()
		require.NoError(t, err)
		return p
	}
	entryPort := free()
	project := fmt.Sprintf("chaosbench-compose-test-%d", os.Getpid())
	run := func(ctx context.Context, args ...string) ([]byte, error) {
		all := append(append(compose[1:], "-p", project, "-f", "docker-compose.yml"), args...)
		cmd := exec.CommandContext(ctx, compose[0], all...)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CHAOSBENCH_ENTRY_PORT="+entryPort, "CHAOSBENCH_REDIS_PORT="+free())
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := run(ctx, "down", "-v", "--remove-orphans", "-t", "1"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := run(ctx, "up", "-d")
	require.NoError(t, err, "compose up: %s", out)

	entry := "http://127.0.0.1:" + entryPort
	require.Eventually(t, func() bool {
		for _, n := range composeNodes {
			if probe(ctx, entry+"/_chaosbench/node/"+n.Name+"/readyz", n.Name, false) != nil {
				return false
			}
		}
		return true
	}, 60*time.Second, 200*time.Millisecond, "every node is ready through nginx")
	resp, err := http.Get(entry + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
