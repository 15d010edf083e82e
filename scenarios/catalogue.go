package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

//go:embed catalogue/*.yaml
var catalogueFS embed.FS

// Entry is one built-in scenario, for `chaosbench list`.
type Entry struct {
	Name        string
	Description string
	Plan        Plan
}

// Catalogue returns the built-in scenarios, sorted by name. They are parsed
// on each call; a broken built-in is a bug that TestCatalogue catches.
func Catalogue() ([]Entry, error) {
	paths, err := fs.Glob(catalogueFS, "catalogue/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []Entry
	for _, p := range paths {
		raw, _ := catalogueFS.ReadFile(p)
		plan, err := Parse(builtinPrefix+p, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: plan.Name, Description: plan.Description, Plan: plan})
	}
	return out, nil
}

// ErrNotFound means neither a file nor a built-in scenario has that name.
var ErrNotFound = errors.New("no such scenario")

// Load reads a scenario from a file path, or a built-in by name.
func Load(nameOrPath string) (Plan, error) {
	if raw, err := os.ReadFile(nameOrPath); err == nil {
		return Parse(nameOrPath, raw)
	} else if strings.ContainsAny(nameOrPath, "/.") {
		return Plan{}, fmt.Errorf("read scenario: %w", err)
	}
	raw, err := catalogueFS.ReadFile("catalogue/" + nameOrPath + ".yaml")
	if err != nil {
		var names []string
		entries, _ := fs.Glob(catalogueFS, "catalogue/*.yaml")
		for _, e := range entries {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(e, "catalogue/"), ".yaml"))
		}
		sort.Strings(names)
		return Plan{}, fmt.Errorf("%w %q: not a file, and not a built-in (%s)", ErrNotFound, nameOrPath, strings.Join(names, ", "))
	}
	return Parse(builtinPrefix+"catalogue/"+nameOrPath+".yaml", raw)
}

// builtinPrefix marks a built-in scenario's Source (builtin:catalogue/NAME.yaml), which positions in
// errors name.
const builtinPrefix = "builtin:"

// BuiltinName is the catalogue name of a built-in scenario's plan (what Load takes), and whether it is one:
// a scenario read from a file has its path as Source instead.
func (p Plan) BuiltinName() (string, bool) {
	rest, ok := strings.CutPrefix(p.Source, builtinPrefix+"catalogue/")
	return strings.TrimSuffix(rest, ".yaml"), ok
}
