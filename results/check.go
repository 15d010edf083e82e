package results

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/chaosbench/chaosbench/load"
	"github.com/chaosbench/chaosbench/threshold"
)

// Check is one number the checker derives from the client's ledger and
// ground truth (duplicate writes, lost updates, ...), declared once: its
// computation, its key in summary.json, its metric for thresholds and
// compare, its row in the reports and the sentence that explains it, and its
// default compare tolerance. Register it with RegisterCheck from the file
// that declares it (check_<name>.go); the checker, Analyze, the reports,
// thresholds and compare all read the registry, so that adding a check is
// that one file (docs/architecture.md).
//
// A check's value is a count. The computation is a fold: Order, Resource
// and Session are called once per ledger entry of their kind (orders in
// batches, streamed from orders.jsonl), and add to a Tally.
type Check struct {
	// Name is the metric thresholds and compare read and the key under
	// "checks" in summary.json: "writes.duplicates".
	Name string
	// Help says in one line what the number counts (threshold docs,
	// `chaosbench list`).
	Help string
	// Better is which way compare calls an improvement (default: lower).
	Better Better

	// Group and Row place the check in the reports' side-by-side table, in
	// Rank order: a group's first row starts a section labelled "Group
	// Row" ("writes acknowledged"), the others are indented sub-rows
	// ("duplicates"). No Row: not in that table (summary.json and the
	// metric still have it).
	Group, Row string
	Rank       int
	// Violation marks a check whose every count is a bug that showed
	// itself: the table marks it when above zero, and the HTML report's
	// verdict table shows it as Title with Explain said under it, zero
	// included (a zero is the claim being proved).
	Violation      bool
	Title, Explain string

	// Tolerance is compare's default bound; nil: not compared unless
	// --tolerance names it. Correctness counters compare the worst run.
	Tolerance *Tolerance

	// V1 is where summary.json's first layout kept the count, for the
	// checks older than this registry (writes.lost in Writes.Lost): the
	// encoder mirrors Arch.Checks there for consumers of the first
	// summaries, and the decoder reads it back from a summary written
	// before "checks" existed (archjson.go). New checks leave it nil.
	V1 func(*V1Counts) *int64

	// Applies, when set, says whether the ledger holds what the check reads at all (stale reads need
	// resource reads with their versions). A check that does not apply is left out of the findings: no
	// row and no 0 in the reports, and a threshold on it fails as not measured.
	Applies func(load.LedgerSnapshot) bool

	// Needs is what the computation asks of the Truth; a source that cannot
	// answer makes the check "not checked", and its folds are not called.
	Needs Fact
	// Order sees one logical order and how many orders the store holds for
	// it (stored is only meaningful when Needs has StoredOrders).
	Order func(t *Tally, o load.OrderEntry, stored int64)
	// Resource sees one resource and its final value (meaningful only when
	// Needs has ResourceValues).
	Resource func(t *Tally, r load.ResourceEntry, value int64)
	// Session sees one session as the client lived it.
	Session func(t *Tally, s load.SessionEntry)
	// Unexpected sees the request ids the store holds that no order of the ledger carries (meaningful
	// only when Needs has StoredRequestIDs): writes nobody attempted.
	Unexpected func(t *Tally, requestIDs []string)
}

// Tally is a check's running count, with a few examples of what it counted
// (idempotency keys, resource or session ids) for a person who wants to
// look in the store.
type Tally struct {
	Value    int64
	Examples []string
}

const maxExamples = 5

// Add counts n and, when example is not empty, keeps it as an example
// (the first maxExamples).
func (t *Tally) Add(n int64, example string) {
	t.Value += n
	if example != "" && len(t.Examples) < maxExamples {
		t.Examples = append(t.Examples, example)
	}
}

// CheckResult is one check of one architecture in summary.json.
type CheckResult struct {
	Value int64 `json:"value"`
	// NotChecked says why the ground truth could not answer the check
	// (Value is then 0 and means nothing): its threshold is not measured
	// and fails, the reports say "not checked".
	NotChecked string `json:"not_checked,omitempty"`
	// Examples name a few of what was counted (keys, ids).
	Examples []string `json:"examples,omitempty"`
}

// Findings are the checks' results by name: what CheckLedger returns, and
// Arch.Checks in summary.json.
type Findings map[string]CheckResult

