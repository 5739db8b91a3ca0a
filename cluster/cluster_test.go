package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// fund pays each address its value from a coinbase named name; the coin of
// address i is name:i.
func (g *graph) fund(name string, outs ...out) { g.coinbase(name, outs...) }

// TestCommonInput: the inputs of a transaction are one entity (methods.md
// §3.2); a one-input spend and a coinbase join nothing.
func TestCommonInput(t *testing.T) {
	g := newGraph(t)
	g.fund("f", o("A", 100_000_000), o("B", 100_000_000), o("C", 100_000_000))
	g.mine()
	g.spend("t1", mobile, []string{"f:0", "f:1"}, o("X", 199_000_000))
	g.spend("t2", mobile, []string{"f:2"}, o("Y", 99_000_000))
	g.mine()
	s := g.update(nil)
	g.together("A", "B")
	g.apart("A", "C", "X", "Y")
	if s.CommonInput != 1 {
		t.Errorf("common-input merges %d, want 1", s.CommonInput)
	}
	ev := g.evidenceOf(heistgraph.HeuristicCommonInput)
	if len(ev) != 1 || ev[0].TxID != fakeHash("tx/t1") || ev[0].Status != heistgraph.EvidenceApplied || len(ev[0].AddrIDs) != 2 {
		t.Errorf("evidence %+v", ev)
	}
	// Cluster ids are the oldest address's: A came first.
	if c := g.clusterOf("B"); c != g.clusterOf("A") || c >= g.clusterOf("C") {
		t.Errorf("cluster of B %d, of A %d, of C %d", c, g.clusterOf("A"), g.clusterOf("C"))
	}
}

// coinjoinCase is a transaction that is (or is not) a CoinJoin, spent from
// coins funded for it.
type coinjoinCase struct {
	name     string
	ins      []out
	outs     []out
	opReturn bool
	kind     string // the CoinJoin kind expected, "stonewall", or "" for none
}

func seqOuts(prefix string, n int, v int64) []out {
	var r []out
	for i := range n {
		r = append(r, o(fmt.Sprintf("%s%d", prefix, i), v))
	}
	return r
}

func TestCoinJoinsGetNoCommonInput(t *testing.T) {
	t.Parallel()
	var w2in, w2out []out
	for i := range 25 {
		w2in = append(w2in, o(fmt.Sprintf("w2in%02d", i), int64(5_000_000-i*100_000)))
	}
	for i, d := range []int64{2_097_152, 1_000_000, 531_441, 200_000} {
		for j := range 5 {
			w2out = append(w2out, o(fmt.Sprintf("w2d%d-%d", i, j), d))
		}
	}
	w2out = append(w2out, o("w2change", 77_777), o("w2coord", 12_345))
	slices.SortStableFunc(w2out, func(a, b out) int { return int(b.value - a.value) })
	var batch []out
	for i := range 17 {
		batch = append(batch, o(fmt.Sprintf("cust%d", i), int64(1_234_567+i*77_001)))
	}
	tests := []coinjoinCase{
		{name: "whirlpool", ins: append(seqOuts("remix", 3, 1_000_000), o("new1", 1_000_450), o("new2", 1_000_312)),
			outs: seqOuts("post", 5, 1_000_000), kind: "whirlpool"},
		{name: "joinmarket", ins: []out{o("taker", 31_000_000), o("m1", 52_000_000), o("m2a", 7_000_000), o("m2b", 5_000_000), o("m3", 20_000_000)},
			outs: append(seqOuts("jm", 4, 5_000_000), o("ch1", 47_010_000), o("ch2", 6_990_000), o("ch3", 40_990_000)), kind: "joinmarket"},
		{name: "wasabi2", ins: w2in, outs: w2out, kind: "wasabi2"},
		{name: "generic", ins: []out{o("a", 3_100_000), o("b", 3_050_000), o("d", 3_200_000), o("e", 2_000_000)},
			outs: append(seqOuts("x", 3, 3_000_000), o("ch1", 99_000), o("ch2", 48_000), o("ch3", 198_000), o("ch4", 990_000), o("ch5", 990_001)), kind: "generic"},
		{name: "stonewall", ins: []out{o("a", 600_000), o("b", 700_000)},
			outs: []out{o("pay", 250_000), o("fake", 250_000), o("c1", 349_000), o("c2", 450_000)}, kind: "stonewall"},
		// Must not fire: H1 applies.
		{name: "batched exchange withdrawal", ins: seqOuts("hot", 6, 40_000_000),
			outs: append(seqOuts("w", 3, 1_000_000), batch...)},
		{name: "two-party payjoin (undetectable)", ins: []out{o("payer", 1_000_000), o("payee", 1_000_000)},
			outs: []out{o("payee2", 1_500_000), o("payerchange", 499_000)}},
		{name: "whirlpool tx0", ins: []out{o("depositor1", 4_000_000), o("depositor2", 4_000_000)},
			outs: append(seqOuts("premix", 7, 1_000_170), o("coordfee", 50_000), o("doxxic", 888_888)), opReturn: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGraph(t)
			var coins []string
			for i, x := range tc.ins {
				name := fmt.Sprintf("fund%d", i)
				g.fund(name, x)
				coins = append(coins, name+":0")
			}
			g.mine()
			g.spend("cj", mobile, coins, tc.outs...)
			if tc.opReturn {
				g.nulldata()
			}
			g.mine()
			s := g.update(nil)
			var addrs []string
			for _, x := range tc.ins {
				if !slices.Contains(addrs, x.addr) {
					addrs = append(addrs, x.addr)
				}
			}
			switch tc.kind {
			case "":
				g.together(addrs...)
				if len(s.CoinJoins) != 0 || s.Stonewalls != 0 {
					t.Errorf("detected %v, stonewalls %d", s.CoinJoins, s.Stonewalls)
				}
			case "stonewall":
				g.apart(addrs...)
				if s.Stonewalls != 1 {
					t.Errorf("stonewalls %d", s.Stonewalls)
				}
			default:
				g.apart(addrs...)
				if s.CoinJoins[tc.kind] != 1 {
					t.Errorf("coinjoins %v, want one %s", s.CoinJoins, tc.kind)
				}
			}
			// Nothing joins an output to the inputs either.
			for _, x := range tc.outs {
				for _, a := range addrs {
					if tc.kind != "" && g.clusterOf(x.addr) == g.clusterOf(a) {
						t.Errorf("output %s joined input %s", x.addr, a)
					}
				}
			}
		})
	}
}

