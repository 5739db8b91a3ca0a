package incident

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// TraceSummary is what a trace tells an HTML report about one traced
// incident: where the stolen money went (sinks), how it moved (edges) and
// the transactions that show it (evidence). The CLI fills it from a
// trace.Result (package incident does not import trace, which works on
// chain data, not on the register); amounts are base-unit decimal strings
// with their asset ("sat" for satoshis).
type TraceSummary struct {
	Incident string // incident id
	Policy   string // poison, haircut, fifo, lifo, tiho
	Seeds    []string
	Sinks    []TraceSink
	// Edges are the flows of stolen value between transactions; with the
	// sinks they make the flow graph WriteHTML draws.
	Edges    []TraceEdge
	Evidence []TraceEvidence
	// FlowSVG, when set, replaces the drawn flow graph with a picture made
	// by the tracing engine. It is embedded as is, so it must come from
	// trusted code, never from input.
	FlowSVG []byte
}

// TraceEdge is stolen value moving from one transaction to another.
type TraceEdge struct {
	From, To string // txids
	Amount   string // base units
	Asset    string
}

// TraceSink is where part of the money ended up.
type TraceSink struct {
	Chain    heistgraph.Chain // the chain it sits on ("" when the trace has one)
	Kind     string           // unspent, entity, threshold, hop_limit, untraced, burned, overlap
	Entity   string
	Category string
	Address  string
	TxID     string // the transaction whose output (or input) holds it
	Amount   string // base units
	Asset    string
}

// TraceEvidence is one transaction behind a traced figure.
type TraceEvidence struct {
	Chain  heistgraph.Chain
	TxID   string
	Time   time.Time
	From   string
	To     string
	Amount string // base units
	Asset  string
	Note   string
}

// Page is everything an HTML report shows.
type Page struct {
	Title  string
	Report Report
	Totals []YearTotal // the bar chart: totals by year and actor
	Trace  *TraceSummary
}

// NewPage builds the page for q over reg: the report, and the totals by year
// and actor over every year for the chart. trace may be nil.
func NewPage(reg *Register, q Query, prices Prices, trace *TraceSummary) (Page, error) {
	rep, err := Build(reg, q, prices)
	if err != nil {
		return Page{}, err
	}
	totals, err := Totals(reg, q, prices)
	if err != nil {
		return Page{}, err
	}
	title := "Crypto thefts"
	switch {
	case q.Incident != "":
		inc, _ := reg.Incident(q.Incident)
		title = "Incident: " + inc.Name
	case q.Source != "":
		s, _ := reg.Source(q.Source)
		title = "Thefts named by " + s.Title
	case q.Year != 0:
		title = fmt.Sprintf("Crypto thefts of %d", q.Year)
	}
	return Page{Title: title, Report: rep, Totals: totals, Trace: trace}, nil
}

// WriteHTML renders p as one self-contained HTML document (inline CSS and
// SVG, no scripts, no external resources) for readers who never used the
// tool.
func WriteHTML(w io.Writer, p Page) error {
	data := struct {
		Page
		Chart chart
		Flow  template.HTML
	}{Page: p, Chart: newChart(p.Totals)}
	if p.Trace != nil && len(p.Trace.FlowSVG) > 0 {
		data.Flow = template.HTML(p.Trace.FlowSVG) // trusted: see TraceSummary.FlowSVG
	} else if p.Trace != nil {
		data.Flow = flowSVG(p.Trace)
	}
	return pageTmpl.Execute(w, data)
}

// chart is the SVG bar chart's geometry, computed here so the template only
// places shapes.
type chart struct {
	Width, Height int
	Bars          []bar
	Years         []axisLabel
	Legend        []legendItem
	Empty         bool
}

type bar struct {
	X, Y, W, H int
	Color      string
	Title      string
	Label      string
}

type axisLabel struct {
	X    int
	Text string
}

type legendItem struct {
	X     int
	Color string
	Text  string
}

var actorColors = []string{"#b3261e", "#1f5fa8", "#2e7d32", "#8e24aa", "#ef6c00"}

