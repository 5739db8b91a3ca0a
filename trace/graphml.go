package trace

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// graphmlKeys declares every attribute GraphML output uses: GraphML
// readers (Gephi, yEd, NetworkX, igraph) need each data key declared
// with its type.
var graphmlKeys = []struct{ id, for_, name, typ string }{
	{"g_policy", "graph", "policy", "string"},
	{"g_chain", "graph", "chain", "string"},
	{"g_seed_amount_sat", "graph", "seed_amount_sat", "long"},
	{"g_fees_sat", "graph", "fees_sat", "long"},
	{"label", "node", "label", "string"},
	{"kind", "node", "kind", "string"},
	{"txid", "node", "txid", "string"},
	{"height", "node", "height", "long"},
	{"seed", "node", "seed", "boolean"},
	{"events", "node", "events", "string"},
	{"length", "node", "length", "int"},
	{"sink_kind", "node", "sink_kind", "string"},
	{"address", "node", "address", "string"},
	{"entity", "node", "entity", "string"},
	{"category", "node", "category", "string"},
	{"amount_sat", "node", "amount_sat", "long"},
	{"e_amount_sat", "edge", "amount_sat", "long"},
	{"hops", "node", "hops", "int"},
	{"source", "node", "source", "string"},
	{"weight", "edge", "weight", "double"},
	{"elabel", "edge", "label", "string"},
}

// WriteGraphML writes the trace as a GraphML document (directed graph):
// transactions, collapsed peel chains and sinks as nodes, flows of taint
// as edges with amount_sat (exact) and weight (the same in BTC, for
// layout). Every attribute key is declared, so it opens in Gephi and
// other graph tools. The output is byte-identical between runs of the same
// trace.
func (r *Result) WriteGraphML(w io.Writer) error {
	g := r.buildGraph()
	bw := bufio.NewWriter(w)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	bw.WriteString(`<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">` + "\n")
	for _, k := range graphmlKeys {
		fmt.Fprintf(bw, "  <key id=%q for=%q attr.name=%q attr.type=%q/>\n", k.id, k.for_, k.name, k.typ)
	}
	bw.WriteString(`  <graph id="trace" edgedefault="directed">` + "\n")
	data := func(indent, key, v string) {
		fmt.Fprintf(bw, "%s<data key=%q>", indent, key)
		xml.EscapeText(bw, []byte(v))
		bw.WriteString("</data>\n")
	}
	data("    ", "g_policy", string(r.Policy))
	data("    ", "g_chain", string(r.Chain))
	data("    ", "g_seed_amount_sat", strconv.FormatInt(r.SeedAmountSat, 10))
	data("    ", "g_fees_sat", strconv.FormatInt(r.FeesSat, 10))
	for _, n := range g.nodes {
		bw.WriteString("    <node id=\"")
		xml.EscapeText(bw, []byte(n.id))
		bw.WriteString("\">\n")
		data("      ", "label", n.label)
		data("      ", "kind", n.kind)
		data("      ", "txid", n.txid)
		switch n.kind {
		case "tx", "peel_chain":
			data("      ", "height", strconv.FormatInt(n.height, 10))
			if n.kind == "tx" {
				data("      ", "seed", strconv.FormatBool(n.seed))
				if n.events != "" {
					data("      ", "events", n.events)
				}
			} else {
				data("      ", "length", strconv.Itoa(n.length))
				data("      ", "amount_sat", strconv.FormatInt(n.amount, 10))
			}
		case "sink":
			data("      ", "sink_kind", n.sinkKind)
			data("      ", "address", n.address)
			data("      ", "entity", n.entity)
			data("      ", "category", n.category)
			data("      ", "amount_sat", strconv.FormatInt(n.amount, 10))
			data("      ", "hops", strconv.Itoa(n.hops))
			data("      ", "source", n.source)
		}
		bw.WriteString("    </node>\n")
	}
	for i, e := range g.edges {
		fmt.Fprintf(bw, "    <edge id=\"e%d\" source=\"", i)
		xml.EscapeText(bw, []byte(e.from))
		bw.WriteString("\" target=\"")
		xml.EscapeText(bw, []byte(e.to))
		bw.WriteString("\">\n")
		data("      ", "e_amount_sat", strconv.FormatInt(e.amount, 10))
		data("      ", "weight", btcNumber(e.amount))
		data("      ", "elabel", btcString(e.amount))
		bw.WriteString("    </edge>\n")
	}
	bw.WriteString("  </graph>\n</graphml>\n")
	return bw.Flush()
}