// workedExample builds methods.md §3.6's example: A (0.70) and B (0.50)
// pay c (1.00000000, an address seen before) and d (0.19543210), or the
// swapped amounts of example 2.
func workedExample(t *testing.T, example int) *graph {
	g := newGraph(t)
	g.fund("f", o("A", 70_000_000), o("B", 50_000_000))
	g.fund("seen", ot("C", 10_000, pkh), o("D2", 10_000))
	g.mine()
	switch example {
	case 1:
		g.spend("tx1", core, []string{"f:0", "f:1"}, ot("C", 100_000_000, pkh), o("D", 19_543_210))
	case 2:
		g.spend("tx1", core, []string{"f:0", "f:1"}, o("C2", 19_000_000), o("D2", 100_543_210))
	}
	g.mine()
	return g
}

func TestChangeWorkedExamples(t *testing.T) {
	t.Parallel()
	t.Run("example 1: d is change", func(t *testing.T) {
		g := workedExample(t, 1)
		s := g.update(nil)
		g.together("A", "B", "D")
		g.apart("A", "C")
		ev := g.evidenceOf(heistgraph.HeuristicChange)
		if len(ev) != 1 || !ev[0].Soft || strings.Join(sortedVotes(ev[0].Votes), ",") != "fresh,optimal,round,type" {
			t.Errorf("change evidence %+v", ev)
		}
		if s.Change != 1 || s.ChangeDeferred != 0 {
			t.Errorf("change %d, deferred %d", s.Change, s.ChangeDeferred)
		}
	})
	t.Run("example 2: contradictory votes", func(t *testing.T) {
		g := workedExample(t, 2)
		g.update(nil)
		g.together("A", "B")
		g.apart("A", "C2", "D2")
		if ev := g.evidenceOf(heistgraph.HeuristicChange); len(ev) != 0 {
			t.Errorf("change evidence %+v", ev)
		}
	})
}

// only returns options with the change heuristics in list and min votes.
func only(t *testing.T, minVotes int, list ...string) *Options {
	opts := DefaultOptions()
	if err := ParseChangeHeuristics(&opts.Change, list); err != nil {
		t.Fatal(err)
	}
	opts.Change.MinVotes = minVotes
	return &opts
}

// TestChangeHeuristics gives each heuristic alone (one vote decides) a
// transaction where it is the only one that can tell the change d from the
// payment p, and checks that d joins the payer P.
func TestChangeHeuristics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		build  func(g *graph)
		list   []string
		merged bool
	}{
		{"fresh", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, o("seenP", 3_333_333), o("d", 6_655_555))
		}, []string{"fresh"}, true},
		{"round", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, o("p", 3_000_000), o("d", 6_988_888))
		}, []string{"round"}, true},
		{"round needs d digits", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, o("p", 3_000_100), o("d", 6_988_888))
		}, []string{"round"}, false},
		{"address type", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, ot("p", 3_333_333, pkh), o("d", 6_655_555))
		}, []string{"type"}, true},
		{"locktime", func(g *graph) {
			g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
			g.mine()
			g.spend("spendP", habit{2, 0, 0xfffffffd}, []string{"t:0"}, o("p2", 3_300_000))
			g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
		}, []string{"locktime"}, true},
		{"version", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
			g.mine()
			g.spend("spendP", old, []string{"t:0"}, o("p2", 3_300_000))
			g.spend("spendD", mobile, []string{"t:1"}, o("d2", 6_600_000))
		}, []string{"version"}, true},
		{"rbf", func(g *graph) {
			g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
			g.mine()
			g.spend("spendP", habit{2, 100, 0xffffffff}, []string{"t:0"}, o("p2", 3_300_000))
			g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
		}, []string{"rbf"}, true},
		{"rbf off by default", func(g *graph) {
			g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
			g.mine()
			g.spend("spendP", habit{2, 100, 0xffffffff}, []string{"t:0"}, o("p2", 3_300_000))
			g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
		}, []string{"default"}, false},
		{"legacy pair: type and optimal agree", func(g *graph) {
			g.spend("t", mobile, []string{"f:0", "f:1"}, ot("p", 13_333_333, pkh), o("d", 6_655_555))
		}, []string{"legacy-pair"}, true},
		{"legacy pair: optimal disagrees", func(g *graph) {
			g.spend("t", mobile, []string{"f:0", "f:1"}, ot("p", 6_655_555, pkh), o("d", 13_333_333))
		}, []string{"legacy-pair"}, false},
		{"optimal vetoes", func(g *graph) {
			// fresh and type vote for d, but p is smaller than every input.
			g.spend("t", mobile, []string{"f:0", "f:1"}, ot("seenP", 1_000_000, pkh), o("d", 18_988_888))
		}, []string{"fresh", "type", "optimal"}, false},
		{"optimal never votes for", func(g *graph) {
			g.spend("t", mobile, []string{"f:0", "f:1"}, o("p", 13_333_333), o("d", 6_655_555))
		}, []string{"optimal"}, false},
		{"self-change merges nothing new", func(g *graph) {
			g.spend("t", mobile, []string{"f:0"}, o("seenP", 3_333_333), o("P", 6_655_555))
		}, []string{"fresh"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGraph(t)
			g.fund("f", o("P", 10_000_000), o("P", 10_000_000))
			g.fund("seen", o("seenP", 1000))
			g.mine()
			tc.build(g)
			g.mine()
			g.update(only(t, 1, tc.list...))
			var merged bool
			if strings.HasPrefix(tc.name, "self-change") {
				merged = len(g.evidenceOf(heistgraph.HeuristicChange)) > 0
			} else {
				merged = g.clusterOf("P") == g.clusterOf("d")
			}
			if merged != tc.merged {
				t.Errorf("change merged %v, want %v; evidence %+v", merged, tc.merged, g.evidenceOf(heistgraph.HeuristicChange))
			}
			for _, p := range []string{"p", "seenP"} {
				if m, err := g.st.AddressCluster(context.Background(), chain, p); err == nil && m.ClusterID == g.clusterOf("P") && p != "P" {
					t.Errorf("payment %s joined the payer", p)
				}
			}
		})
	}
}