func newChart(totals []YearTotal) chart {
	c := chart{Width: 760, Height: 300}
	if len(totals) == 0 {
		c.Empty = true
		return c
	}
	var years []int
	var actors []string
	var maxUSD heistgraph.USD
	for _, t := range totals {
		if len(years) == 0 || years[len(years)-1] != t.Year {
			years = append(years, t.Year)
		}
		if !containsString(actors, t.Actor) {
			actors = append(actors, t.Actor)
		}
		if t.USD > maxUSD {
			maxUSD = t.USD
		}
	}
	const left, top, bottom = 20, 40, 40
	plotH := c.Height - top - bottom
	slot := (c.Width - 2*left) / len(years)
	barW := max(4, (slot-16)/len(actors))
	for yi, y := range years {
		x0 := left + yi*slot + (slot-barW*len(actors))/2
		c.Years = append(c.Years, axisLabel{X: left + yi*slot + slot/2, Text: strconv.Itoa(y)})
		for ai, a := range actors {
			for _, t := range totals {
				if t.Year != y || t.Actor != a {
					continue
				}
				h := 1
				if maxUSD > 0 {
					h = max(1, int(int64(plotH)*int64(t.USD)/int64(maxUSD)))
				}
				c.Bars = append(c.Bars, bar{X: x0 + ai*barW, Y: top + plotH - h, W: barW - 2, H: h,
					Color: actorColors[ai%len(actorColors)], Label: shortUSD(t.USD),
					Title: fmt.Sprintf("%d, %s: $%s in %d incidents", y, a, groupDigits(t.USD.Dollars()), t.Count)})
			}
		}
	}
	for ai, a := range actors {
		c.Legend = append(c.Legend, legendItem{X: left + ai*160, Color: actorColors[ai%len(actorColors)], Text: actorName(a)})
	}
	return c
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func actorName(id string) string {
	if a, ok := LookupActor(id); ok {
		return a.Name
	}
	return id
}

// groupDigits writes n with thousands separators: 659130000 -> 659,130,000.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// shortUSD writes u compactly: $659.1M, $1.50B.
func shortUSD(u heistgraph.USD) string {
	d := float64(u) / 100 // display only; totals are exact elsewhere
	switch {
	case d >= 1e9:
		return fmt.Sprintf("$%.2fB", d/1e9)
	case d >= 1e6:
		return fmt.Sprintf("$%.1fM", d/1e6)
	case d >= 1e3:
		return fmt.Sprintf("$%.0fK", d/1e3)
	}
	return fmt.Sprintf("$%.0f", d)
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"usd": func(u heistgraph.USD) string {
		if u < 0 {
			return "-$" + groupDigits(-u.Dollars())
		}
		return "$" + groupDigits(u.Dollars())
	},
	"usdp": func(u *heistgraph.USD) string {
		if u == nil {
			return ""
		}
		return "$" + groupDigits(u.Dollars())
	},
	"deref": func(s *string) string {
		if s == nil {
			return "not dated"
		}
		return *s
	},
	"year": func(y *int) string {
		if y == nil {
			return "every year"
		}
		return strconv.Itoa(*y)
	},
	"day":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
.summary { font-size: 1.2em; margin: .5em 0 1.5em; }
.total { font-weight: bold; font-size: 1.4em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .35em .5em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #666; font-size: .9em; }
.tier-official { color: #1b5e20; font-weight: 600; }
.tier-industry { color: #0d47a1; }
.tier-suspected { color: #6d4c41; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
code { font-size: .85em; word-break: break-all; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="summary">
{{with .Report}}<span class="total" id="total-usd">{{usd .TotalUSD}}</span> stolen in <span id="count">{{.Count}}</span> incident{{if ne .Count 1}}s{{end}}
({{year .Year}}, by day {{.By}}, tier {{.Tier}}, actor {{.Actor}}{{if .Source}}, as named by {{.Source}}{{end}}){{if .IncludeSuspected}}, suspected incidents included{{end}}.
{{if .SuspectedLeftOut}}<span id="left-out">Left out as suspected: {{join .SuspectedLeftOut ", "}}.</span>{{end}}{{end}}
</p>
<p class="muted">Each value is either the figure a named source reports (column "according to") or, where daily prices were imported,
the stolen amounts valued at the day of the theft ("prices"). Tier says who made the attribution:
official (a government), industry (a named analytics firm or researcher) or suspected.</p>

<h2>Totals by year and actor</h2>
<svg id="chart" role="img" aria-label="Bar chart of stolen USD by year and actor" width="{{.Chart.Width}}" height="{{.Chart.Height}}" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}" xmlns="http://www.w3.org/2000/svg">
{{- range .Chart.Legend}}
<rect x="{{.X}}" y="6" width="12" height="12" fill="{{.Color}}"/><text x="{{add .X 16}}" y="16">{{.Text}}</text>
{{- end}}
{{- range .Chart.Bars}}
<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>
<text x="{{.X}}" y="{{add .Y -4}}">{{.Label}}</text>
{{- end}}
{{- range .Chart.Years}}
<text x="{{.X}}" y="{{add $.Chart.Height -18}}" text-anchor="middle">{{.Text}}</text>
{{- end}}
{{- if .Chart.Empty}}<text x="20" y="150">No incidents.</text>{{end}}
</svg>

{{with .Report}}
<h2>Incidents</h2>
<table id="incidents">
<thead><tr><th>Incident</th><th>Stolen</th><th>Attributed</th><th>Tier</th><th class="num">USD</th><th>According to</th><th>Sources</th></tr></thead>
<tbody>
{{- range .Incidents}}
<tr><td>{{.Name}}<br><span class="muted">{{.Victim}} · {{.ID}}</span></td><td>{{.StolenOn}}</td><td>{{deref .AttributedOn}}</td>
<td class="tier-{{.Tier}}">{{.Tier}}{{if and (eq .Status "suspected") (ne .Tier "suspected")}} (status suspected){{end}}{{if .Groups}}<br><span class="muted">{{join .Groups ", "}}</span>{{end}}</td>
<td class="num">{{usd .USD}}{{if .USDNow}}<br><span class="muted">now {{usdp .USDNow}} ({{.USDNowAt}})</span>{{end}}</td>
<td>{{.USDSource}}<br><span class="muted">{{.USDAt}}</span>{{if .FigureChoice}}<br><span class="muted">{{.FigureChoice}}</span>{{end}}</td><td class="muted">{{join .Sources ", "}}</td></tr>
{{- end}}
</tbody>
<tfoot><tr><th colspan="4">Total</th><th class="num">{{usd .TotalUSD}}</th><th colspan="2">{{.Count}} incident{{if ne .Count 1}}s{{end}}</th></tr></tfoot>
</table>

{{if .Claims}}
<h2>What the sources count</h2>
<table id="claims">
<thead><tr><th>Source</th><th>Tier</th><th>Year</th><th class="num">Claimed</th><th class="num">Named here</th><th class="num">Remainder</th></tr></thead>
<tbody>
{{- range .Claims}}
<tr><td>{{.Source}}{{if .Note}}<br><span class="muted">{{.Note}}</span>{{end}}</td><td class="tier-{{.Tier}}">{{.Tier}}</td><td>{{.Year}}</td>
<td class="num">{{usd .USD}}{{if .Count}}<br><span class="muted">{{.Count}} incidents</span>{{end}}</td>
<td class="num">{{usd .NamedUSD}}<br><span class="muted">{{.NamedCount}} incidents</span></td>
<td class="num">{{usd .RemainderUSD}}{{if .RemainderCount}}<br><span class="muted">{{.RemainderCount}} incidents</span>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{end}}

<h2>Sources</h2>
<ol id="sources">
{{- range .Sources}}
<li id="src-{{.ID}}"><a href="{{.URL}}">{{.Title}}</a> — {{.Publisher}}{{if .Date}}, {{.Date}}{{end}}{{if .Version}} ({{.Version}}){{end}}
<span class="muted">[{{.ID}}, {{.Tier}}]</span></li>
{{- end}}
</ol>
{{end}}

{{with .Trace}}
<h2>Where the money went</h2>
<p>Traced from {{join .Seeds ", "}} with the {{.Policy}} policy.</p>
{{if $.Flow}}<div id="flow">{{$.Flow}}</div>{{end}}
<table id="sinks">
<thead><tr><th>Chain</th><th>Kind</th><th>Entity</th><th>Category</th><th>Address</th><th class="num">Amount</th></tr></thead>
<tbody>
{{- range .Sinks}}
<tr><td>{{.Chain}}</td><td>{{.Kind}}</td><td>{{.Entity}}</td><td>{{.Category}}</td><td><code>{{.Address}}</code></td><td class="num">{{.Amount}} {{.Asset}}</td></tr>
{{- end}}
</tbody>
</table>
<h3>Evidence</h3>
<table id="evidence">
<thead><tr><th>Transaction</th><th>Time (UTC)</th><th>From</th><th>To</th><th class="num">Amount</th><th>Note</th></tr></thead>
<tbody>
{{- range .Evidence}}
<tr><td><code>{{.Chain}} {{.TxID}}</code></td><td>{{day .Time}}</td><td><code>{{.From}}</code></td><td><code>{{.To}}</code></td><td class="num">{{.Amount}} {{.Asset}}</td><td>{{.Note}}</td></tr>
{{- end}}
</tbody>
</table>
{{end}}
</body>
</html>
`
