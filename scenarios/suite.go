package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/threshold"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// A suite is several scenarios run one after another into one run folder (docs/suites.md). This file
// is its format and validation; runner.RunSuite runs it and results writes its combined reports.

// Suite is a validated suite: every entry's scenario is parsed, its architectures and scale checked, and
// the shared thresholds added to its plan, so nothing about it can fail once the first container starts.
type Suite struct {
	Name        string
	Description string
	Source      string // the suite file, or "" for a suite given on the command line
	Entries     []SuiteEntry
}

// SuiteEntry is one scenario of a suite.
type SuiteEntry struct {
	Ref   string   // as written: a catalogue name or a scenario file
	Plan  Plan     // the scenario, the suite's shared thresholds included
	Scale float64  // the entry's factor (1 unless the file sets one)
	Archs []string // run only these architectures; nil: all of the scenario's
	// Spec is what the entry runs, once Resolve has applied the command line's Ask to it.
	Spec RunSpec
}

// suiteFile is a suite file as written. An entry of scenarios is a string (a catalogue name or a file)
// or a mapping {scenario, scale, arch}, so it is read loosely and checked field by field with positions.
type suiteFile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Scale       *float64 `yaml:"scale"`      // the default of every entry
	Thresholds  []string `yaml:"thresholds"` // added to every architecture of every scenario
	Scenarios   []any    `yaml:"scenarios"`
}

// IsSuite reports whether data is a suite file rather than a scenario file: a suite has a top-level
// scenarios list, which no scenario has. Data that does not parse is not a suite (the scenario parser
// then reports its syntax error).
func IsSuite(data []byte) bool {
	var probe struct {
		Scenarios any `yaml:"scenarios"`
	}
	return yaml.Unmarshal(data, &probe) == nil && probe.Scenarios != nil
}

// LoadSuite reads a suite file. Scenario files it names are relative to the suite file's folder.
func LoadSuite(path string) (Suite, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Suite{}, fmt.Errorf("read suite: %w", err)
	}
	return ParseSuite(path, raw)
}

// ParseSuite reads and validates a suite. Every problem is reported at once (an Errors value), each with
// the file, line and field; a problem inside a scenario file it names is reported with that file's own
// position.
func ParseSuite(source string, data []byte) (Suite, error) {
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Suite{}, Errors{yamlError(source, nil, err)}
	}
	var f suiteFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.DisallowUnknownField()); err != nil {
		return Suite{}, Errors{yamlError(source, astFile, err)}
	}
	v := &positioner{file: source, ast: astFile}
	s := Suite{Name: f.Name, Description: strings.TrimSpace(f.Description), Source: source}
	if !nameRE.MatchString(f.Name) {
		v.add("name", "%q: want lowercase letters, digits and dashes (e.g. nightly)", f.Name)
	}
	scale := 1.0
	if f.Scale != nil {
		scale = *f.Scale
		if !scaleOK(scale) {
			v.add("scale", "%g: want a factor in (0, 10]", scale)
		}
	}
	var shared []ThresholdPlan
	var sharedAt []int // each shared threshold's index in the file, for positions
	for i, text := range f.Thresholds {
		e, err := threshold.Parse(text)
		if err != nil {
			v.add(fmt.Sprintf("thresholds[%d]", i), "%v", err)
			continue
		}
		shared = append(shared, ThresholdPlan{Expr: e, Text: text})
		sharedAt = append(sharedAt, i)
	}
	if len(f.Scenarios) == 0 {
		v.add("scenarios", "is empty: list catalogue names or scenario files (docs/suites.md)")
	}
	var nested Errors // problems inside the scenario files, with their own positions
	for i, raw := range f.Scenarios {
		field := fmt.Sprintf("scenarios[%d]", i)
		e, ok := readEntry(v, field, raw, scale)
		if !ok {
			continue
		}
		plan, err := loadRef(filepath.Dir(source), e.Ref)
		if err != nil {
			var es Errors
			if errors.As(err, &es) {
				nested = append(nested, es...)
			} else {
				v.add(field, "%v", err)
			}
			continue
		}
		for j, a := range e.Archs {
			if _, err := plan.Archs(a); err != nil {
				v.add(fmt.Sprintf("%s.arch[%d]", field, j), "%v", err)
			}
		}
		for j, t := range shared {
			if err := thresholdFits(t.Expr, plan.Faults); err != nil {
				v.add(fmt.Sprintf("thresholds[%d]", sharedAt[j]), "scenario %s (%s): %v", plan.Name, field, err)
			}
		}
		e.Plan = withShared(plan, shared)
		s.Entries = append(s.Entries, e)
	}
	if len(v.errs) > 0 || len(nested) > 0 {
		v.errs.sortByLine()
		return Suite{}, append(v.errs, nested...)
	}
	return s, nil
}

// readEntry reads one entry of scenarios: a string, or a mapping {scenario, scale, arch}.
func readEntry(v *positioner, field string, raw any, scale float64) (SuiteEntry, bool) {
	e := SuiteEntry{Scale: scale}
	switch x := raw.(type) {
	case string:
		e.Ref = strings.TrimSpace(x)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			val := x[k]
			switch k {
			case "scenario":
				s, ok := val.(string)
				if !ok {
					v.add(field+".scenario", "want a catalogue name or a scenario file")
				}
				e.Ref = strings.TrimSpace(s)
			case "scale":
				f, ok := number(val)
				if !ok || !scaleOK(f) {
					v.add(field+".scale", "%v: want a factor in (0, 10]", val)
					continue
				}
				e.Scale = f
			case "arch":
				archs, ok := stringList(val)
				if !ok || len(archs) == 0 {
					v.add(field+".arch", "want an architecture name or a list of them")
					continue
				}
				e.Archs = archs
			default:
				v.add(field+"."+k, "unknown field (want scenario, scale, arch)")
			}
		}
		if _, ok := x["scenario"]; !ok {
			v.add(field, "scenario is required: a catalogue name or a scenario file")
			return e, false
		}
	default:
		v.add(field, "want a catalogue name, a scenario file, or {scenario: ..., scale: ..., arch: [...]}")
		return e, false
	}
	if e.Ref == "" {
		v.add(field, "names no scenario")
		return e, false
	}
	return e, len(v.errs) == 0 || !hasField(v.errs, field)
}

