package trace

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// graph is the picture of a result that GraphML and DOT draw: one node per
// transaction (a peel chain collapsed into one node, methods.md §5.2), one
// per sink, and an edge for every flow of taint between them. Nodes and
// edges are in a fixed order (chain positions), so the files are
// byte-identical between runs.
type graph struct {
	nodes []gnode
	edges []gedge
}

type gnode struct {
	id    string
	kind  string // tx, peel_chain, sink
	label string
	// tx and peel_chain
	txid   string
	height int64
	seed   bool
	events string // event kinds at the transaction, comma-separated
	length int    // peel chain
	// sink
	sinkKind string
	address  string
	entity   string
	category string
	amount   int64
	hops     int
	source   string
}

type gedge struct {
	from, to string
	amount   int64
}

// buildGraph draws r.
func (r *Result) buildGraph() *graph {
	g := &graph{}
	chainOf := map[heistgraph.Hash]*pattern.PeelChain{}
	evs := map[heistgraph.Hash][]string{}
	for _, e := range r.Events {
		if pc, ok := e.Detail.(*pattern.PeelChain); ok {
			for _, s := range pc.Steps {
				if _, seen := chainOf[s]; !seen {
					chainOf[s] = pc
				}
			}
			continue
		}
		if !slices.Contains(evs[e.TxID], e.Kind) {
			evs[e.TxID] = append(evs[e.TxID], e.Kind)
		}
	}
	nodeOf := func(txid heistgraph.Hash) string {
		if pc, ok := chainOf[txid]; ok {
			return "peel:" + pc.Head.String()
		}
		return "tx:" + txid.String()
	}
	// Transactions in chain order.
	var txs []heistgraph.Hash
	seen := map[heistgraph.Hash]bool{}
	add := func(h heistgraph.Hash) {
		if !seen[h] {
			seen[h] = true
			txs = append(txs, h)
		}
	}
	for _, e := range r.Edges.All() {
		add(e.From)
		add(e.To)
	}
	for _, s := range r.Sinks.All() {
		add(s.TxID)
	}
	for _, e := range r.Events {
		add(e.TxID)
	}
	txPos := r.txPos()
	slices.SortFunc(txs, func(a, b heistgraph.Hash) int {
		pa, oka := txPos[a]
		pb, okb := txPos[b]
		if oka && okb {
			if c := pa.cmp(pb); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.String(), b.String())
	})
	placed := map[string]bool{}
	for _, h := range txs {
		id := nodeOf(h)
		if placed[id] {
			continue
		}
		placed[id] = true
		if pc, ok := chainOf[h]; ok {
			g.nodes = append(g.nodes, gnode{id: id, kind: "peel_chain", txid: pc.Head.String(), height: txPos[pc.Head].height,
				length: pc.Length, amount: pc.TotalPeeled,
				label: fmt.Sprintf("peel chain ×%d\npeeled %s", pc.Length, btcString(pc.TotalPeeled))})
			continue
		}
		n := gnode{id: id, kind: "tx", txid: h.String(), height: txPos[h].height, seed: r.seedTxs[h]}
		for i, k := range evs[h] {
			if i > 0 {
				n.events += ","
			}
			n.events += k
		}
		n.label = shortID(h)
		if n.events != "" {
			n.label += "\n" + n.events
		}
		g.nodes = append(g.nodes, n)
	}
	// Edges between transactions, merged where a peel chain collapses.
	type key struct{ from, to string }
	at := map[key]int{}
	for _, e := range r.Edges.All() {
		k := key{nodeOf(e.From), nodeOf(e.To)}
		if k.from == k.to {
			continue
		}
		if i, ok := at[k]; ok {
			g.edges[i].amount += e.AmountSat
			continue
		}
		at[k] = len(g.edges)
		g.edges = append(g.edges, gedge{from: k.from, to: k.to, amount: e.AmountSat})
	}
	for i, s := range r.Sinks.All() {
		id := fmt.Sprintf("sink:%d", i)
		label := string(s.Kind)
		if s.Entity != "" {
			label += "\n" + s.Entity
		} else if s.Address != "" {
			label += "\n" + s.Address
		}
		label += "\n" + btcString(s.AmountSat)
		g.nodes = append(g.nodes, gnode{id: id, kind: "sink", label: label, txid: s.TxID.String(), sinkKind: string(s.Kind),
			address: s.Address, entity: s.Entity, category: s.Category, amount: s.AmountSat, hops: s.Hops, source: s.Source})
		g.edges = append(g.edges, gedge{from: nodeOf(s.TxID), to: id, amount: s.AmountSat})
	}
	return g
}

// shortID abbreviates a txid for labels: the first and last 6 digits.
func shortID(h heistgraph.Hash) string {
	s := h.String()
	return s[:6] + "…" + s[58:]
}

// btcString formats satoshis as BTC with eight decimals, exactly.
func btcString(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "-", -sat
	}
	return fmt.Sprintf("%s%d.%08d BTC", sign, sat/100_000_000, sat%100_000_000)
}

// btcNumber is btcString without the unit (for a numeric attribute).
func btcNumber(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "-", -sat
	}
	return fmt.Sprintf("%s%d.%08d", sign, sat/100_000_000, sat%100_000_000)
}
