package dashboard

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chaosbench/chaosbench/chaos"
	"github.com/chaosbench/chaosbench/results"
	"github.com/chaosbench/chaosbench/results/render"
)

//go:embed page.html.tmpl
var pageSrc string

// pageTmpl is the page: its style, the live part as of the request, and the script that swaps the live
// part for each pushed one. The live part (body) is the one template the server renders each second.
var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"styles": render.Styles, "raw": func(s string) template.HTML { return template.HTML(s) }, //nolint:gosec // our own render
}).Parse(pageSrc))

type pageData struct{ Body string }

type bodyData struct {
	Scenario, Dir, Suite string
	Entries              []entryView
	Running              string
	Verdict              template.HTML
	Report               string
	Archs                []archView
	Updated              string
}

type entryView struct {
	Name, Status, Class string
}

type archView struct {
	Name, Status, Class string
	Counts              []countView
	Errors              []countView
	Containers          []containerView
	Faults              []faultView
	Latency, Rate       template.HTML
	Note                string
}

type countView struct {
	Label string
	N     int64
}

type containerView struct{ Name, State, Class string }

// faultView is a fault's line under the charts: when, and the injector's health brackets.
type faultView struct {
	Label, When, Health string
	Bad                 bool
}

// renderBody is the page's live part for st at now.
func renderBody(st state, now time.Time) []byte {
	d := bodyData{Scenario: st.scenario, Dir: st.dir, Suite: st.suite, Updated: now.UTC().Format("15:04:05")}
	for _, e := range st.entries {
		v := entryView{Name: e.name, Status: "to come"}
		switch {
		case e.running:
			v.Status, v.Class = "running", "run"
		case e.verdict != "":
			v.Status, v.Class = string(e.verdict), verdictClass(e.verdict)
		}
		d.Entries = append(d.Entries, v)
	}
	if st.summary != nil {
		var err error
		if d.Verdict, err = render.Verdict(*st.summary); err != nil {
			d.Verdict = template.HTML(template.HTMLEscapeString(err.Error())) //nolint:gosec // escaped
		}
		d.Report = st.report
	}
	for _, a := range st.archs {
		v := archOf(a, now)
		if v.Class == "run" {
			d.Running = a.name
		}
		d.Archs = append(d.Archs, v)
	}
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, "body", d); err != nil {
		return []byte(template.HTMLEscapeString(err.Error()))
	}
	return b.Bytes()
}

func verdictClass(s results.Status) string {
	if s == results.StatusPassed {
		return "pass"
	}
	return "fail"
}

// archOf is one architecture's card: its final result once analysed (the report's numbers and charts
// exactly), else what the load measured so far.
func archOf(a archState, now time.Time) archView {
	v := archView{Name: a.name, Status: "to come"}
	switch {
	case a.final != nil:
		st, _ := results.ArchStatus(*a.final)
		v.Status, v.Class = string(st), verdictClass(st)
	case a.started:
		v.Status, v.Class = "running", "run"
	}
	var chartArch results.Arch
	switch {
	case a.final != nil:
		f := a.final
		chartArch = *f
		v.Counts = []countView{{"planned", f.Requests.Planned}, {"sent", f.Requests.Sent}, {"ok", f.Requests.OK},
			{"failed", f.Requests.Failed}, {"dropped", f.Requests.Dropped}, {"retries", f.Requests.Retries}}
		v.Errors = errorsOf(f.Errors)
		if f.Error != "" {
			v.Note = f.Error
		}
	case a.live != nil:
		l := a.live
		elapsed := (l.Elapsed + now.Sub(a.seenAt)).Seconds()
		chartArch = results.Arch{Name: a.name}
		for _, s := range l.Timeline {
			chartArch.Timeline = append(chartArch.Timeline, results.SecondOf(s))
		}
		for _, in := range a.faults {
			chartArch.Faults = append(chartArch.Faults, faultOf(in, elapsed))
		}
		t := l.Totals
		v.Counts = []countView{{"planned", t.Planned}, {"sent", t.Sent}, {"ok", t.OK()}, {"failed", t.Errors},
			{"dropped", t.Dropped}, {"retries", t.Retries}, {"in flight", l.InFlight}}
		v.Errors = errorsOf(l.Errors)
		v.Note = fmt.Sprintf("%s of load so far; the last seconds are provisional until their requests end", l.Elapsed.Truncate(time.Second))
	case a.started:
		v.Note = "stack up; setting up the clients"
	}
	if chartArch.Name != "" {
		v.Latency, v.Rate = render.TimeCharts(chartArch)
		held := map[int]bool{}
		if a.final == nil {
			for i, in := range a.faults {
				held[i] = in.End == 0 && in.Error == ""
			}
		}
		for i, f := range chartArch.Faults {
			v.Faults = append(v.Faults, faultLine(f, held[i]))
		}
	}
	v.Containers = containersOf(a)
	return v
}

// faultLine says when f ran and what the health checks around it found, in the report's words.
func faultLine(f results.Fault, held bool) faultView {
	v := faultView{Label: f.Kind + " " + results.FaultTarget(f)}
	switch {
	case f.Error != "":
		v.When, v.Health, v.Bad = fmt.Sprintf("at %.1f s", f.StartS), "did not run as planned: "+f.Error, true
	case held:
		v.When, v.Health = fmt.Sprintf("held since %.1f s", f.StartS), "ready before"
		if f.HealthBefore != "" {
			v.Health, v.Bad = "NOT ready before ("+f.HealthBefore+")", true
		}
	default:
		v.When = fmt.Sprintf("%.1f–%.1f s", f.StartS, f.EndS)
		v.Health, v.Bad = render.HealthText(f)
	}
	return v
}

// faultOf is an injection as the charts draw it: a fault still held ends its band at the present.
func faultOf(in chaos.Injection, elapsed float64) results.Fault {
	f := results.Fault{Kind: in.Kind, Target: in.Target, Resolved: in.Resolved, Mechanism: in.Mechanism,
		StartS: in.Start.Seconds(), EndS: in.End.Seconds(), Error: in.Error, HealthBefore: in.HealthBefore}
	if in.End == 0 && in.Error == "" {
		f.EndS = max(elapsed, f.StartS)
	}
	if in.Ready >= 0 {
		r := in.Ready.Seconds()
		f.ReadyAfterS = &r
	}
	return f
}

// containersOf says which containers are up and which a fault holds now (by the injections' records:
// the dashboard asks Docker nothing).
func containersOf(a archState) []containerView {
	held := map[string][]string{}
	for _, f := range a.faults {
		if f.End == 0 && f.Error == "" {
			held[f.Resolved] = append(held[f.Resolved], f.Kind)
		}
	}
	var out []containerView
	for _, c := range a.containers {
		v := containerView{Name: c, State: "up", Class: "up"}
		switch {
		case a.final != nil:
			v.State, v.Class = "removed", "gone"
		case len(held[c]) > 0:
			v.State, v.Class = strings.Join(held[c], ", "), "held"
		}
		out = append(out, v)
	}
	return out
}

func errorsOf(m map[string]int64) []countView {
	var out []countView
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			out = append(out, countView{k, m[k]})
		}
	}
	return out
}
