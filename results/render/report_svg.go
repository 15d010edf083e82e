package render

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/chaosbench/chaosbench/results"
)

// The SVG charts of report.html: a small chart model (series, fault bands,
// ticks, log or linear axes) rendered inline, so the page needs no script
// and works offline. report_html.go builds the page model that uses them.

type pt struct{ x, y float64 }

type series struct {
	name, color string
	dash        bool
	width       float64 // 0: 2
	pts         []pt
}

type band struct {
	x0, x1 float64
	label  string
	lead   bool // the stretch from the injection's begin to its effect: lighter, unlabelled
}

type tick struct {
	v     float64
	label string
}

type chart struct {
	title, yLabel, xLabel string
	w, h                  float64
	xMin, xMax            float64
	yMin, yMax            float64
	logY                  bool
	markers               bool // a dot on every point
	xTicks                []tick
	series                []series
	bands                 []band
}

const (
	padL, padR, padT, padB = 64.0, 16.0, 34.0, 40.0
)

func (c chart) px(x float64) float64 {
	return padL + (x-c.xMin)/(c.xMax-c.xMin)*(c.w-padL-padR)
}

func (c chart) py(y float64) float64 {
	lo, hi, v := c.yMin, c.yMax, y
	if c.logY {
		lo, hi, v = math.Log10(lo), math.Log10(hi), math.Log10(math.Max(y, c.yMin))
	}
	v = math.Min(math.Max(v, lo), hi)
	return c.h - padB - (v-lo)/(hi-lo)*(c.h-padT-padB)
}

func (c chart) yTicks() []tick {
	var out []tick
	if c.logY {
		for d := math.Pow(10, math.Floor(math.Log10(c.yMin))); d <= c.yMax*1.0001; d *= 10 {
			// 1-2-5 ticks on a short range, decades on a long one.
			for _, m := range []float64{1, 2, 5} {
				v := d * m
				if v >= c.yMin*0.9999 && v <= c.yMax*1.0001 {
					out = append(out, tick{v, trimNum(v)})
				}
			}
		}
		return out
	}
	step := niceStep(c.yMax-c.yMin, 5)
	for v := c.yMin; v <= c.yMax+step/1000; v += step {
		out = append(out, tick{v, trimNum(v)})
	}
	return out
}

func trimNum(v float64) string {
	if v >= 1 || v == 0 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}

