package risk_test

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/risk"
)

// TestLabelsChangeAfter checks the times at which labels start and stop
// being valid, and that an answer given at any time before the next one is
// the answer given at the last second of that window (serve's answer cache
// keeps an answer until then), while the window's end changes it.
func TestLabelsChangeAfter(t *testing.T) {
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g, err := testutil.ParseGraph(chain, "block 1\ncoinbase cb -> a:1.0 b:2.0\nblock 2\ntx p cb:1 -> a:0.5 c:1.4\n")
	if err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if err := g.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	lbl := func(addr, cat string, from, until int64) heistgraph.Label {
		return heistgraph.Label{Chain: chain, Address: addr, Entity: addr + " " + cat, Category: cat, Source: "t", Confidence: 1, ValidFrom: from, ValidUntil: until}
	}
	if _, err := st.PutLabels(ctx, []heistgraph.Label{
		lbl("a", "exchange", 100, 200), // valid 100..200: changes at 100 and 201
		lbl("a", "scam", 150, 0),       // from 150 on
		lbl("b", "sanctioned", 0, 300), // until 300: changes at 301
		lbl("b", "mixer", 0, 0),        // always: no change
	}); err != nil {
		t.Fatal(err)
	}
	var now int64
	sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(now, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ t, want int64 }{
		{0, 100}, {99, 100}, {100, 150}, {149, 150}, {150, 201}, {200, 201}, {201, 301}, {300, 301}, {301, math.MaxInt64}, {5000, math.MaxInt64},
	} {
		got, err := sc.LabelsChangeAfter(ctx, chain, tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("LabelsChangeAfter(%d) = %d, want %d", tc.t, got, tc.want)
		}
	}
	answer := func(at int64, it risk.Item) []byte {
		t.Helper()
		now = at
		a, err := sc.Screen(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		b, err := a.AppendJSON(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	items := []risk.Item{{Chain: chain, Address: "a"}, {Chain: chain, Address: "b"}, {Chain: chain, Address: "c"},
		{Chain: chain, Outpoint: &heistgraph.Outpoint{TxID: testutil.TxID("p"), Vout: 0}}}
	for _, it := range items {
		for _, t0 := range []int64{0, 120, 160, 250, 400} {
			end, err := sc.LabelsChangeAfter(ctx, chain, t0)
			if err != nil {
				t.Fatal(err)
			}
			last := min(end-1, t0+1000)
			if a, b := answer(t0, it), answer(last, it); !bytes.Equal(a, b) {
				t.Errorf("%+v: the answer at %d differs from the one at %d, before the next change at %d:\n%s\n%s", it, t0, last, end, a, b)
			}
		}
	}
	// The windows' ends are real changes for the owners of a and b.
	for _, tc := range []struct {
		addr   string
		before int64
	}{{"a", 99}, {"a", 149}, {"a", 200}, {"b", 300}} {
		it := risk.Item{Chain: chain, Address: tc.addr}
		if bytes.Equal(answer(tc.before, it), answer(tc.before+1, it)) {
			t.Errorf("%s: the answer at %d is the answer at %d, across a label's change", tc.addr, tc.before, tc.before+1)
		}
	}
}
