package pattern

import (
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
)

func id(name string) heistgraph.Hash { return sha256.Sum256([]byte(name)) }

const btc = 100_000_000

// mkStep builds a peel step spending in with a fee of 0.01 BTC, paying peel
// to peelTo (entity) and the rest to a fresh remainder spent by next.
func mkStep(name string, t, in, peel int64, entity, next string, peelFirst bool) PeelTx {
	fee := int64(btc / 100)
	p := PeelOutput{Value: peel, Address: name + "-peel", Entity: entity, Category: "exchange"}
	if entity == "" {
		p.Category = ""
	}
	r := PeelOutput{Value: in - fee - peel, Address: name + "-rem", Fresh: true}
	if next != "" {
		r.SpentBy = id(next)
	}
	outs := []PeelOutput{p, r}
	if !peelFirst {
		outs = []PeelOutput{r, p}
	}
	for i := range outs {
		outs[i].Vout = uint32(i)
	}
	return PeelTx{TxID: id(name), Time: t, InputValue: in, Fee: fee, Outputs: outs, Inputs: 1}
}

// workedExample is methods.md §5.5: 10 BTC peeled 1.00, 0.50, 2.00, 0.70
// to Exchanges X, Y, X, Y, 20 minutes apart.
func workedExample(gap2 int64) []PeelTx {
	t0 := int64(1_700_000_000)
	return []PeelTx{
		mkStep("s1", t0, 10*btc, 1*btc, "Exchange X", "s2", true),
		mkStep("s2", t0+1200, 899*btc/100, btc/2, "Exchange Y", "s3", false),
		mkStep("s3", t0+1200+gap2, 848*btc/100, 2*btc, "Exchange X", "s4", true),
		mkStep("s4", t0+2400+gap2, 647*btc/100, 70*btc/100, "Exchange Y", "", false),
	}
}

func TestPeelChainWorkedExample(t *testing.T) {
	t.Parallel()
	got := PeelChains(workedExample(1200), DefaultPeelOptions())
	if len(got) != 1 {
		t.Fatalf("want one chain, have %d", len(got))
	}
	c := got[0]
	if c.Head != id("s1") || c.Tail != id("s4") || c.Length != 4 {
		t.Errorf("head/tail/length = %v/%v/%d", c.Head, c.Tail, c.Length)
	}
	if c.StartAmount != 10*btc || c.TotalPeeled != 420*btc/100 || c.TotalFees != 4*btc/100 || c.EndRemainder != 576*btc/100 {
		t.Errorf("amounts: start %d peeled %d fees %d remainder %d", c.StartAmount, c.TotalPeeled, c.TotalFees, c.EndRemainder)
	}
	if c.StartAmount != c.TotalPeeled+c.TotalFees+c.EndRemainder {
		t.Error("start != peeled + fees + remainder")
	}
	want := []PeelDest{{"Exchange X", "exchange", 3 * btc, 2}, {"Exchange Y", "exchange", 120 * btc / 100, 2}}
	if !slices.Equal(c.PeelsByEntity, want) {
		t.Errorf("peels by entity = %+v, want %+v", c.PeelsByEntity, want)
	}
	if c.Confidence != "high" || c.MedianGap != 1200 || c.End != "unspent" {
		t.Errorf("confidence %s, median gap %d, end %s", c.Confidence, c.MedianGap, c.End)
	}
	if !slices.Equal(c.Steps, []heistgraph.Hash{id("s1"), id("s2"), id("s3"), id("s4")}) {
		t.Errorf("steps %v", c.Steps)
	}
}

func TestPeelChainMustNotFire(t *testing.T) {
	t.Parallel()
	t0 := int64(1_700_000_000)
	tests := []struct {
		name string
		txs  func() []PeelTx
	}{
		// methods.md §5.5's variant: 30 h between steps 2 and 3 makes two
		// chains of length 2.
		{"30 h gap", func() []PeelTx { return workedExample(30 * 3600) }},
		{"three steps", func() []PeelTx { return workedExample(1200)[:3] }},
		{"a peel above 30%", func() []PeelTx {
			txs := workedExample(1200)
			txs[2] = mkStep("s3", t0+2400, 848*btc/100, 4*btc, "Exchange X", "s4", true)
			return txs
		}},
		// An exchange hot wallet paying one customer per transaction from a
		// big coin: the same shape, excluded by the input's service label.
		{"service payouts", func() []PeelTx {
			txs := workedExample(1200)
			for i := range txs {
				txs[i].Service = true
			}
			return txs
		}},
		{"coinjoin step", func() []PeelTx {
			txs := workedExample(1200)
			txs[1].CoinJoin = true
			return txs
		}},
		// A batched withdrawal: one input, many outputs, change spent by
		// the next batch. Never two outputs, so never a step.
		{"batched withdrawal", func() []PeelTx {
			var txs []PeelTx
			for i, n := range []string{"b1", "b2", "b3", "b4", "b5"} {
				s := mkStep(n, t0+int64(i)*600, int64(10-i)*btc, btc/10, "", []string{"b2", "b3", "b4", "b5", ""}[i], true)
				s.Outputs = append(s.Outputs, PeelOutput{Vout: 2, Value: btc / 20}, PeelOutput{Vout: 3, Value: btc / 30})
				txs = append(txs, s)
			}
			return txs
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := PeelChains(tc.txs(), DefaultPeelOptions()); len(got) != 0 {
				t.Errorf("want no chain, have %+v", got)
			}
		})
	}
}