// TestChangeDeferred: with the default rule (two votes), fingerprints of
// the spenders complete a decision blocks later, at the second spend; a
// CoinJoin spender gives no vote; a spend after the window comes too late.
func TestChangeDeferred(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T, gap int, cjSpend bool) *graph {
		g := newGraph(t)
		g.fund("f", o("P", 10_000_000))
		g.mine()
		// Both outputs fresh, same type, not round: no static vote.
		g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
		g.mine()
		g.spend("spendP", old, []string{"t:0"}, o("p2", 3_300_000))
		g.mine()
		g.empty(gap)
		if cjSpend {
			var coins []string
			for i := range 4 {
				g.fund(fmt.Sprintf("cjf%d", i), o(fmt.Sprintf("other%d", i), 1_000_000))
				coins = append(coins, fmt.Sprintf("cjf%d:0", i))
			}
			g.mine()
			g.spend("spendD", core, append([]string{"t:1"}, coins...), append(seqOuts("mix", 5, 1_000_000), o("dchg", 5_600_000))...)
		} else {
			g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
		}
		g.mine()
		return g
	}
	t.Run("decided at the second spend", func(t *testing.T) {
		g := build(t, 3, false)
		s := g.update(nil)
		g.together("P", "d")
		g.apart("P", "p")
		ev := g.evidenceOf(heistgraph.HeuristicChange)
		if len(ev) != 1 || ev[0].Height != 6 || ev[0].TxID != fakeHash("tx/t") || strings.Join(sortedVotes(ev[0].Votes), ",") != "locktime,version" {
			t.Errorf("change evidence %+v", ev)
		}
		if s.ChangeDeferred != 1 {
			t.Errorf("deferred %d", s.ChangeDeferred)
		}
	})
	t.Run("incrementally", func(t *testing.T) {
		// The same, clustering after every block: the waiting candidate
		// is restored by replaying the window at each run.
		g := newGraph(t)
		g.fund("f", o("P", 10_000_000))
		g.mine()
		g.update(nil)
		g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
		g.mine()
		g.update(nil)
		g.spend("spendP", old, []string{"t:0"}, o("p2", 3_300_000))
		g.mine()
		g.update(nil)
		g.empty(2)
		g.update(nil)
		g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
		g.mine()
		g.update(nil)
		g.together("P", "d")
	})
	t.Run("coinjoin spender gives no vote", func(t *testing.T) {
		g := build(t, 0, true)
		s := g.update(nil)
		g.apart("P", "d")
		if s.CoinJoins["generic"]+s.CoinJoins["joinmarket"] != 1 {
			t.Errorf("coinjoins %v", s.CoinJoins)
		}
	})
	t.Run("after the window", func(t *testing.T) {
		g := build(t, 12, false)
		opts := DefaultOptions()
		opts.Change.Window = 10
		g.update(&opts)
		g.apart("P", "d")
	})
}

