package scenarios

import (
	"os/exec"
	"strings"
	"testing"
)

// pureForbidden are the module paths that a package which only reads scenarios must not depend on.
var pureForbidden = []string{
	"github.com/moby/",           // the Docker API client
	"github.com/docker/",         // its helpers
	"github.com/testcontainers/", // the stack's container lifecycle
	"github.com/redis/",          // go-redis: ground truth is read behind results.Truth, elsewhere
	// results: the analysis, compare and the reports; the threshold grammar is the threshold package's,
	// and results gives it the metric names when linked (catalogue_link_test.go).
	"github.com/chaosbench/chaosbench/results",
}

// TestPure keeps scenarios a package that only reads scenarios: `chaosbench validate` and anything else
// that parses a scenario must not pull in a Docker or Redis client (scenarios once imported the stack
// and the faults, and with them moby, testcontainers and go-redis). It names the package of ours that
// brings each one in.
func TestPure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := func(path string) bool {
		for _, f := range pureForbidden {
			if strings.HasPrefix(path, f) {
				return true
			}
		}
		return false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if forbidden(pkg) {
			continue // reported where it enters
		}
		for _, imp := range strings.Fields(imports) {
			if forbidden(imp) {
				t.Errorf("%s imports %s: scenarios depends on it through that package", pkg, imp)
			}
		}
	}
}
