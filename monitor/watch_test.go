package monitor

import (
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// TestPathTo: the path follows the largest tainted edge into each step back
// to a transaction no edge enters, seed side first, and stops on a cycle.
func TestPathTo(t *testing.T) {
	h := func(b byte) heistgraph.Hash { return heistgraph.Hash{b} }
	into := map[heistgraph.Hash]trace.Edge{}
	for _, e := range []trace.Edge{{From: h(1), To: h(2), AmountSat: 5}, {From: h(9), To: h(2), AmountSat: 9}, {From: h(2), To: h(3), AmountSat: 4}} {
		if cur, ok := into[e.To]; !ok || e.AmountSat > cur.AmountSat {
			into[e.To] = e
		}
	}
	got := pathTo(into, h(3))
	want := []heistgraph.Hash{h(9), h(2), h(3)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("path %v, want %v", got, want)
	}
	into[h(9)] = trace.Edge{From: h(3), To: h(9)} // a cycle
	if got := pathTo(into, h(3)); len(got) != 3 || got[2] != h(3) {
		t.Errorf("path through a cycle %v", got)
	}
	if got := pathTo(map[heistgraph.Hash]trace.Edge{}, h(7)); len(got) != 1 || got[0] != h(7) {
		t.Errorf("path of a seed's own tx %v", got)
	}
}
