package render

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaosbench/chaosbench/results"
	"github.com/stretchr/testify/require"
)

// -update rewrites the golden files in testdata from what the code produces now.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./results/render -update to create it")
	require.Equal(t, string(want), string(got), "%s differs; inspect, then go test ./results/render -update", path)
}

// fixtureSummary is results' fixture run (results/fixture_test.go builds it and keeps
// results/testdata/summary.json equal to it), read back as any report reads a run.
func fixtureSummary() results.Summary {
	s, err := results.ReadSummary(filepath.Join("..", "testdata", "summary.json"))
	if err != nil {
		panic(err)
	}
	return s
}