// TestGuards covers methods.md §3.5.
func TestGuards(t *testing.T) {
	t.Parallel()
	t.Run("G2 label conflict refuses and logs", func(t *testing.T) {
		g := newGraph(t)
		g.fund("f", o("X1", 1_000_000), o("Y1", 1_000_000))
		g.mine()
		g.label("X1", "Exchange X", "exchange")
		g.label("Y1", "Exchange Y", "exchange")
		g.spend("t", mobile, []string{"f:0", "f:1"}, o("z", 1_990_000))
		g.mine()
		s := g.update(nil)
		g.apart("X1", "Y1")
		ev := g.evidenceOf(heistgraph.HeuristicCommonInput)
		if s.Refused != 1 || len(ev) != 1 || ev[0].Status != heistgraph.EvidenceRefused || !strings.Contains(ev[0].Reason, "G2") {
			t.Errorf("refused %d, evidence %+v", s.Refused, ev)
		}
		x, err := Explain(context.Background(), g.st, chain, "X1", ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Reviews) != 1 || x.Reviews[0].Status != heistgraph.EvidenceRefused {
			t.Errorf("explain reviews %+v", x.Reviews)
		}
	})
	t.Run("G2 allows a service with unlabelled addresses", func(t *testing.T) {
		g := newGraph(t)
		g.fund("f", o("X1", 1_000_000), o("u", 1_000_000))
		g.mine()
		g.label("X1", "Exchange X", "exchange")
		g.spend("t", mobile, []string{"f:0", "f:1"}, o("z", 1_990_000))
		g.mine()
		g.update(nil)
		g.together("X1", "u")
	})
	t.Run("G3 no change in a service's cluster", func(t *testing.T) {
		g := workedExample(t, 1)
		g.label("A", "Exchange X", "exchange")
		s := g.update(nil)
		g.apart("A", "D")
		if s.ServiceChange != 1 {
			t.Errorf("service change skipped %d", s.ServiceChange)
		}
	})
	t.Run("G4 holds a union of two large clusters", func(t *testing.T) {
		g := newGraph(t)
		g.fund("f", o("A1", 1_000_000), o("A2", 1_000_000), o("B1", 1_000_000), o("B2", 1_000_000))
		g.fund("f2", o("A1", 1_000_000), o("B1", 1_000_000))
		g.mine()
		g.spend("a", mobile, []string{"f:0", "f:1"}, o("A3", 1_990_000))
		g.spend("b", mobile, []string{"f:2", "f:3"}, o("B3", 1_990_000))
		g.mine()
		g.spend("ab", mobile, []string{"f2:0", "f2:1"}, o("AB", 1_990_000))
		g.mine()
		opts := DefaultOptions()
		opts.Guards.HoldBoth = 2
		s := g.update(&opts)
		g.together("A1", "A2")
		g.apart("A1", "B1")
		if s.Held != 1 {
			t.Errorf("held %d", s.Held)
		}
	})
	t.Run("G4 lets a union of one entity through", func(t *testing.T) {
		g := newGraph(t)
		g.fund("f", o("A1", 1_000_000), o("A2", 1_000_000), o("B1", 1_000_000), o("B2", 1_000_000))
		g.fund("f2", o("A1", 1_000_000), o("B1", 1_000_000))
		g.mine()
		g.label("A1", "Exchange X", "exchange")
		g.label("B2", "Exchange X", "exchange")
		g.spend("a", mobile, []string{"f:0", "f:1"}, o("A3", 1_990_000))
		g.spend("b", mobile, []string{"f:2", "f:3"}, o("B3", 1_990_000))
		g.mine()
		g.spend("ab", mobile, []string{"f2:0", "f2:1"}, o("AB", 1_990_000))
		g.mine()
		opts := DefaultOptions()
		opts.Guards.HoldBoth = 2
		g.update(&opts)
		g.together("A1", "B1")
	})
	t.Run("G5 soft edges attach single addresses only", func(t *testing.T) {
		// D is already in a cluster of two when tx1 would make it change.
		g2 := newGraph(t)
		g2.fund("f", o("A", 70_000_000), o("B", 50_000_000))
		g2.fund("seen", ot("C", 10_000, pkh), o("D", 10_000), o("E", 10_000))
		g2.mine()
		g2.spend("de", mobile, []string{"seen:1", "seen:2"}, o("F", 19_000))
		g2.spend("tx1", core, []string{"f:0", "f:1"}, ot("C", 100_000_000, pkh), o("D", 19_543_210))
		g2.mine()
		s := g2.update(only(t, 1, "round", "type"))
		g2.apart("A", "D")
		if s.ChangeNotLeaf != 1 {
			t.Errorf("change not leaf %d", s.ChangeNotLeaf)
		}
	})
	t.Run("G5 drops a change union when the payee sweeps it", func(t *testing.T) {
		g := newGraph(t)
		g5Sweep(g, func() {
			g.mine()
			g.update(nil)
			g.together("P", "dep1")
		})
		g5Dropped(t, g, g.update(nil), false)
	})
	// The same with the change union and the sweep clustered by one
	// engine, in two blocks and in one: the sweep finds the union among
	// the run's evidence and the block's, where the engine's own record
	// of change outputs (engine.soft) lets it look.
	for _, oneBlock := range []bool{false, true} {
		t.Run(fmt.Sprint("G5 drops a change union swept in the same run, one block ", oneBlock), func(t *testing.T) {
			g := newGraph(t)
			g5Sweep(g, func() {
				if !oneBlock {
					g.mine()
				}
			})
			g5Dropped(t, g, g.update(nil), true)
		})
	}
}

