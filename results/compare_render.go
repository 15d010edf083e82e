package results

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Rendering a Comparison: text for terminals and CI logs, Markdown for pull requests, JSON for tools.

// MarshalJSON writes infinite values as "+Inf"/"-Inf" (JSON has no
// infinity): a fault that never recovered is a real result, not an error.
func (m MetricChange) MarshalJSON() ([]byte, error) {
	type plain MetricChange
	type out struct {
		plain
		Base      jsonStat `json:"base"`
		New       jsonStat `json:"new"`
		Change    jsonNum  `json:"change"`
		ChangePct jsonNum  `json:"change_pct"`
	}
	return json.Marshal(out{plain: plain(m), Base: jstat(m.Base), New: jstat(m.New), Change: jsonNum(m.Change), ChangePct: jsonNum(m.ChangePct)})
}

type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(f):
		return []byte(`null`), nil
	}
	return json.Marshal(f)
}

type jsonStat struct {
	Median jsonNum   `json:"median"`
	Min    jsonNum   `json:"min"`
	Max    jsonNum   `json:"max"`
	Values []jsonNum `json:"values"`
}

func jstat(s Stat) jsonStat {
	j := jsonStat{Median: jsonNum(s.Median), Min: jsonNum(s.Min), Max: jsonNum(s.Max)}
	for _, v := range s.Values {
		j.Values = append(j.Values, jsonNum(v))
	}
	return j
}

// WriteJSON writes c as indented JSON.
func (c Comparison) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Kind is the metric's kind, which says how its values read (FormatValue).
func (m MetricChange) Kind() Kind { return m.kind }

// VerdictLine is the comparison's verdict in one line, the last of every compare report: the regressions
// with what regressed, else the improvements.
func (c Comparison) VerdictLine() string {
	var reg, imp []string
	for _, a := range c.Architectures {
		switch {
		case a.Verdict == VerdictRegression:
			var what []string
			for _, m := range a.Metrics {
				if m.Verdict == VerdictRegression {
					what = append(what, m.Metric)
				}
			}
			for _, n := range a.Notes {
				if strings.HasPrefix(n, "valid → invalid") || n == notInNew {
					what = append([]string{n}, what...)
				}
			}
			reg = append(reg, a.Name+" ("+strings.Join(what, ", ")+")")
		case a.Verdict == VerdictImproved:
			imp = append(imp, a.Name)
		}
	}
	if len(reg) > 0 {
		return "REGRESSION: " + strings.Join(reg, "; ")
	}
	if len(imp) > 0 {
		return "no regression; improved: " + strings.Join(imp, ", ")
	}
	return "no regression"
}
