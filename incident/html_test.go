package incident

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHTML renders the joint statement's report and checks that a reader
// finds the numbers, the sources and a drawn chart. Phase 2 renders it in
// headless Chromium.
func TestHTML(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	p, err := NewPage(reg, Query{Source: "joint-statement-2025-01-14"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`id="total-usd">$659,130,000<`, `id="count">5<`,
		"$308,000,000", "$235,000,000", "$50,000,000", "$16,130,000",
		"DMM Bitcoin", "Upbit", "2024-11-21", // Upbit's attribution day
		`href="https://www.state.gov/office-of-the-spokesperson/releases/2025/01/joint-statement-on-cryptocurrency-thefts-by-the-democratic-peoples-republic-of-korea-and-public-private-collaboration"`,
		"<svg", "2019", "2024", "DPRK state cyber actors",
		"Derived from the listed amounts", // the statement's total is the sum of its amounts
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	bars := regexp.MustCompile(`<rect class="bar" x="\d+" y="\d+" width="\d+" height="(\d+)"`).FindAllStringSubmatch(html, -1)
	if len(bars) < 2 {
		t.Fatalf("the chart has %d bars, want one per year (2019, 2024)", len(bars))
	}
	for _, b := range bars {
		if b[1] == "0" {
			t.Error("a bar of height 0")
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("the report carries a script")
	}
}

func TestHTMLTrace(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	trace := &TraceSummary{
		Incident: "dmm-bitcoin-2024", Policy: "haircut",
		Seeds: []string{"975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7:0"},
		Sinks: []TraceSink{{Kind: "unspent", Address: "bc1q<script>", Amount: "450290000000", Asset: "BTC"}},
		Evidence: []TraceEvidence{{Chain: "btc", TxID: "975ec405ac9dc9fa5ab8009d94d6a1fe31dff8a8127ea90d023104e52754e4d7",
			Time: time.Date(2024, 5, 31, 4, 26, 0, 0, time.UTC), From: "3P8MfdM4pULv7ozdQvfwAqNF29zAjmnUYD",
			To: "1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P", Amount: "450290000000", Asset: "BTC"}},
		FlowSVG: []byte(`<svg id="flowgraph"></svg>`),
	}
	p, err := NewPage(reg, Query{Incident: "dmm-bitcoin-2024"}, loadPrices(t), trace)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{"Incident: DMM Bitcoin", `<svg id="flowgraph">`, "1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P",
		"2024-05-31 04:26:00", "$307,874,498", "bc1q&lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestHTMLFlow draws the flow graph from a trace's edges and sinks: one box
// per transaction and sink, one curve per flow, texts escaped.
func TestHTMLFlow(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	seed := "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
	next := "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	trace := &TraceSummary{
		Incident: "dmm-bitcoin-2024", Policy: "haircut", Seeds: []string{seed},
		Edges: []TraceEdge{{From: seed, To: next, Amount: "5000000000", Asset: "sat"}},
		Sinks: []TraceSink{
			{Kind: "unspent", Address: "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", TxID: next, Amount: "1000000000", Asset: "sat"},
			{Kind: "entity", Entity: "Exchange <X>", Category: "exchange", Address: "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", TxID: next, Amount: "4000000000", Asset: "sat"},
		},
	}
	p, err := NewPage(reg, Query{Incident: "dmm-bitcoin-2024"}, nil, trace)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	start := strings.Index(html, `<svg id="flowgraph"`)
	if start < 0 {
		t.Fatal("no flow graph drawn")
	}
	svg := html[start : start+strings.Index(html[start:], "</svg>")]
	if n := strings.Count(svg, `class="node"`); n != 4 {
		t.Errorf("%d boxes, want 4 (2 transactions, 2 sinks)", n)
	}
	if n := strings.Count(svg, `class="flow"`); n != 3 {
		t.Errorf("%d flows, want 3 (tx to tx, tx to each sink)", n)
	}
	for _, want := range []string{"0437cd7f…a597c9", "50 BTC", "10 BTC", "40 BTC", "entity · Exchange &lt;X&gt;", "unspent · 1Q2TWHE3…Jvm3", `stroke="#b3261e"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the flow graph lacks %q", want)
		}
	}
	if strings.Contains(svg, "<X>") {
		t.Error("an entity name went into the SVG unescaped")
	}
}

// TestHTMLSuspected: the page of 2025 names the suspected incidents it
// leaves out and shows each preferred figure's reason; with them included
// it counts them and marks them.
func TestHTMLSuspected(t *testing.T) {
	t.Parallel()
	reg := loadShipped(t)
	render := func(q Query) string {
		t.Helper()
		p, err := NewPage(reg, q, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteHTML(&buf, p); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	without := render(Query{Year: 2025})
	for _, want := range []string{`id="count">2<`, "Left out as suspected: bitopro-2025, woo-x-2025, upbit-2025.",
		"the first official figure"} {
		if !strings.Contains(without, want) {
			t.Errorf("the 2025 page lacks %q", want)
		}
	}
	with := render(Query{Year: 2025, IncludeSuspected: true})
	for _, want := range []string{`id="count">5<`, "suspected incidents included"} {
		if !strings.Contains(with, want) {
			t.Errorf("the 2025 page with the suspected lacks %q", want)
		}
	}
	if strings.Contains(with, "Left out as suspected") {
		t.Error("the page with the suspected still lists some as left out")
	}
	// PlayDapp: official attribution, status suspected (contested).
	if p24 := render(Query{Year: 2024, IncludeSuspected: true}); !strings.Contains(p24, "official (status suspected)") {
		t.Error("the 2024 page does not mark PlayDapp's official attribution as status suspected")
	}
}