// hasField reports whether a problem was already recorded on field or below it.
func hasField(es Errors, field string) bool {
	for _, e := range es {
		if e.Field == field || strings.HasPrefix(e.Field, field+".") {
			return true
		}
	}
	return false
}

// SuiteOf builds a suite from references given on the command line (catalogue names or scenario files,
// relative to the working directory), in order.
func SuiteOf(name string, refs ...string) (Suite, error) {
	s := Suite{Name: name}
	var errs []error
	for _, ref := range refs {
		plan, err := loadRef("", ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Entries = append(s.Entries, SuiteEntry{Ref: ref, Plan: plan, Scale: 1})
	}
	if len(s.Entries) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no scenario given"))
	}
	return s, errors.Join(errs...)
}

// CatalogueSuite is every built-in scenario, sorted by name: `chaosbench run --all`.
func CatalogueSuite() (Suite, error) {
	cat, err := Catalogue()
	if err != nil {
		return Suite{}, err
	}
	s := Suite{Name: "catalogue", Description: "every built-in scenario"}
	for _, c := range cat {
		s.Entries = append(s.Entries, SuiteEntry{Ref: c.Name, Plan: c.Plan, Scale: 1})
	}
	return s, nil
}

// Resolve applies the command line's Ask to every entry and checks the result (Plan.Spec), so that a bad
// flag is refused before anything runs: ask.Scale is a factor on every entry's own scale, ask.Archs the
// architectures to keep in every entry that has them (an --arch no scenario has, or an entry left with no
// architecture, is refused), and the seed and workers apply to each entry. Each entry's Spec is set.
func (s Suite) Resolve(ask Ask) (Suite, error) {
	out := s
	out.Entries = slices.Clone(s.Entries)
	factor := cmp.Or(ask.Scale, 1)
	var errs []error
	used := map[string]bool{}
	for i := range out.Entries {
		e := &out.Entries[i]
		label := fmt.Sprintf("scenario %d (%s)", i+1, e.Plan.Name)
		e.Scale *= factor
		if len(ask.Archs) > 0 {
			have := e.ArchNames()
			var keep []string
			for _, a := range have {
				if slices.Contains(ask.Archs, a) {
					keep = append(keep, a)
					used[a] = true
				}
			}
			if len(keep) == 0 {
				errs = append(errs, fmt.Errorf("%s: --arch %s leaves it no architecture (it runs %s)", label, strings.Join(ask.Archs, ","), strings.Join(have, ", ")))
				continue
			}
			e.Archs = keep
		}
		spec, err := e.Plan.Spec(Ask{Archs: e.Archs, Scale: e.Scale, Seed: ask.Seed, Workers: ask.Workers})
		if err != nil {
			if !scaleOK(e.Scale) {
				err = fmt.Errorf("%w (the entry's %g × --scale %g)", err, s.Entries[i].Scale, factor)
			}
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
			continue
		}
		e.Spec = spec
	}
	for _, a := range ask.Archs {
		if !used[a] {
			errs = append(errs, fmt.Errorf("--arch %s: no scenario of the suite runs it", a))
		}
	}
	return out, errors.Join(errs...)
}

// ArchNames is the architectures the entry runs, in the scenario's order.
func (e SuiteEntry) ArchNames() []string {
	if len(e.Archs) > 0 {
		return e.Archs
	}
	var out []string
	for _, a := range e.Plan.Architectures {
		out = append(out, a.Name)
	}
	return out
}

// loadRef loads an entry: a scenario file (relative to dir) or a catalogue name.
func loadRef(dir, ref string) (Plan, error) {
	if dir != "" && !filepath.IsAbs(ref) {
		if _, err := os.Stat(filepath.Join(dir, ref)); err == nil {
			ref = filepath.Join(dir, ref)
		}
	}
	if raw, err := os.ReadFile(ref); err == nil && IsSuite(raw) {
		return Plan{}, fmt.Errorf("%s is a suite file: a suite lists scenarios, not suites", ref)
	}
	return Load(ref)
}

// withShared adds the suite's shared thresholds to every architecture of plan, leaving out one the
// scenario already sets for all of them (the same expression twice would be two rows of one fact).
func withShared(plan Plan, shared []ThresholdPlan) Plan {
	p := plan
	p.Thresholds = slices.Clone(plan.Thresholds)
	for _, t := range shared {
		dup := slices.ContainsFunc(p.Thresholds, func(o ThresholdPlan) bool { return o.Arch == "" && o.Text == t.Text })
		if !dup {
			p.Thresholds = append(p.Thresholds, t)
		}
	}
	return p
}

func archList(p Plan) string {
	var names []string
	for _, a := range p.Architectures {
		names = append(names, a.Name)
	}
	return strings.Join(names, ", ")
}

// number reads a YAML number (goccy/go-yaml decodes one into any as int64, uint64 or float64).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// stringList reads "a", "a,b" or [a, b].
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		var out []string
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, true
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}
