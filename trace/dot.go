package trace

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes the trace as a Graphviz DOT digraph (left to right):
// transactions as boxes (seeds bold), collapsed peel chains as 3-D boxes,
// sinks as ellipses coloured by kind, and flows of taint as edges labelled
// with their amount in BTC. Render with `dot -Tsvg`. The output is
// byte-identical between runs of the same trace.
func (r *Result) WriteDOT(w io.Writer) error {
	g := r.buildGraph()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "digraph trace {\n  label=%s;\n  labelloc=t;\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
		dotQuote(fmt.Sprintf("%s trace of %s on %s (fees %s)", r.Policy, btcString(r.SeedAmountSat), r.Chain, btcString(r.FeesSat))))
	for _, n := range g.nodes {
		attrs := ""
		switch n.kind {
		case "tx":
			attrs = "shape=box"
			if n.seed {
				attrs += ", style=bold"
			}
		case "peel_chain":
			attrs = "shape=box3d"
		case "sink":
			attrs = "shape=ellipse, style=filled, fillcolor=" + dotQuote(sinkColor(n.sinkKind))
		}
		fmt.Fprintf(bw, "  %s [label=%s, %s];\n", dotQuote(n.id), dotQuote(n.label), attrs)
	}
	for _, e := range g.edges {
		fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", dotQuote(e.from), dotQuote(e.to), dotQuote(btcString(e.amount)))
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// sinkColor gives each sink kind a colour.
func sinkColor(kind string) string {
	switch SinkKind(kind) {
	case SinkEntity:
		return "#f4a582"
	case SinkUnspent:
		return "#d6604d"
	case SinkThreshold:
		return "#e0e0e0"
	case SinkHopLimit, SinkUntraced:
		return "#92c5de"
	case SinkBurned:
		return "#404040"
	}
	return "#ffffff"
}

// dotQuote quotes s as a DOT string (newlines as \n).
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
