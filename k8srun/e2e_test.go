package k8srun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/runner"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The end-to-end test of `make k8s-e2e`: the CLI against the real cluster that `make k8s-cluster` brings up
// on this machine, beside the same scenarios in Docker. It needs CHAOSBENCH_K8S_E2E=1, KUBECONFIG and
// CHAOSBENCH_BIN (the target sets them); without them it skips, saying which is missing. It is no part of
// `make test` or CI: it takes minutes and a cluster.

// e2eEnv returns the binary and kubeconfig, or skips.
func e2eEnv(t *testing.T) (bin, kubeconfig string) {
	for _, v := range []string{"CHAOSBENCH_K8S_E2E", "KUBECONFIG", "CHAOSBENCH_BIN"} {
		if os.Getenv(v) == "" {
			t.Skipf("%s is not set: the cluster end-to-end test runs with make k8s-e2e, on the cluster of make k8s-cluster "+
				"(/work/k8s-cluster.ready names its kubeconfig)", v)
		}
	}
	return os.Getenv("CHAOSBENCH_BIN"), os.Getenv("KUBECONFIG")
}

// runCLI runs the chaosbench binary and returns its exit code; its output goes to the test's log.
func runCLI(t *testing.T, bin string, args ...string) int {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	t.Logf("$ chaosbench %s  # exit %d, %s\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Second), tail(string(out), 40))
	return code
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func summaryOf(t *testing.T, dir string) results.Arch {
	t.Helper()
	s, err := results.ReadSummary(runfolder.Run(dir).Summary())
	require.NoError(t, err)
	require.Len(t, s.Architectures, 1)
	return s.Architectures[0]
}

// TestClusterEndToEnd: kill-node with 3 workers and a user's image with 2, in the cluster, against
// kill-node in Docker from one process (twice: the spread of one machine's runs).
func TestClusterEndToEnd(t *testing.T) {
	bin, kubeconfig := e2eEnv(t)
	root := t.TempDir()
	if d := os.Getenv("CHAOSBENCH_E2E_OUT"); d != "" {
		root = d // kept for the lead's note
	}
	dir := func(name string) string { return filepath.Join(root, name) }

	// Docker, one process, the same scenario and seed: the reference numbers.
	for i := range 2 {
		code := runCLI(t, bin, "run", "kill-node", "--seed", "7", "--out", dir(fmt.Sprintf("docker-%d", i)))
		require.Contains(t, []int{0, 3}, code, "a Docker run of kill-node that did not finish")
	}
	// The cluster: kill-node from three loader pods, and the user's image from two.
	require.Contains(t, []int{0, 3}, runCLI(t, bin, "k8s", "run", "kill-node", "--workers", "3", "--seed", "7",
		"--kubeconfig", kubeconfig, "--namespace", "e2e-kill", "--out", dir("k8s-kill-node")))
	require.Contains(t, []int{0, 3}, runCLI(t, bin, "k8s", "run", "testdata/naiveshop-kill.yaml", "--workers", "2",
		"--kubeconfig", kubeconfig, "--namespace", "e2e-shop", "--out", dir("k8s-naiveshop")))

	d0, d1, k := summaryOf(t, dir("docker-0")), summaryOf(t, dir("docker-1")), summaryOf(t, dir("k8s-kill-node"))
	shop := summaryOf(t, dir("k8s-naiveshop"))
	for _, a := range []results.Arch{k, shop} {
		require.Empty(t, a.Error, "%s errored", a.Name)
		// The kill ran, through the API, and is in the record as such.
		require.Len(t, a.Faults, 1)
		require.Empty(t, a.Faults[0].Error, "the kill did not run")
		require.Contains(t, a.Faults[0].Mechanism, "grace 0")
		// Every worker's offset was measured and within the bound: the run is not invalid for its clocks.
		for _, r := range a.InvalidReasons {
			require.NotContains(t, r, "clock", "a worker's clock")
		}
	}
	// Planned = sent + dropped for every worker, and the merge adds them up.
	for _, c := range []struct {
		dir string
		n   int
	}{{dir("k8s-kill-node"), 3}, {dir("k8s-naiveshop"), 2}} {
		var planned int64
		for i := range c.n {
			w, err := load.ReadWorker(filepath.Join(c.dir, archOf(t, c.dir), runner.WorkersDirName, strconv.Itoa(i)))
			require.NoError(t, err)
			tot := w.Totals
			require.Equal(t, tot.Planned, tot.Sent+tot.Dropped, "worker %d of %s: planned = sent + dropped", i, c.dir)
			require.Positive(t, tot.Sent)
			planned += tot.Planned
		}
		require.Equal(t, planned, summaryOf(t, c.dir).Requests.Planned, "the merge holds every worker's plan")
	}
	// The checkers see the kill as in Docker: no session, write or order lost or doubled on the stateless
	// reference API, in either place.
	for _, name := range []string{"sessions.lost", "writes.lost", "writes.duplicates"} {
		require.Equal(t, d0.Count(name), k.Count(name), name)
		require.Zero(t, k.Count(name), name)
	}
	// Latency within the single-process runs' spread, widened by 3x each way: another network path
	// (kube-proxy's NAT instead of NGINX) on the same two cores, not a tuned comparison.
	lo, hi := min(d0.Latency.P50, d1.Latency.P50), max(d0.Latency.P50, d1.Latency.P50)
	require.True(t, k.Latency.P50 >= lo/3 && k.Latency.P50 <= hi*3, "p50 %.2f ms against Docker's %.2f-%.2f ms", k.Latency.P50, lo, hi)
	lo, hi = min(d0.Latency.P99, d1.Latency.P99), max(d0.Latency.P99, d1.Latency.P99)
	require.True(t, k.Latency.P99 >= lo/3 && k.Latency.P99 <= hi*3, "p99 %.2f ms against Docker's %.2f-%.2f ms", k.Latency.P99, lo, hi)

	// Nothing left: only the cluster's own namespaces.
	_, cs, err := Connect(kubeconfig)
	require.NoError(t, err)
	nss, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, ns := range nss.Items {
		names = append(names, ns.Name)
	}
	for _, n := range names {
		require.Contains(t, []string{"default", "kube-system", "kube-public", "kube-node-lease"}, n, "left behind: %v", names)
	}
	table := sideBySide([]string{"Docker (1 process)", "Docker (1 process, again)", "Kubernetes (3 loader pods)"}, []results.Arch{d0, d1, k})
	t.Log("\n" + table)
	require.NoError(t, os.WriteFile(filepath.Join(root, "side-by-side.md"), []byte(table), 0o644))
	slices.Sort(names)
	t.Logf("namespaces after: %s", strings.Join(names, " "))
}

// archOf is the one architecture folder of a run folder.
func archOf(t *testing.T, dir string) string {
	s, err := results.ReadSummary(runfolder.Run(dir).Summary())
	require.NoError(t, err)
	return s.Architectures[0].Name
}

// sideBySide is the Markdown table of the lead's note: one column per run.
func sideBySide(heads []string, as []results.Arch) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| kill-node, seed 7 | %s |\n|---|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	row := func(name string, f func(a results.Arch) string) {
		cells := make([]string, len(as))
		for i, a := range as {
			cells[i] = f(a)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	row("verdict", func(a results.Arch) string { st, _ := results.ArchStatus(a); return string(st) })
	row("planned / sent / dropped", func(a results.Arch) string {
		return fmt.Sprintf("%d / %d / %d", a.Requests.Planned, a.Requests.Sent, a.Requests.Dropped)
	})
	row("failed / retries", func(a results.Arch) string { return fmt.Sprintf("%d / %d", a.Requests.Failed, a.Requests.Retries) })
	row("p50 / p95 / p99 / max ms", func(a results.Arch) string {
		l := a.Latency
		return fmt.Sprintf("%.1f / %.1f / %.1f / %.0f", l.P50, l.P95, l.P99, l.Max)
	})
	row("error rate", func(a results.Arch) string { return fmt.Sprintf("%.2f%%", 100*a.ErrorRate) })
	row("fault", func(a results.Arch) string {
		if len(a.Faults) == 0 {
			return "-"
		}
		f := a.Faults[0]
		rec := "not recovered"
		if f.RecoveryS != nil {
			rec = fmt.Sprintf("recovered %.1f s", *f.RecoveryS)
		}
		return fmt.Sprintf("%s %s %.1f-%.1f s, %s", f.Kind, f.Resolved, f.StartS, f.EndS, rec)
	})
	for _, c := range []string{"sessions.lost", "writes.lost", "writes.duplicates", "updates.lost"} {
		row(c, func(a results.Arch) string { return strconv.FormatInt(a.Count(c), 10) })
	}
	return b.String()
}
