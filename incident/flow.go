package incident

import (
	"fmt"
	"html/template"
	"math/big"
	"strings"
)

// The flow graph of a traced incident, drawn as inline SVG from the trace's
// edges and sinks: transactions as boxes in rows by their distance from the
// theft (seed transactions bold, at the top), sinks as coloured boxes one
// row below the transaction that holds them, and every flow of stolen value
// as a curve whose width grows with its amount. Big traces are
// cut at maxFlowNodes nodes with a note; the evidence and sink tables list
// everything.

const (
	maxFlowNodes = 80
	flowNodeW    = 170
	flowNodeH    = 40
	flowColW     = 190
	flowRowH     = 80
	flowMargin   = 16
)

// sinkFill gives each sink kind a colour (as trace's DOT export does).
var sinkFill = map[string]string{
	"entity": "#f4a582", "unspent": "#d6604d", "threshold": "#e0e0e0", "hop_limit": "#92c5de",
	"untraced": "#92c5de", "burned": "#404040", "overlap": "#fddbc7",
}

type flowNode struct {
	id         string
	seed, sink bool
	depth, row int
	lines      [2]string
	fill       string
}

type flowLink struct {
	from, to string
	amount   *big.Int
	label    string
}

// flowSVG draws t's flow graph; "" when t has neither edges nor sinks.
func flowSVG(t *TraceSummary) template.HTML {
	if len(t.Edges) == 0 && len(t.Sinks) == 0 {
		return ""
	}
	var nodes []*flowNode
	byID := map[string]*flowNode{}
	txNode := func(txid string) *flowNode {
		if n, ok := byID["tx:"+txid]; ok {
			return n
		}
		n := &flowNode{id: "tx:" + txid, lines: [2]string{shortTxID(txid), ""}, fill: "#ffffff"}
		byID[n.id] = n
		nodes = append(nodes, n)
		return n
	}
	for _, s := range t.Seeds {
		txid, _, _ := strings.Cut(s, ":")
		txNode(txid).seed = true
	}
	var links []flowLink
	for _, e := range t.Edges {
		txNode(e.From)
		txNode(e.To)
		links = append(links, flowLink{from: "tx:" + e.From, to: "tx:" + e.To, amount: baseUnits(e.Amount), label: amountText(e.Amount, e.Asset)})
	}
	for i, s := range t.Sinks {
		id := fmt.Sprintf("sink:%d", i)
		who := s.Entity
		if who == "" {
			who = shortAddress(s.Address)
		}
		head := s.Kind + " · " + who
		if s.Chain != "" {
			head = string(s.Chain) + " · " + head
		}
		n := &flowNode{id: id, sink: true, lines: [2]string{head, amountText(s.Amount, s.Asset)}, fill: sinkFill[s.Kind]}
		if n.fill == "" {
			n.fill = "#ffffff"
		}
		byID[id] = n
		nodes = append(nodes, n)
		if s.TxID != "" {
			txNode(s.TxID)
			links = append(links, flowLink{from: "tx:" + s.TxID, to: id, amount: baseUnits(s.Amount)})
		}
	}
	// Depth: the longest path from a seed (edges follow chain order, so
	// relaxing once per node settles it).
	for range nodes {
		changed := false
		for _, l := range links {
			if d := byID[l.from].depth + 1; d > byID[l.to].depth {
				byID[l.to].depth, changed = d, true
			}
		}
		if !changed {
			break
		}
	}
	// Places in order of first appearance within each row; cut big graphs.
	rows := map[int]int{}
	drawn := map[string]bool{}
	maxDepth, maxRow, cut := 0, 0, 0
	for _, n := range nodes {
		if len(drawn) >= maxFlowNodes {
			cut++
			continue
		}
		n.row = rows[n.depth]
		rows[n.depth]++
		drawn[n.id] = true
		maxDepth, maxRow = max(maxDepth, n.depth), max(maxRow, n.row)
	}
	width := 2*flowMargin + maxRow*flowColW + flowNodeW
	height := 2*flowMargin + maxDepth*flowRowH + flowNodeH + 20
	maxAmount := new(big.Int)
	for _, l := range links {
		if l.amount.Cmp(maxAmount) > 0 {
			maxAmount = l.amount
		}
	}
	pos := func(n *flowNode) (x, y int) {
		return flowMargin + n.row*flowColW, flowMargin + n.depth*flowRowH
	}

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg id="flowgraph" role="img" aria-label="Flow of the stolen value" width="%d" height="%d" viewBox="0 0 %d %d" style="max-width:100%%;height:auto" xmlns="http://www.w3.org/2000/svg">`,
		width, height, width, height)
	for _, l := range links {
		from, to := byID[l.from], byID[l.to]
		if !drawn[from.id] || !drawn[to.id] {
			continue
		}
		x1, y1 := pos(from)
		x2, y2 := pos(to)
		x1, y1, x2 = x1+flowNodeW/2, y1+flowNodeH, x2+flowNodeW/2
		w := 1.0
		if maxAmount.Sign() > 0 {
			r, _ := new(big.Rat).SetFrac(l.amount, maxAmount).Float64() // drawing only
			w = 1 + 7*r
		}
		fmt.Fprintf(&b, `<path class="flow" d="M%d %d C%d %d,%d %d,%d %d" fill="none" stroke="#8a8a8a" stroke-opacity="0.8" stroke-width="%.1f"/>`,
			x1, y1, x1, y1+flowRowH/3, x2, y2-flowRowH/3, x2, y2, w)
		if l.label != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%s</text>`, (x1+x2)/2+6, (y1+y2)/2+4, esc(l.label))
		}
	}
	for _, n := range nodes {
		if !drawn[n.id] {
			continue
		}
		x, y := pos(n)
		stroke, sw, rx := "#555", 1, 2
		if n.seed {
			stroke, sw = "#b3261e", 3
		}
		if n.sink {
			rx = 10
		}
		fmt.Fprintf(&b, `<rect class="node" x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="%s" stroke-width="%d"/>`,
			x, y, flowNodeW, flowNodeH, rx, n.fill, stroke, sw)
		textColor := "#222"
		if n.fill == "#404040" {
			textColor = "#fff"
		}
		if n.lines[1] == "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s" text-anchor="middle"><tspan font-family="monospace">%s</tspan></text>`,
				x+flowNodeW/2, y+flowNodeH/2+4, textColor, esc(n.lines[0]))
			continue
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s" text-anchor="middle">%s</text><text x="%d" y="%d" font-size="11" fill="%s" text-anchor="middle">%s</text>`,
			x+flowNodeW/2, y+16, textColor, esc(n.lines[0]), x+flowNodeW/2, y+31, textColor, esc(n.lines[1]))
	}
	if cut > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%d more nodes not drawn; the tables below list every sink.</text>`,
			flowMargin, height-8, cut)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

func shortTxID(txid string) string {
	if len(txid) > 16 {
		return txid[:8] + "…" + txid[len(txid)-6:]
	}
	return txid
}

func shortAddress(a string) string {
	if len(a) > 14 {
		return a[:8] + "…" + a[len(a)-4:]
	}
	return a
}

// baseUnits parses an amount for drawing; a bad one counts as zero.
func baseUnits(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 0 {
		return new(big.Int)
	}
	return n
}

// amountText writes an amount for a reader: satoshis as BTC, other assets
// in base units with the asset.
func amountText(amount, asset string) string {
	if asset != "sat" {
		return strings.TrimSpace(amount + " " + asset)
	}
	n := baseUnits(amount)
	whole, frac := new(big.Int).QuoRem(n, big.NewInt(100_000_000), new(big.Int))
	f := strings.TrimRight(fmt.Sprintf("%08d", frac.Int64()), "0")
	if f == "" {
		return whole.String() + " BTC"
	}
	return whole.String() + "." + f + " BTC"
}