// TestPeelChainBranch: both outputs of s1 start chains of their own; two
// chains share the head.
func TestPeelChainBranch(t *testing.T) {
	t.Parallel()
	t0 := int64(1_700_000_000)
	txs := []PeelTx{
		mkStep("s1", t0, 10*btc, 25*btc/100, "", "a1", true),
		mkStep("a1", t0+600, 974*btc/100, btc/2, "X", "a2", true),
		mkStep("a2", t0+1200, 923*btc/100, btc/2, "X", "a3", true),
		mkStep("a3", t0+1800, 872*btc/100, btc/2, "X", "", true),
		mkStep("b1", t0+700, 25*btc/100, btc/20, "Y", "b2", true),
		mkStep("b2", t0+1300, 19*btc/100, btc/20, "Y", "b3", true),
		mkStep("b3", t0+1900, 13*btc/100, btc/50, "Y", "", true),
	}
	txs[0].Outputs[0].SpentBy = id("b1") // s1's peel starts chain b
	got := PeelChains(txs, DefaultPeelOptions())
	if len(got) != 2 {
		t.Fatalf("want two chains, have %d: %+v", len(got), got)
	}
	if got[0].Head != id("s1") || got[1].Head != id("s1") || got[0].Length != 4 || got[1].Length != 4 {
		t.Errorf("chains %v/%d and %v/%d", got[0].Head, got[0].Length, got[1].Head, got[1].Length)
	}
	for _, c := range got {
		if c.StartAmount != c.TotalPeeled+c.TotalFees+c.EndRemainder {
			t.Errorf("chain %v: start %d != peeled %d + fees %d + remainder %d", c.Tail, c.StartAmount, c.TotalPeeled, c.TotalFees, c.EndRemainder)
		}
	}
}

func TestPeelCandidate(t *testing.T) {
	t.Parallel()
	out := func(v int64, a string) heistgraph.TxOut {
		return heistgraph.TxOut{Value: v, Address: a, Type: heistgraph.ScriptWitnessV0KeyHash}
	}
	in := func(n int) []heistgraph.TxIn {
		ins := make([]heistgraph.TxIn, n)
		for i := range ins {
			ins[i].PrevOut = heistgraph.Outpoint{TxID: id("prev"), Vout: uint32(i)}
		}
		return ins
	}
	prev := func(n int) []*heistgraph.TxOut {
		p := make([]*heistgraph.TxOut, n)
		for i := range p {
			o := out(btc, "in")
			p[i] = &o
		}
		return p
	}
	rec := func(ins []heistgraph.TxIn, prevouts []*heistgraph.TxOut, outs ...heistgraph.TxOut) *heistgraph.TxRecord {
		return &heistgraph.TxRecord{Tx: heistgraph.Tx{TxID: id("t"), Inputs: ins, Outputs: outs}, Prevouts: prevouts,
			SpentBy: make([]*heistgraph.Inpoint, len(outs)), FeeKnown: true}
	}
	opReturn := heistgraph.TxOut{Script: []byte{0x6a}, Type: heistgraph.ScriptNullData}
	tests := []struct {
		name string
		rec  *heistgraph.TxRecord
		want bool
	}{
		{"1 in 2 out", rec(in(1), prev(1), out(btc/10, "a"), out(btc/2, "b")), true},
		{"OP_RETURN aside", rec(in(1), prev(1), out(btc/10, "a"), opReturn, out(btc/2, "b")), true},
		{"2 inputs", rec(in(2), prev(2), out(btc/10, "a"), out(btc/2, "b")), false},
		{"3 outputs", rec(in(1), prev(1), out(btc/10, "a"), out(btc/2, "b"), out(btc/4, "c")), false},
		{"unknown prevout", rec(in(1), []*heistgraph.TxOut{nil}, out(btc/10, "a"), out(btc/2, "b")), false},
		{"coinbase", rec([]heistgraph.TxIn{{Coinbase: true}}, []*heistgraph.TxOut{nil}, out(btc/10, "a"), out(btc/2, "b")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, ok := PeelCandidate(tc.rec, DefaultPeelOptions()); ok != tc.want {
				t.Errorf("PeelCandidate = %t, want %t", ok, tc.want)
			}
		})
	}
}
