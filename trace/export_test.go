package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/trace"
)

// exportWorld is a theft split three ways: one part down the peel chain of
// methods.md §5.5, one into a consolidation and a labelled bridge, one
// left unspent.
const exportWorld = `
block 1
coinbase cb -> victim:20.0
block 2 time=1700001200
tx theft cb:0 -> thief:19.999
block 3 time=+600
tx split theft:0 -> t1:10.0 t2:3.0 t3:3.0 t4:3.998
block 4 time=+600
tx s1 split:0 -> x1:1.0 r1:8.99
tx cons split:1 split:2 split:3 -> gather:9.997
block 5 time=+1200
tx s2 s1:1 -> y1:0.5 r2:8.48
tx br cons:0 -> bridge_dep:9.996
block 6 time=+1200
tx s3 s2:1 -> r3:6.47 x2:2.0
block 7 time=+1200
tx s4 s3:0 -> y2:0.7 r4:5.76
`

func exportResult(t *testing.T) (*testutil.Graph, *trace.Result) {
	t.Helper()
	g, err := testutil.ParseGraph(chain, exportWorld)
	if err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if err := g.Apply(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	labels := mapResolver{
		"x1": {Name: "Exchange X", Category: "exchange"}, "x2": {Name: "Exchange X", Category: "exchange"},
		"y1": {Name: "Exchange Y", Category: "exchange"}, "y2": {Name: "Exchange Y", Category: "exchange"},
		"bridge_dep": {Name: "Arc Bridge", Category: "bridge"}, "victim": {Name: "Meridian", Category: "victim"},
	}
	res, err := trace.Run(context.Background(), st, trace.Options{Chain: chain, Resolver: labels,
		Seeds: []trace.Seed{{Kind: trace.SeedOutput, Outpoint: heistgraph.Outpoint{TxID: testutil.TxID("theft")}}}})
	if err != nil {
		t.Fatal(err)
	}
	res.Stats.MS = 0
	return g, res
}

// TestGolden pins the JSON, GraphML and DOT output of one trace
// (regenerate with -update).
func TestGolden(t *testing.T) {
	_, res := exportResult(t)
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "golden/trace.json", js.Bytes())
	var gm bytes.Buffer
	if err := res.WriteGraphML(&gm); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "golden/trace.graphml", gm.Bytes())
	var dot bytes.Buffer
	if err := res.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "golden/trace.dot", dot.Bytes())
}

// TestGraphMLWellFormed parses the GraphML back: every data key is
// declared, every edge joins declared nodes, and the peel chain is one
// node.
func TestGraphMLWellFormed(t *testing.T) {
	_, res := exportResult(t)
	var b bytes.Buffer
	if err := res.WriteGraphML(&b); err != nil {
		t.Fatal(err)
	}
	type data struct {
		Key   string `xml:"key,attr"`
		Value string `xml:",chardata"`
	}
	var doc struct {
		Keys []struct {
			ID  string `xml:"id,attr"`
			For string `xml:"for,attr"`
		} `xml:"key"`
		Graph struct {
			Data  []data `xml:"data"`
			Nodes []struct {
				ID   string `xml:"id,attr"`
				Data []data `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				Source string `xml:"source,attr"`
				Target string `xml:"target,attr"`
				Data   []data `xml:"data"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("GraphML does not parse: %v", err)
	}
	keys := map[string]string{}
	for _, k := range doc.Keys {
		keys[k.ID] = k.For
	}
	check := func(ds []data, for_ string) {
		for _, d := range ds {
			if f, ok := keys[d.Key]; !ok || f != for_ {
				t.Errorf("data key %q used on a %s is declared for %q", d.Key, for_, f)
			}
		}
	}
	check(doc.Graph.Data, "graph")
	nodes := map[string]bool{}
	peels := 0
	for _, n := range doc.Graph.Nodes {
		nodes[n.ID] = true
		check(n.Data, "node")
		for _, d := range n.Data {
			if d.Key == "kind" && d.Value == "peel_chain" {
				peels++
			}
		}
	}
	for _, e := range doc.Graph.Edges {
		if !nodes[e.Source] || !nodes[e.Target] {
			t.Errorf("edge %s -> %s joins an undeclared node", e.Source, e.Target)
		}
		check(e.Data, "edge")
	}
	if peels != 1 {
		t.Errorf("want the peel chain as one node, have %d", peels)
	}
}