// g5Sweep builds G5's sweep case on g: an attacker pays two exchange
// deposits from P and P2, and "dep1" looks like change; between runs
// after that payment; then the exchange sweeps dep1 with 25 other
// deposits, and the block is mined.
func g5Sweep(g *graph, between func()) {
	g.fund("f", o("P", 70_000_000), o("P2", 50_000_000))
	g.fund("seen", ot("dep2", 10_000, pkh))
	var deposits []out
	for i := range 25 {
		deposits = append(deposits, o(fmt.Sprintf("dep%02d", i+10), 1_000_000))
	}
	g.fund("deps", deposits...)
	g.mine()
	g.spend("pay", core, []string{"f:0", "f:1"}, ot("dep2", 100_000_000, pkh), o("dep1", 19_543_210))
	between()
	coins := []string{"pay:1"}
	for i := range 25 {
		coins = append(coins, fmt.Sprintf("deps:%d", i))
	}
	g.spend("sweep", old, coins, o("hot", 44_000_000))
	g.mine()
}

// g5Dropped checks the end of g5Sweep: the change union dropped (counted
// in s, which also made it when made is set), dep1 with the deposits.
func g5Dropped(t *testing.T, g *graph, s Stats, made bool) {
	t.Helper()
	g.apart("P", "dep1")
	g.together("dep1", "dep10", "dep34")
	g.together("P", "P2")
	if s.Dropped != 1 || made && s.Change != 1 {
		t.Errorf("change %d, dropped %d", s.Change, s.Dropped)
	}
	ev := g.evidenceOf(heistgraph.HeuristicChange)
	if len(ev) != 1 || ev[0].Status != heistgraph.EvidenceDropped {
		t.Errorf("change evidence %+v", ev)
	}
}

// TestWorkedExample3 is methods.md §3.6 example 3: a consolidation spends
// inputs of cluster K ("Exchange K") and a fresh address whose cluster L
// carries "Exchange L" only through an earlier change union. G2 fires, so
// G5 drops that soft edge instead of refusing: the address leaves L, the
// common-input union with K goes ahead, and the dropped edge is logged.
func TestWorkedExample3(t *testing.T) {
	t.Parallel()
	g := newGraph(t)
	g.fund("f", o("L1", 70_000_000), o("L2", 50_000_000), o("K1", 1_000_000), o("K2", 1_000_000))
	g.fund("seen", ot("C", 10_000, pkh))
	g.mine()
	g.label("L1", "Exchange L", "exchange")
	g.label("K1", "Exchange K", "exchange")
	// L's payment: a is its change by fresh, round and type. The first
	// run counts no category as a service, as if the labels came after it
	// (G3 would skip change inference in a labelled exchange's cluster).
	g.spend("pay", core, []string{"f:0", "f:1"}, ot("C", 100_000_000, pkh), o("a", 19_543_210))
	g.mine()
	g.update(&Options{CommonInput: true, Change: DefaultOptions().Change, Guards: GuardOptions{ServiceCategories: []string{"none"}}})
	g.together("L1", "a")
	// Now K consolidates K1, K2 and a.
	g.spend("consolidate", old, []string{"f:2", "f:3", "pay:1"}, o("K3", 21_000_000))
	g.mine()
	s := g.update(nil)
	g.together("K1", "K2", "a")
	g.apart("L1", "a")
	g.apart("L1", "K1")
	if s.Dropped != 1 || s.Refused != 0 {
		t.Errorf("dropped %d, refused %d", s.Dropped, s.Refused)
	}
}

// TestOverrides: analysts' merges and splits win and survive re-runs.
func TestOverrides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	g.fund("f", o("A", 1_000_000), o("B", 1_000_000), o("C", 1_000_000), o("E", 1_000_000))
	g.mine()
	g.spend("ab", mobile, []string{"f:0", "f:1"}, o("X", 1_990_000))
	g.mine()
	g.update(nil)
	now := time.Unix(1_800_000_000, 0)
	opts := DefaultOptions()
	if _, err := Merge(ctx, g.st, chain, []string{"A", "C"}, "ana", "same KYC", now, opts); err != nil {
		t.Fatal(err)
	}
	g.together("A", "B", "C")
	g.spend("later", mobile, []string{"f:3"}, o("Y", 990_000))
	g.mine()
	g.update(nil)
	g.together("A", "B", "C")

	if _, err := Split(ctx, g.st, chain, "B", "bob", "B is the payee", now, opts); err != nil {
		t.Fatal(err)
	}
	g.together("A", "C")
	g.apart("A", "B")
	// Later common-input evidence naming B is refused.
	g.spend("again", mobile, []string{"ab:0", "later:0"}, o("Z", 2_900_000))
	g.mine()
	g.fund("g", o("B", 5_000), o("A", 5_000))
	g.mine()
	g.spend("withb", mobile, []string{"g:0", "g:1"}, o("W", 9_000))
	g.mine()
	s := g.update(nil)
	g.apart("A", "B")
	if s.Refused != 1 {
		t.Errorf("refused %d, want the co-spend of B", s.Refused)
	}
	// A merge after the split puts B back.
	if _, err := Merge(ctx, g.st, chain, []string{"B", "A"}, "ana", "reviewed", now, opts); err != nil {
		t.Fatal(err)
	}
	g.together("A", "B", "C")
	x, err := Explain(ctx, g.st, chain, "A", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Overrides) != 3 || x.Overrides[1].Kind != heistgraph.OverrideSplit || x.Overrides[1].By != "bob" {
		t.Errorf("overrides %+v", x.Overrides)
	}

	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown address", func() error {
			_, err := Merge(ctx, g.st, chain, []string{"A", "nobody"}, "ana", "x", now, opts)
			return err
		}(), heistgraph.ErrNotFound},
		{"one address", func() error {
			_, err := Merge(ctx, g.st, chain, []string{"A"}, "ana", "x", now, opts)
			return err
		}(), heistgraph.ErrInvalid},
		{"no by", func() error {
			_, err := Split(ctx, g.st, chain, "A", " ", "x", now, opts)
			return err
		}(), heistgraph.ErrInvalid},
		{"no why", func() error {
			_, err := Split(ctx, g.st, chain, "A", "ana", "", now, opts)
			return err
		}(), heistgraph.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.want) })
	}
}

