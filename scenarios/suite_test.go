package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseSuite reads a good suite: catalogue names, a file beside the suite, per-entry scale and arch,
// and the shared thresholds added to every scenario once.
func TestParseSuite(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(`name: mine
phases: [{duration: 5s, rate: 20/s}]
thresholds: {all: [errors.rate < 5%]}
`), 0o644))
	path := filepath.Join(dir, "nightly.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`name: nightly
description: every night
scale: 0.5
thresholds: [errors.rate < 5%, latency.p99 < 2s]
scenarios:
  - steady-baseline
  - {scenario: compare-architectures, scale: 0.2, arch: [stateless, stateful]}
  - scenario: mine.yaml
    arch: stateless
`), 0o644))
	s, err := LoadSuite(path)
	require.NoError(t, err)
	require.Equal(t, "nightly", s.Name)
	require.Equal(t, "every night", s.Description)
	require.Len(t, s.Entries, 3)
	require.Equal(t, "steady-baseline", s.Entries[0].Plan.Name)
	require.Equal(t, 0.5, s.Entries[0].Scale, "the suite's scale is every entry's default")
	require.Equal(t, 0.2, s.Entries[1].Scale, "an entry's own scale wins")
	require.Equal(t, []string{"stateless", "stateful"}, s.Entries[1].ArchNames())
	require.Equal(t, "mine", s.Entries[2].Plan.Name, "a file relative to the suite's folder")
	require.Equal(t, []string{"stateless"}, s.Entries[2].ArchNames())
	var texts []string
	for _, th := range s.Entries[2].Plan.Thresholds {
		texts = append(texts, th.Text)
	}
	require.Equal(t, []string{"errors.rate < 5%", "latency.p99 < 2s"}, texts, "a shared threshold the scenario has already is not added twice")
}

// TestParseSuiteErrors: every problem at once, each at its line and column with its field.
func TestParseSuiteErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("name: broken\nphases:\n  - {duration: 5s, rate: 0/s}\n"), 0o644))
	tests := []struct {
		name, yaml string
		want       []string // "line:col: field: message fragment"
	}{
		// A suite needs a name and at least one scenario.
		{"empty", "name: Bad Name\nscenarios: []\n", []string{
			"1:7: name: \"Bad Name\"", "2:12: scenarios: is empty"}},
		// A name that is neither a file nor a built-in, at its entry.
		{"unknown scenario", "name: s\nscenarios:\n  - kill-node\n  - no-such\n", []string{
			"4:5: scenarios[1]: no such scenario \"no-such\""}},
		// An architecture the scenario does not have, at the list item.
		{"unknown arch", "name: s\nscenarios:\n  - {scenario: kill-node, arch: [stateless, stateful]}\n", []string{
			"3:45: scenarios[0].arch[1]: \"stateful\" is not an architecture of scenario kill-node (it has stateless)"}},
		// Scale out of range, on the suite and on an entry.
		{"scale", "name: s\nscale: 11\nscenarios:\n  - scenario: kill-node\n    scale: 0\n", []string{
			"2:8: scale: 11: want a factor in (0, 10]", "5:12: scenarios[0].scale: 0: want a factor in (0, 10]"}},
		// A misspelt key of an entry, and an entry of the wrong shape.
		{"unknown key", "name: s\nscenarios:\n  - {scenario: kill-node, archs: [stateless]}\n  - [kill-node]\n", []string{
			"3:34: scenarios[0].archs: unknown field (want scenario, scale, arch)", "4:5: scenarios[1]: want a catalogue name"}},
		// A mapping without its scenario.
		{"no scenario", "name: s\nscenarios:\n  - {scale: 0.5}\n", []string{"3:5: scenarios[0]: scenario is required"}},
		// A shared threshold that does not parse, and one a scenario without faults could never measure.
		{"thresholds", "name: s\nthresholds: [latency.p90 < 1s, recovery.seconds < 5]\nscenarios: [steady-baseline]\n", []string{
			"2:14: thresholds[0]: ", "2:32: thresholds[1]: scenario steady-baseline (scenarios[0]): recovery.seconds needs a fault to recover from: the scenario has none"}},
		// A shared threshold on one fault is checked against every scenario: kill-node has one kill, redis-outage none.
		{"fault threshold", "name: s\nthresholds: ['faults[kill].errors.rate < 5%']\nscenarios: [kill-node, redis-outage]\n", []string{
			"2:14: thresholds[0]: scenario redis-outage (scenarios[1]): faults[kill]: the scenario has no kill fault (faults[0] redis-outage)"}},
		// A top-level key the format does not know.
		{"unknown top-level", "name: s\nscenario: [kill-node]\n", []string{"2:1: ", "unknown field"}},
		// A broken scenario file is reported with its own file, line and field.
		{"broken scenario file", "name: s\nscenarios: [broken.yaml]\n", []string{"broken.yaml:3:26: phases[0].rate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "suite.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o644))
			_, err := LoadSuite(path)
			require.Error(t, err)
			var es Errors
			require.ErrorAs(t, err, &es)
			msg := err.Error()
			for _, w := range tc.want {
				require.Contains(t, msg, w, msg)
			}
			if !strings.Contains(tc.name, "broken") {
				require.True(t, strings.HasPrefix(msg, path+":"), "names the suite file: %s", msg)
			}
		})
	}
}

// TestIsSuite tells a suite file from a scenario file.
func TestIsSuite(t *testing.T) {
	require.True(t, IsSuite([]byte("name: s\nscenarios: [kill-node]\n")))
	require.False(t, IsSuite([]byte("name: kill-node\nphases: [{duration: 5s, rate: 1/s}]\n")))
	require.False(t, IsSuite([]byte("{{{")))
}

// TestSuiteResolve applies --scale and --arch, refusing what cannot run before anything starts.
func TestSuiteResolve(t *testing.T) {
	s, err := SuiteOf("suite", "kill-node", "compare-architectures")
	require.NoError(t, err)
	r, err := s.Resolve(Ask{Scale: 0.5, Archs: []string{"stateless"}})
	require.NoError(t, err)
	require.Equal(t, 0.5, r.Entries[0].Scale)
	require.Equal(t, []string{"stateless"}, r.Entries[1].ArchNames())
	require.Equal(t, "stateless", r.Entries[1].Spec.Archs[0].Name, "each entry's spec made")
	require.Equal(t, 0.5, r.Entries[0].Spec.Scale)
	require.Equal(t, 1.0, s.Entries[0].Scale, "Resolve leaves the suite it was given alone")

	_, err = s.Resolve(Ask{Archs: []string{"stateful"}})
	require.ErrorContains(t, err, "scenario 1 (kill-node): --arch stateful leaves it no architecture")
	_, err = s.Resolve(Ask{Archs: []string{"stateless", "nope"}})
	require.ErrorContains(t, err, "--arch nope: no scenario of the suite runs it")
	_, err = s.Resolve(Ask{Scale: 20})
	require.ErrorContains(t, err, "want a factor in (0, 10]")

	_, err = SuiteOf("suite", "kill-node", "no-such")
	require.ErrorIs(t, err, ErrNotFound)

	all, err := CatalogueSuite()
	require.NoError(t, err)
	require.Equal(t, "catalogue", all.Name)
	cat, err := Catalogue()
	require.NoError(t, err)
	require.Len(t, all.Entries, len(cat), "every catalogue scenario, once")
}

// TestSuiteDocExample: the suite file in docs/suites.md parses, so the documentation cannot drift from the
// format.
func TestSuiteDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "suites.md"))
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(doc), "```yaml\n")
	require.True(t, ok, "docs/suites.md has a yaml block")
	block, _, _ = strings.Cut(block, "```")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "my-scenario.yaml"), []byte("name: my-scenario\nphases: [{duration: 5s, rate: 10/s}]\n"), 0o644))
	path := filepath.Join(dir, "nightly.suite.yaml")
	require.NoError(t, os.WriteFile(path, []byte(block), 0o644))
	s, err := LoadSuite(path)
	require.NoError(t, err)
	require.Len(t, s.Entries, 3)
	require.Equal(t, []string{"stateless", "stateful"}, s.Entries[2].ArchNames())
}

// TestBuiltinName: a built-in's plan names itself as Load takes it (what a loader container is given); a
// file's does not.
func TestBuiltinName(t *testing.T) {
	p, err := Load("kill-node")
	require.NoError(t, err)
	name, ok := p.BuiltinName()
	require.True(t, ok)
	require.Equal(t, "kill-node", name)
	cat, err := Catalogue()
	require.NoError(t, err)
	name, ok = cat[0].Plan.BuiltinName()
	require.True(t, ok)
	require.Equal(t, cat[0].Name, name)

	f := filepath.Join(t.TempDir(), "mine.yaml")
	require.NoError(t, os.WriteFile(f, []byte("name: mine\nclients: 2\nphases:\n  - {duration: 5s, rate: 10/s}\n"), 0o644))
	p, err = Load(f)
	require.NoError(t, err, "%v", err)
	_, ok = p.BuiltinName()
	require.False(t, ok)
}
