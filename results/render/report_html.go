package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/runfolder"
	"github.com/chaosbench/chaosbench/target/arch"
)

// HTMLReporter writes report.html: one self-contained file (inline CSS and
// SVG drawn here, no script, no fonts, no network) that a person who was not
// there can open offline and understand. The verdict comes first, with what
// each check means; then the percentile curves of every architecture on one
// chart; then per architecture latency and throughput over time with the
// fault windows as labelled bands.
type HTMLReporter struct{}

var _ Reporter = HTMLReporter{}

func init() { RegisterReporter(RankHTML, HTMLReporter{}) }

func (HTMLReporter) Format() string { return "html" }
func (HTMLReporter) File() string   { return runfolder.ReportHTMLFile }

//go:embed report.html.tmpl
var htmlTemplate string

//go:embed charts.css
var chartsCSS string

// Styles is the CSS of the charts and the verdict (charts.css): a page that shows them, report.html or
// the live dashboard, includes it in its <style>.
func Styles() template.CSS { return template.CSS(chartsCSS) } //nolint:gosec // our own embedded file

var htmlTmpl = template.Must(template.New("report").Parse(htmlTemplate))

// archColors tell architectures apart on the shared chart (colour-blind
// safe, Okabe-Ito).
var archColors = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"}

type htmlCheck struct {
	Label  string
	Indent bool // a sub-row of the row above (sent, ok, ... under requests)
	Cells  []htmlCell
}

// htmlExplain is one check's explanation under the verdict table.
type htmlExplain struct{ Term, Text string }

type htmlCell struct {
	Text string
	OK   bool
	Bad  bool
}

type htmlArch struct {
	Name, Color   string
	Knobs         string
	Status        results.Status
	Passed        bool
	Why           []string
	Latency, Rate template.HTML
	Faults        []htmlFault
	Errors        string
}

type htmlFault struct {
	Label, Node, Mechanism string
	Before, During, After  string
	Recovery, Health       string
	Error                  string
	RecoveryBad, HealthBad bool
}

type htmlPage struct {
	Styles                     template.CSS
	Title, Header, Description string
	ValidityRule, RecoveryRule string
	TruthSource                string // where the checks read ground truth, in words
	Passed                     bool
	Verdict                    string
	Failures                   []string
	Names                      []string
	Checks                     []htmlCheck
	Explain                    []htmlExplain
	Table                      []htmlCheck
	Curves                     template.HTML
	Legend                     []htmlArch
	Archs                      []htmlArch
}

func (HTMLReporter) Render(w io.Writer, s results.Summary) error {
	p := verdictPage(s)
	p.Styles, p.Title, p.Header, p.Description = Styles(), "chaosbench: "+s.Scenario, headerLine(s), s.Description
	p.ValidityRule, p.RecoveryRule, p.TruthSource = results.ValidityRule, results.RecoveryRule, truthSource(s)
	for _, c := range violations(s) {
		p.Explain = append(p.Explain, htmlExplain{Term: c.Title, Text: c.Explain})
	}
	for _, r := range buildTable(s, "✓", "✗") {
		c := htmlCheck{Label: strings.TrimSpace(r.label), Indent: strings.HasPrefix(r.label, "  ")}
		for _, x := range r.cells {
			c.Cells = append(c.Cells, htmlCell{Text: x.text, OK: x.good, Bad: x.bad})
		}
		p.Table = append(p.Table, c)
	}
	p.Curves = percentileChart(s)
	for i, a := range s.Architectures {
		ha := htmlArch{Name: a.Name, Color: archColors[i%len(archColors)], Knobs: knobsText(a.Knobs)}
		st, why := results.ArchStatus(a)
		ha.Status, ha.Passed, ha.Why = st, st == results.StatusPassed, why
		ha.Latency, ha.Rate = TimeCharts(a)
		for _, f := range a.Faults {
			rec := recoveryCell(f)
			health, healthBad := healthText(f)
			ha.Faults = append(ha.Faults, htmlFault{Label: results.FaultLabel(f), Node: results.FaultTarget(f), Mechanism: f.Mechanism,
				Before: baselineText(f), During: windowText(f.During), After: windowText(f.After),
				Recovery: strings.TrimPrefix(rec.text, results.FaultTarget(f)+": "), RecoveryBad: rec.bad,
				Health: health, HealthBad: healthBad, Error: f.Error})
		}
		var errs []string
		for _, k := range sortedKeys(a.Errors) {
			if a.Errors[k] > 0 {
				errs = append(errs, fmt.Sprintf("%s %d", k, a.Errors[k]))
			}
		}
		ha.Errors = strings.Join(errs, ", ")
		p.Archs = append(p.Archs, ha)
	}
	p.Legend = p.Archs
	return htmlTmpl.Execute(w, p)
}