// TestIncrementalAndReorg: clustering block by block gives what one run
// gives, and a reorg gives what clustering the new chain from scratch
// gives, evidence and ids included.
func TestIncrementalAndReorg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blocks, fork := reorgChain()
	opts := DefaultOptions()
	opts.Change.Window = 8

	once := openMem(t)
	for _, b := range blocks {
		if err := once.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Update(ctx, once, chain, opts); err != nil {
		t.Fatal(err)
	}
	step := openMem(t)
	for _, b := range blocks {
		if err := step.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := Update(ctx, step, chain, opts); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(memberships(t, once), memberships(t, step)) {
		t.Error("memberships differ between one run and a run per block")
	}
	// An Engine kept open, updated after every block, does the same.
	kept := openMem(t)
	eng, err := Open(ctx, kept, chain, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if err := kept.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Update(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(memberships(t, once), memberships(t, kept)) || !slices.EqualFunc(evidence(t, once), evidence(t, kept), evidenceEqual) {
		t.Error("an Engine updated per block differs from one run")
	}
	kinds := map[string]int{}
	for _, e := range evidence(t, once) {
		kinds[e.Heuristic+"/"+e.Status.String()]++
	}
	if kinds["common-input/applied"] == 0 || kinds["change/applied"] == 0 {
		t.Errorf("evidence of the generated chain: %v, want common-input and change", kinds)
	}
	if !slices.EqualFunc(evidence(t, once), evidence(t, step), evidenceEqual) {
		t.Error("evidence differs between one run and a run per block")
	}

	// Reorg: rewind to 40 and apply a branch of 25 blocks.
	if err := step.RewindTo(ctx, chain, 40); err != nil {
		t.Fatal(err)
	}
	if err := kept.RewindTo(ctx, chain, 40); err != nil {
		t.Fatal(err)
	}
	for _, b := range fork {
		if err := step.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := kept.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Update(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Update(ctx, step, chain, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rewound != 19 || !s.Rebuilt {
		t.Errorf("rewound %d, rebuilt %v", s.Rewound, s.Rebuilt)
	}
	fresh := openMem(t)
	for _, b := range append(slices.Clone(blocks[:41]), fork...) {
		if err := fresh.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Update(ctx, fresh, chain, opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(memberships(t, fresh), memberships(t, step)) {
		t.Error("memberships after the reorg differ from clustering the new chain")
	}
	if !slices.EqualFunc(evidence(t, fresh), evidence(t, step), evidenceEqual) {
		t.Error("evidence after the reorg differs from clustering the new chain")
	}
	if !slices.Equal(memberships(t, fresh), memberships(t, kept)) || !slices.EqualFunc(evidence(t, fresh), evidence(t, kept), evidenceEqual) {
		t.Error("an Engine following the reorg differs from clustering the new chain")
	}
	for _, m := range memberships(t, fresh) {
		a, _ := step.ClusterSize(ctx, chain, m.ClusterID)
		b, _ := fresh.ClusterSize(ctx, chain, m.ClusterID)
		if a != b {
			t.Fatalf("size of cluster %d: %d after the reorg, %d fresh", m.ClusterID, a, b)
		}
	}
}

// reorgChain returns 60 generated blocks and a branch of 25 blocks that
// forks from them after height 40.
func reorgChain() (blocks, fork []*heistgraph.Block) {
	gen := storetest.NewGenerator(chain, 7, 12)
	for range 60 {
		blocks = append(blocks, gen.Next())
	}
	fgen := storetest.NewGenerator(chain, 7, 12)
	for range 41 {
		fgen.Next()
	}
	branch := fgen.Fork(99)
	for range 25 {
		fork = append(fork, branch.Next())
	}
	return blocks, fork
}

func evidenceEqual(a, b heistgraph.ClusterEvidence) bool {
	return a.Height == b.Height && a.TxIndex == b.TxIndex && a.N == b.N && a.TxID == b.TxID && a.Heuristic == b.Heuristic &&
		slices.Equal(a.Votes, b.Votes) && a.Status == b.Status && slices.Equal(a.AddrIDs, b.AddrIDs)
}

func TestResolver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	g.fund("f", o("X1", 1_000_000), o("X2", 1_000_000), o("M", 1_000_000), o("lone", 1_000_000))
	g.mine()
	g.spend("t", mobile, []string{"f:0", "f:1"}, o("z", 1_990_000))
	g.mine()
	g.update(nil)
	g.label("X1", "Exchange X", "exchange")
	g.label("M", "Mixer M", "mixer")
	g.label("M", "Mixer M", "sanctioned")
	if _, err := g.st.PutLabels(ctx, []heistgraph.Label{{Chain: "eth", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
		Entity: "LAZARUS GROUP", Category: "dprk", Source: "ofac", Confidence: 1}, {Chain: heistgraph.ChainEVM,
		Address: "0x7f367cc41522ce07553e823bf3be79a889debe1b", Entity: "POTEKHIN, Danil", Category: "sanctioned", Source: "ofac", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(g.st)
	tests := []struct {
		name, chain, addr string
		ok                bool
		want              heistgraph.EntityRef
	}{
		{"label on the address", string(chain), "X1", true, heistgraph.EntityRef{Name: "Exchange X", Category: "exchange", Source: "test", Confidence: 1}},
		{"label reaches the cluster", string(chain), "X2", true, heistgraph.EntityRef{Name: "Exchange X", Category: "exchange", ClusterID: g.clusterOf("X1"), Source: "test", Confidence: 1}},
		{"most severe category", string(chain), "M", true, heistgraph.EntityRef{Name: "Mixer M", Category: "sanctioned", Source: "test", Confidence: 1}},
		{"no label", string(chain), "lone", false, heistgraph.EntityRef{}},
		{"unknown address", string(chain), "nobody", false, heistgraph.EntityRef{}},
		{"EVM address any case", "eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", true, heistgraph.EntityRef{Name: "LAZARUS GROUP", Category: "dprk", Source: "ofac", Confidence: 1}},
		{"an eth label is not bsc's", "bsc", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", false, heistgraph.EntityRef{}},
		{"the shared EVM key on bsc", "bsc", "0x7F367cC41522cE07553e823bf3be79A889DEbe1B", true, heistgraph.EntityRef{Name: "POTEKHIN, Danil", Category: "sanctioned", Source: "ofac", Confidence: 1}},
		{"the shared EVM key on eth", "eth", "0x7f367cc41522ce07553e823bf3be79a889debe1b", true, heistgraph.EntityRef{Name: "POTEKHIN, Danil", Category: "sanctioned", Source: "ofac", Confidence: 1}},
		{"the shared EVM key is not Bitcoin's", string(chain), "0x7f367cc41522ce07553e823bf3be79a889debe1b", false, heistgraph.EntityRef{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, ok, err := r.Resolve(ctx, heistgraph.Chain(tc.chain), tc.addr)
			if err != nil || ok != tc.ok || fmt.Sprint(ref) != fmt.Sprint(tc.want) {
				t.Errorf("Resolve = %+v %v %v, want %+v %v", ref, ok, err, tc.want, tc.ok)
			}
		})
	}
	// Conflicting labels on one cluster are shown, not resolved.
	g.label("z", "Exchange Y", "exchange")
	g.spend("zz", mobile, []string{"t:0", "f:3"}, o("q", 2_900_000)) // z and lone
	g.mine()
	g.update(nil)
	r = NewResolver(g.st)
	ref, ok, err := r.Resolve(ctx, chain, "X2")
	if err != nil || !ok || ref.Name != "Exchange X" {
		t.Fatalf("X2: %+v %v %v", ref, ok, err)
	}
	v, err := r.View(ctx, chain, "lone")
	if err != nil {
		t.Fatal(err)
	}
	if v.ClusterID != g.clusterOf("z") || len(v.Reached) != 1 || len(v.Own) != 0 {
		t.Errorf("view of lone: %+v", v)
	}
	g.label("X2", "Exchange Y", "exchange")
	v, _ = NewResolver(g.st).View(ctx, chain, "X1")
	if !slices.Equal(v.Conflicts, []string{"Exchange X", "Exchange Y"}) || v.Size != 2 {
		t.Errorf("view of X1: %+v", v)
	}
	ref, _, _ = NewResolver(g.st).Resolve(ctx, chain, "z")
	if ref.Name != "Exchange Y" || len(ref.Conflicts) != 0 {
		t.Errorf("z: %+v", ref)
	}
	ref, _, _ = NewResolver(g.st).Resolve(ctx, chain, "X1")
	if !slices.Equal(ref.Conflicts, []string{"Exchange Y"}) {
		t.Errorf("X1 conflicts: %+v", ref)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	g.fund("f", o("A", 1_000_000), o("B", 1_000_000), o("C", 1_000_000), o("D", 1_000_000), o("E", 1_000_000),
		o("B", 1_000_000), o("C", 1_000_000))
	g.mine()
	g.spend("ab", mobile, []string{"f:0", "f:1"}, o("x1", 1_990_000))
	g.spend("cd", mobile, []string{"f:2", "f:3"}, o("x2", 1_990_000))
	g.mine()
	g.spend("bc", mobile, []string{"f:5", "f:6"}, o("x3", 1_990_000))
	g.mine()
	g.update(nil)
	x, err := Explain(ctx, g.st, chain, "A", ExplainOptions{Limit: 2, To: "D"})
	if err != nil {
		t.Fatal(err)
	}
	// Cluster {A, B, C, D}: A-B by ab, C-D by cd, B-C by bc.
	if x.Size != 4 || len(x.Evidence) != 2 || x.NextOffset != 2 || !x.PathFound || len(x.Path) != 3 {
		t.Errorf("explain: size %d, %d evidence, next %d, path %v %d", x.Size, len(x.Evidence), x.NextOffset, x.PathFound, len(x.Path))
	}
	if len(x.Path) != 3 || x.Path[0].TxID != fakeHash("tx/ab") || x.Path[1].TxID != fakeHash("tx/bc") || x.Path[2].TxID != fakeHash("tx/cd") || x.Evidence[0].Addresses[0] != "A" {
		t.Errorf("path %+v", x.Path)
	}
	x, err = Explain(ctx, g.st, chain, "A", ExplainOptions{Limit: 2, Offset: 2})
	if err != nil || len(x.Evidence) != 1 || x.NextOffset != 0 {
		t.Errorf("second page: %d evidence, next %d, %v", len(x.Evidence), x.NextOffset, err)
	}
	x, _ = Explain(ctx, g.st, chain, "A", ExplainOptions{To: "E"})
	if x.PathFound {
		t.Error("a path to an address of another cluster")
	}
	_, err = Explain(ctx, g.st, chain, "nobody", ExplainOptions{})
	wantErr(t, err, heistgraph.ErrNotFound)
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	g.fund("f", o("A", 1_000_000), o("B", 1_000_000), o("C", 1_000_000), o("D", 1_000_000))
	g.mine()
	g.spend("abc", mobile, []string{"f:0", "f:1", "f:2"}, o("x", 2_990_000))
	g.mine()
	g.update(nil)
	truth := &Truth{
		Owners:   map[string]int{"A": 0, "B": 0, "C": 1, "D": 1, "x": 0, "absent": 1},
		Entities: []TruthEntity{{ID: "u1", Name: "User 1", Category: "user"}, {ID: "x1", Name: "Exchange", Category: "exchange"}},
	}
	s, err := Evaluate(ctx, g.st, chain, truth)
	if err != nil {
		t.Fatal(err)
	}
	// Clusters {A,B,C} {x} {D}: predicted pairs AB AC BC = 3, correct AB =
	// 1; true pairs AB Ax Bx CD = 4.
	if s.PredictedPairs != 3 || s.CorrectPairs != 1 || s.TruePairs != 4 || s.MergedEntities != 1 || s.Missing != 1 || s.Clusters != 3 {
		t.Errorf("score %+v", s)
	}
	if s.Precision != 1.0/3 || s.Recall != 0.25 {
		t.Errorf("precision %v recall %v", s.Precision, s.Recall)
	}
	if c := s.ByCategory["exchange"]; c.Precision != 0 || c.MergedEntities != 1 || c.Recall != 0 {
		t.Errorf("exchange %+v", c)
	}
	if e := s.Evidence[heistgraph.HeuristicCommonInput]; e.Records != 1 || e.Wrong != 1 {
		t.Errorf("evidence %+v", e)
	}
	if len(s.Mixed) != 1 || s.Mixed[0].Size != 3 || s.Mixed[0].Owners[0].Entity != "User 1" {
		t.Errorf("mixed %+v", s.Mixed)
	}
}

// TestWithoutBlockTxs: a store without the optional bulk reads
// (store.BlockRangeIDs, store.BlockRangeTxs, store.BlockTxs) clusters the
// same, by address ids, block by block or transaction by transaction, in
// one run or several.
func TestWithoutBlockTxs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := storetest.NewGenerator(chain, 3, 10)
	stores := []*pebble.DB{openMem(t), openMem(t), openMem(t), openMem(t)}
	views := []Store{
		stores[0],
		rangeView{stores[1], stores[1]},
		blockTxsView{stores[2], stores[2]},
		struct{ Store }{stores[3]},
	}
	for i, v := range views {
		_, ids := v.(store.BlockRangeIDs)
		_, txs := v.(store.BlockRangeTxs)
		_, blk := v.(store.BlockTxs)
		if ids != (i == 0) || txs != (i <= 1) || blk != (i == 0 || i == 2) {
			t.Fatalf("view %d: BlockRangeIDs %v, BlockRangeTxs %v, BlockTxs %v", i, ids, txs, blk)
		}
	}
	for range 3 {
		for range 30 {
			b := gen.Next()
			for _, st := range stores {
				if err := st.ApplyBlock(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, v := range views {
			if _, err := Update(ctx, v, chain, DefaultOptions()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(memberships(t, stores[0])) < 100 || len(evidence(t, stores[0])) < 10 {
		t.Fatal("too little clustered to compare")
	}
	for i, st := range stores[1:] {
		if !slices.Equal(memberships(t, stores[0]), memberships(t, st)) || !slices.EqualFunc(evidence(t, stores[0]), evidence(t, st), evidenceEqual) {
			t.Errorf("clustering with all the reads and with view %d differs", i+1)
		}
	}
}

// TestPendingSnapshot: a run saves the waiting change candidates and the
// next starts from them; a snapshot that does not fit (or is broken) is
// replaced by replaying the last Window blocks, with the same result.
func TestPendingSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("broken=%v", broken), func(t *testing.T) {
			g := newGraph(t)
			g.fund("f", o("P", 10_000_000))
			g.mine()
			g.spend("t", core, []string{"f:0"}, o("p", 3_333_333), o("d", 6_655_555))
			g.mine()
			g.update(nil)
			snap, err := g.st.ClusterPending(ctx, chain)
			if err != nil || len(snap) < 50 {
				t.Fatalf("snapshot: %d bytes, %v", len(snap), err)
			}
			if broken {
				if err := g.st.WriteClusters(ctx, chain, &store.ClusterBatch{Pending: snap[:len(snap)-3]}); err != nil {
					t.Fatal(err)
				}
			}
			g.spend("spendP", old, []string{"t:0"}, o("p2", 3_300_000))
			g.spend("spendD", core, []string{"t:1"}, o("d2", 6_600_000))
			g.mine()
			g.update(nil)
			g.together("P", "d")
		})
	}
}
