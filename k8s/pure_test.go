package k8s

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPure keeps k8s a renderer: it writes manifests and starts nothing, so it depends on no Docker or
// Redis client (scenarios.TestPure's rule) and on no cluster client (client-go would bring the API
// machinery of a whole controller for what is a few typed objects).
func TestPure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range []string{"github.com/moby/", "github.com/docker/", "github.com/testcontainers/",
			"github.com/redis/", "k8s.io/client-go", "k8s.io/kubernetes"} {
			if strings.HasPrefix(pkg, f) {
				t.Errorf("k8s depends on %s (go list -deps ./k8s shows through which package)", pkg)
			}
		}
	}
}