// verdictPage is the part of the page the verdict template draws: the run's verdict line, what failed,
// and the checks' table.
func verdictPage(s results.Summary) htmlPage {
	p := htmlPage{Passed: results.RunVerdict(s) == results.StatusPassed, Names: s.ArchNames(), Checks: htmlChecks(s)}
	p.Verdict, p.Failures = results.VerdictLines(s)
	return p
}

// Verdict is report.html's verdict (the verdict line, what failed, the checks' counts per architecture)
// as an HTML fragment, for the live dashboard's end of run.
func Verdict(s results.Summary) (template.HTML, error) {
	var b strings.Builder
	if err := htmlTmpl.ExecuteTemplate(&b, "verdict", verdictPage(s)); err != nil {
		return "", fmt.Errorf("render verdict: %w", err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // the template escaped it
}

// violations are the checks the verdict table shows (and explains): every
// Violation check the summary records, in table order.
func violations(s results.Summary) []results.Check {
	var out []results.Check
	for _, c := range results.RecordedChecks(s) {
		if c.Violation {
			out = append(out, c)
		}
	}
	return out
}

// truthSource says where the checks of s read ground truth: the reference API's own stores (Redis, and
// PostgreSQL for orders and resources where the architecture keeps them there), or a user's service through
// its own API (the black-box checker), or the scenario's declared invariants.
func truthSource(s results.Summary) string {
	theirs := false
	var ours, declared []string
	for _, a := range s.Architectures {
		for _, r := range a.Invariants {
			if !slices.Contains(declared, r.Name) {
				declared = append(declared, r.Name)
			}
		}
		src := "Redis"
		switch {
		case a.Knobs.Image != "" || a.Knobs.Attached != "":
			theirs = true
			continue
		case a.Knobs.Store == arch.StorePostgres:
			src = "PostgreSQL (orders, resources) and Redis (sessions)"
		case a.Knobs.RedisCluster:
			src = "every Redis Cluster primary"
		}
		if !slices.Contains(ours, src) {
			ours = append(ours, src)
		}
	}
	straight := "straight from Redis"
	if len(ours) > 0 {
		straight = "straight from " + strings.Join(ours, "; from ")
	}
	switch {
	case len(declared) > 0:
		return "through the service's own API, by the scenario's invariants (" + strings.Join(declared, ", ") + "),"
	case theirs && len(ours) > 0:
		return straight + " for the reference API, and through its own API (every user's orders, every resource) for a user's service,"
	case theirs:
		return "through the service's own API (every user's orders, every resource)"
	}
	return straight
}

func knobsText(k results.Knobs) string {
	if k.Attached != "" {
		return fmt.Sprintf("attached to %s · %d API containers", k.Attached, k.Replicas)
	}
	if k.Image != "" {
		return fmt.Sprintf("image %s · balancer %s · %d replicas", k.Image, k.Balancer, k.Replicas)
	}
	idem := "off"
	if k.Idempotency {
		idem = "on"
	}
	text := fmt.Sprintf("auth %s · sessions %s · idempotency %s · concurrency %s · balancer %s · %d replicas",
		k.Auth, k.Sessions, idem, k.Concurrency, k.Balancer, k.Replicas)
	if k.TokenPadBytes > 0 {
		text += fmt.Sprintf(" · token padded to %d bytes", k.TokenPadBytes)
	}
	if k.ClientKeepAlive != nil || k.UpstreamKeepAlive != nil || k.TLS {
		text += " · " + edgeKnobsText(k)
	}
	if k.RedisHA {
		text += " · redis primary + 2 replicas + 3 sentinels"
	}
	if k.RedisCluster {
		text += " · redis cluster of 3 primaries + 3 replicas"
	}
	if k.MinReplicasToWrite > 0 {
		text += fmt.Sprintf(" · min-replicas-to-write %d", k.MinReplicasToWrite)
	}
	if k.Store != "" {
		text += " · orders and resources in " + k.Store
		if k.PostgresPool > 0 {
			text += fmt.Sprintf(" (a pool of %d per node)", k.PostgresPool)
		}
	}
	if k.PostgresStandby != "" {
		text += " · " + k.PostgresStandby + " standby"
	}
	if k.CacheTTL != "" {
		text += " · resource cache ttl " + k.CacheTTL
	}
	if k.Refresh != "" {
		text += " · access tokens " + k.Refresh + " with refresh"
	}
	return text
}

// htmlChecks is the verdict table: one row per check, the correctness
// checks always shown (a zero is the claim being proved), then thresholds.
func htmlChecks(s results.Summary) []htmlCheck {
	var rows []htmlCheck
	add := func(label string, f func(a results.Arch) htmlCell) {
		r := htmlCheck{Label: label}
		for _, a := range s.Architectures {
			r.Cells = append(r.Cells, f(a))
		}
		rows = append(rows, r)
	}
	zero := func(a results.Arch, v int64) htmlCell {
		switch {
		case v > 0:
			return htmlCell{Text: fmt.Sprintf("✗ %d", v), Bad: true}
		case a.Error != "":
			// A violation found is real, but no violation in part of a run proves nothing.
			return htmlCell{Text: "0 " + results.PartRan}
		}
		return htmlCell{Text: "✓ 0", OK: true}
	}
	add("Run valid (faults ran, load delivered)", func(a results.Arch) htmlCell {
		if ok, why := results.Validity(a); !ok {
			return htmlCell{Text: "✗ " + why, Bad: true}
		}
		return htmlCell{Text: "✓ yes", OK: true}
	})
	for _, c := range violations(s) {
		add(c.Title, func(a results.Arch) htmlCell {
			r, ok := c.Result(a)
			switch {
			case !ok:
				return htmlCell{Text: "–"}
			case r.NotChecked != "":
				return htmlCell{Text: "not checked: " + r.NotChecked}
			}
			return zero(a, r.Value)
		})
	}
	add("Every fault recovered", func(a results.Arch) htmlCell {
		if len(a.Faults) == 0 {
			return htmlCell{Text: "no faults"}
		}
		v := results.MaxRecovery(a)
		if math.IsInf(v, 1) || math.IsNaN(v) {
			return htmlCell{Text: "✗ " + results.RecoveryDetail(a), Bad: true}
		}
		if a.Error != "" {
			return htmlCell{Text: fmt.Sprintf("slowest %.1f s %s", v, results.PartRan)}
		}
		return htmlCell{Text: fmt.Sprintf("✓ slowest %.1f s", v), OK: true}
	})
	for _, expr := range thresholdExprs(s) {
		add("Threshold "+expr, func(a results.Arch) htmlCell {
			t, ok := findThreshold(a, expr)
			switch {
			case !ok:
				return htmlCell{Text: "–"}
			case !t.OK:
				return htmlCell{Text: "✗ " + results.ThresholdValue(t), Bad: true}
			case a.Error != "":
				return htmlCell{Text: results.ThresholdValue(t) + " " + results.PartRan}
			}
			return htmlCell{Text: "✓ " + results.ThresholdValue(t), OK: true}
		})
	}
	return rows
}

// edgeKnobsText is the edge's part of the HTML knobs line: "TLS 1.3 · client keep-alive off · ...".
func edgeKnobsText(k results.Knobs) string {
	onOff := func(b *bool) string {
		if b != nil && !*b {
			return "off"
		}
		return "on"
	}
	scheme := "plain HTTP"
	if k.TLS {
		scheme = "TLS 1.3"
	}
	if k.HTTP2 {
		scheme += " · HTTP/2"
	}
	return fmt.Sprintf("%s · client keep-alive %s · upstream keep-alive %s", scheme, onOff(k.ClientKeepAlive), onOff(k.UpstreamKeepAlive))
}