// Fill records f in a's Checks.
func (f Findings) Fill(a *Arch) {
	if len(f) == 0 {
		return
	}
	a.Checks = Findings{}
	for name, r := range f {
		a.Checks[name] = r
	}
}

var checkRegistry struct {
	sync.RWMutex
	byName map[string]Check
}

// RegisterCheck adds c to the checks every run computes and every report,
// threshold and comparison knows. It panics on a declaration that cannot
// work or a name already taken (by a check or a metric): two checks under
// one name would silently read each other's numbers.
func RegisterCheck(c Check) {
	if err := c.validate(); err != nil {
		panic("results: RegisterCheck: " + err.Error())
	}
	checkRegistry.Lock()
	defer checkRegistry.Unlock()
	if _, dup := checkRegistry.byName[c.Name]; dup {
		panic("results: check registered twice: " + c.Name)
	}
	if _, dup := metricByName[c.Name]; dup {
		panic("results: check " + c.Name + " has the name of a metric")
	}
	if checkRegistry.byName == nil {
		checkRegistry.byName = map[string]Check{}
	}
	checkRegistry.byName[c.Name] = c
}

func (c Check) validate() error {
	for i := 0; i < len(c.Name); i++ {
		if !threshold.IsMetricByte(c.Name[i]) {
			return fmt.Errorf("check %q: a name is letters, digits, '.' and '_' (it is a threshold's metric)", c.Name)
		}
	}
	switch {
	case c.Name == "":
		return fmt.Errorf("a check needs a Name")
	case c.Help == "":
		return fmt.Errorf("check %s: Help says what it counts", c.Name)
	case c.Order == nil && c.Resource == nil && c.Session == nil && c.Unexpected == nil:
		return fmt.Errorf("check %s: no computation (Order, Resource, Session or Unexpected)", c.Name)
	case c.Row != "" && c.Group == "":
		return fmt.Errorf("check %s: a table Row needs its Group", c.Name)
	case c.Violation && (c.Title == "" || c.Explain == ""):
		return fmt.Errorf("check %s: a violation needs the Title and Explain the verdict table shows", c.Name)
	}
	return nil
}

// Checks lists the registered checks in table order (Rank, then name).
func Checks() []Check {
	checkRegistry.RLock()
	out := make([]Check, 0, len(checkRegistry.byName))
	for _, c := range checkRegistry.byName {
		out = append(out, c)
	}
	checkRegistry.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rank != out[j].Rank {
			return out[i].Rank < out[j].Rank
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// LookupCheck returns the check called name.
func LookupCheck(name string) (Check, bool) {
	checkRegistry.RLock()
	defer checkRegistry.RUnlock()
	c, ok := checkRegistry.byName[name]
	return c, ok
}

// Result is the check's outcome for a, and whether a records it at all: a
// summary from before the check existed does not (one from before Checks
// existed has its V1 counts there, read back by the decoder).
func (c Check) Result(a Arch) (CheckResult, bool) {
	r, ok := a.Checks[c.Name]
	return r, ok
}

// metric is the check as a threshold and compare metric: NaN (not
// measured) when not checked or not recorded.
func (c Check) metric() Metric {
	return Metric{Name: c.Name, Kind: KindCount, Better: c.Better, Help: c.Help,
		value: func(a Arch) float64 {
			r, ok := c.Result(a)
			if !ok || r.NotChecked != "" {
				return math.NaN()
			}
			return float64(r.Value)
		},
		detail: func(a Arch) string {
			r, ok := c.Result(a)
			switch {
			case !ok:
				return "not checked: this summary does not record " + c.Name
			case r.NotChecked != "":
				return "not checked: " + r.NotChecked
			}
			return ""
		},
		recorded: func(a Arch) bool { _, ok := c.Result(a); return ok },
	}
}

// RecordedChecks are the checks s records for at least one architecture,
// in table order: a report shows what its summary holds, so an old run
// re-renders as it was.
func RecordedChecks(s Summary) []Check {
	var out []Check
	for _, c := range Checks() {
		for _, a := range s.Architectures {
			if _, ok := c.Result(a); ok {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// ViolationChecks are the violation checks s records for some architecture, in table order: a bug that
// showed itself is a test case even where the scenario sets no threshold on it.
func ViolationChecks(s Summary) []Check {
	var out []Check
	for _, c := range RecordedChecks(s) {
		if c.Violation {
			out = append(out, c)
		}
	}
	return out
}