// niceStep is a 1-2-5 step giving about n intervals over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func (c chart) svg() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, c.w, c.h, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<text x="%.0f" y="20" class="ct">%s</text>`, padL, html.EscapeString(c.title))
	top, bottom := padT, c.h-padB
	// Bands first, so lines draw over them; their labels on rows of their own where they would collide.
	for i, lb := range c.bandLabels() {
		bd := c.bands[i]
		x0, x1 := c.px(math.Max(bd.x0, c.xMin)), c.px(math.Min(bd.x1, c.xMax))
		if bd.lead {
			fmt.Fprintf(&b, `<rect class="band lead" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, top, math.Max(x1-x0, 1), bottom-top)
			continue
		}
		fmt.Fprintf(&b, `<rect class="band" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, top, math.Max(x1-x0, 1), bottom-top)
		fmt.Fprintf(&b, `<text class="bl" x="%.1f" y="%.1f">%s</text>`, lb.x, top+13+float64(lb.row)*bandRow, html.EscapeString(bd.label))
	}
	for _, t := range c.yTicks() {
		y := c.py(t.v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, c.w-padR, y, y)
		fmt.Fprintf(&b, `<text class="yt" x="%.1f" y="%.1f">%s</text>`, padL-6, y+4, t.label)
	}
	for _, t := range c.xTicks {
		x := c.px(t.v)
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, x, x, bottom, bottom+4)
		fmt.Fprintf(&b, `<text class="xt" x="%.1f" y="%.1f">%s</text>`, x, bottom+16, html.EscapeString(t.label))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, c.w-padR, bottom, bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, padL, top, bottom)
	fmt.Fprintf(&b, `<text class="al" x="%.1f" y="%.1f">%s</text>`, (padL+c.w-padR)/2, c.h-6, html.EscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text class="al" transform="translate(14 %.1f) rotate(-90)">%s</text>`, (top+bottom)/2, html.EscapeString(c.yLabel))
	for _, s := range c.series {
		if len(s.pts) == 0 {
			continue
		}
		var d strings.Builder
		for i, p := range s.pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, c.px(p.x), c.py(p.y))
		}
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="5 3"`
		}
		width := s.width
		if width == 0 {
			width = 2
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round"%s><title>%s</title></path>`,
			d.String(), s.color, width, dash, html.EscapeString(s.name))
		if c.markers {
			for _, p := range s.pts {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s: %s</title></circle>`,
					c.px(p.x), c.py(p.y), width/2+1.5, s.color, html.EscapeString(s.name), results.FormatMS(p.y))
			}
		}
	}
	// Legend, top right.
	x := c.w - padR
	for i := len(c.series) - 1; i >= 0; i-- {
		s := c.series[i]
		x -= float64(len([]rune(s.name)))*6.6 + 30
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="16" y2="16" stroke="%s" stroke-width="2.5"%s/><text class="lg" x="%.1f" y="20">%s</text>`,
			x, x+18, s.color, dash, x+22, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}

// bandRow is the height of a row of band labels; labelChar the width of one of their characters (12 px
// bold; a little more than the average, so that an estimate errs towards a gap).
const bandRow, labelChar = 15.0, 7.2

type bandLabel struct {
	x   float64
	row int
}

// bandLabels places each band's label: at its band's left edge (pulled left to stay inside the plot),
// on the first row where it does not run into a label already placed. Faults that overlap in time, or
// follow closely, so get one readable line each instead of one smudge.
func (c chart) bandLabels() []bandLabel {
	out := make([]bandLabel, len(c.bands))
	var rowEnds []float64 // the right end of the last label on each row
	for i, bd := range c.bands {
		if bd.lead {
			continue // unlabelled
		}
		w := float64(len([]rune(bd.label)))*labelChar + 8
		x := math.Max(math.Min(c.px(math.Max(bd.x0, c.xMin))+4, c.w-padR-w), padL+4)
		row := 0
		for row < len(rowEnds) && x < rowEnds[row] {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = x + w
		out[i] = bandLabel{x: x, row: row}
	}
	return out
}

// TimeCharts are an architecture's charts over the run's time: latency (p50, p95, p99) and throughput
// per second, with its faults as labelled bands. report.html draws them from the summary; the live
// dashboard from the part of the run so far (a fault still active ends its band at the present).
func TimeCharts(a results.Arch) (latency, rate template.HTML) {
	return latencyChart(a), rateChart(a)
}

func faultBands(a results.Arch, withErrors bool) []band {
	var out []band
	for _, f := range a.Faults {
		l := f.Kind + " " + results.FaultTarget(f)
		if withErrors && f.During.Requests > 0 {
			// A few errors in 200/s are invisible on a linear axis; the
			// number is not.
			l += " · " + results.FormatPct(f.During.ErrorRate) + " errors"
		}
		if f.BeginS > 0 {
			out = append(out, band{x0: f.BeginS, x1: f.StartS, lead: true})
		}
		out = append(out, band{x0: f.StartS, x1: f.EndS, label: l})
	}
	return out
}

func timeTicks(d float64) []tick {
	step := niceStep(d, 6)
	var out []tick
	for v := 0.0; v <= d+step/1000; v += step {
		out = append(out, tick{v, fmt.Sprintf("%gs", v)})
	}
	return out
}

func timelineEnd(a results.Arch) float64 {
	end := float64(len(a.Timeline))
	for _, f := range a.Faults {
		end = math.Max(end, f.EndS)
	}
	return math.Max(end, 1)
}

// latencyChart plots p50, p95 and p99 per second on a log scale: a kill's
// one-second spike of 1 s and a steady 3 ms median both stay readable. A
// summary written before the timeline had p95 draws none.
func latencyChart(a results.Arch) template.HTML {
	c := chart{title: "Latency per second: p50, p95 and p99 (log scale)", yLabel: "ms", xLabel: "time since start (by planned send time)",
		w: 1100, h: 280, xMax: timelineEnd(a), logY: true, yMin: math.Inf(1), yMax: 0, bands: faultBands(a, false)}
	p50 := series{name: "p50", color: "#0072B2"}
	p95 := series{name: "p95", color: "#E69F00", width: 1.5}
	p99 := series{name: "p99", color: "#D55E00"}
	for _, s := range a.Timeline {
		x := float64(s.T) + 0.5 // the middle of its second
		if s.OK+s.Errors == 0 {
			continue
		}
		p50.pts = append(p50.pts, pt{x, s.P50MS})
		if s.P95MS > 0 {
			p95.pts = append(p95.pts, pt{x, s.P95MS})
		}
		p99.pts = append(p99.pts, pt{x, s.P99MS})
		if s.P50MS > 0 {
			c.yMin = math.Min(c.yMin, s.P50MS)
		}
		c.yMax = math.Max(c.yMax, s.P99MS)
	}
	c.yMin, c.yMax = logBounds(c.yMin, c.yMax)
	c.xTicks = timeTicks(c.xMax)
	c.series = []series{p50}
	if len(p95.pts) > 0 {
		c.series = append(c.series, p95)
	} else { // a summary from before the timeline had p95
		c.title = "Latency per second: p50 and p99 (log scale)"
	}
	c.series = append(c.series, p99)
	return c.svg()
}

// logBounds widens [lo, hi] to whole 1-2-5 steps, safe for empty data.
func logBounds(lo, hi float64) (float64, float64) {
	if math.IsInf(lo, 1) || lo <= 0 {
		lo = 1
	}
	if hi <= lo {
		hi = lo * 10
	}
	loDec := math.Pow(10, math.Floor(math.Log10(lo)))
	for _, m := range []float64{5, 2, 1} {
		if lo >= m*loDec {
			lo = m * loDec
			break
		}
	}
	hiDec := math.Pow(10, math.Floor(math.Log10(hi)))
	for _, m := range []float64{1, 2, 5, 10} {
		if hi <= m*hiDec {
			return lo, m * hiDec
		}
	}
	return lo, 10 * hiDec
}

// rateChart plots the planned rate, successes, errors, dropped requests and
// retries per second on one linear axis, so their proportions are honest;
// dropped and retries only when there were some.
func rateChart(a results.Arch) template.HTML {
	c := chart{title: "Throughput per second: planned, successful and failed requests", yLabel: "requests/s", xLabel: "time since start",
		w: 1100, h: 240, xMax: timelineEnd(a), bands: faultBands(a, true)}
	planned := series{name: "planned", color: "#999999", dash: true, width: 1.2}
	ok := series{name: "ok", color: "#009E73"}
	errs := series{name: "errors", color: "#C00000"}
	dropped := series{name: "dropped", color: "#777777", dash: true}
	retries := series{name: "retries", color: "#CC79A7", width: 1.5}
	anyDropped, anyRetries := false, false
	for _, s := range a.Timeline {
		x := float64(s.T) + 0.5
		planned.pts = append(planned.pts, pt{x, float64(s.Planned)})
		ok.pts = append(ok.pts, pt{x, float64(s.OK)})
		errs.pts = append(errs.pts, pt{x, float64(s.Errors)})
		dropped.pts = append(dropped.pts, pt{x, float64(s.Dropped)})
		retries.pts = append(retries.pts, pt{x, float64(s.Retries)})
		anyDropped, anyRetries = anyDropped || s.Dropped > 0, anyRetries || s.Retries > 0
		c.yMax = math.Max(c.yMax, float64(max(s.OK, s.Errors, s.Planned, s.Retries)))
	}
	step := niceStep(c.yMax, 5)
	c.yMax = math.Max(step*math.Ceil(c.yMax/step), 1)
	c.xTicks = timeTicks(c.xMax)
	c.series = []series{planned, ok, errs}
	if anyDropped {
		c.series = append(c.series, dropped)
	}
	if anyRetries {
		c.series = append(c.series, retries)
	}
	return c.svg()
}

// percentileChart overlays every architecture's latency distribution. The x
// axis is -log10(1-q): 50, 90, 99, 99.9, 99.99 are equally spaced, so the
// tail, where architectures differ under faults, gets the room.
func percentileChart(s results.Summary) template.HTML {
	c := chart{title: "Latency by percentile, whole run (log scales)", yLabel: "ms", xLabel: "percentile",
		w: 1100, h: 320, xMax: 4.12, logY: true, yMin: math.Inf(1), markers: true}
	for _, q := range []float64{0, 50, 90, 99, 99.9, 99.99} {
		c.xTicks = append(c.xTicks, tick{qx(q), trimQ(q)})
	}
	for i, a := range s.Architectures {
		// Later lines are thinner, so identical curves show as a line
		// inside a line instead of hiding one another.
		sr := series{name: a.Name, color: archColors[i%len(archColors)], width: math.Max(5-1.5*float64(i), 1.5)}
		for _, p := range a.Percentiles {
			if p.Quantile >= 99.99+1e-9 || p.MS <= 0 {
				continue // 100 is the max: infinitely far right on this axis
			}
			sr.pts = append(sr.pts, pt{qx(p.Quantile), p.MS})
			c.yMin, c.yMax = math.Min(c.yMin, p.MS), math.Max(c.yMax, p.MS)
		}
		c.series = append(c.series, sr)
	}
	c.yMin, c.yMax = logBounds(c.yMin, c.yMax)
	return c.svg()
}

func qx(q float64) float64 { return -math.Log10(1 - q/100) }

func trimQ(q float64) string {
	if q == 0 {
		return "min"
	}
	return fmt.Sprintf("p%g", q)
}
