package pattern

import (
	"fmt"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// txOf builds a transaction spending len(in) outputs valued and addressed
// as in, paying outs.
func txOf(in []heistgraph.TxOut, outs ...heistgraph.TxOut) (*heistgraph.Tx, []*heistgraph.TxOut) {
	tx := &heistgraph.Tx{TxID: id("tx"), Outputs: outs}
	var prev []*heistgraph.TxOut
	for i := range in {
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: id("p"), Vout: uint32(i)}})
		prev = append(prev, &in[i])
	}
	return tx, prev
}

func pay(v int64, addr string) heistgraph.TxOut {
	return heistgraph.TxOut{Value: v, Address: addr, Type: heistgraph.ScriptWitnessV0KeyHash}
}

func many(n int, v int64, prefix string) []heistgraph.TxOut {
	var out []heistgraph.TxOut
	for i := range n {
		out = append(out, pay(v, prefix+string(rune('a'+i))))
	}
	return out
}

func TestDetectConsolidation(t *testing.T) {
	t.Parallel()
	opReturn := heistgraph.TxOut{Script: []byte{0x6a}, Type: heistgraph.ScriptNullData}
	tests := []struct {
		name string
		in   []heistgraph.TxOut
		outs []heistgraph.TxOut
		want bool
	}{
		{"five deposits swept into one", many(5, btc, "d"), []heistgraph.TxOut{pay(5*btc-1000, "hot")}, true},
		{"with an OP_RETURN", many(3, btc, "d"), []heistgraph.TxOut{opReturn, pay(3*btc-1000, "hot")}, true},
		{"two inputs", many(2, btc, "d"), []heistgraph.TxOut{pay(2*btc-1000, "hot")}, false},
		{"payment with change", many(5, btc, "d"), []heistgraph.TxOut{pay(btc, "shop"), pay(4*btc-1000, "change")}, false},
		{"coinjoin", many(5, btc, "u"), many(5, btc-200, "o"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx, prev := txOf(tc.in, tc.outs...)
			c, ok := DetectConsolidation(tx, prev)
			if ok != tc.want {
				t.Fatalf("DetectConsolidation = %t, want %t", ok, tc.want)
			}
			if ok && (c.Inputs != len(tc.in) || c.InputAddresses != len(tc.in)) {
				t.Errorf("consolidation %+v", c)
			}
		})
	}
}

func TestDetectSplit(t *testing.T) {
	t.Parallel()
	one := []heistgraph.TxOut{pay(20*btc, "thief")}
	within1pct := []heistgraph.TxOut{pay(btc, "a"), pay(btc+btc/200, "b"), pay(btc+btc/100, "c"), pay(btc-0, "d"), pay(btc+1, "e"), pay(14*btc, "change")}
	tests := []struct {
		name  string
		in    []heistgraph.TxOut
		outs  []heistgraph.TxOut
		want  bool
		equal int
		may   bool // MaySplit: the amounts pass
	}{
		{"ten equal parts", one, many(10, 199*btc/100, "p"), true, 10, true},
		{"within 1% plus change", one, within1pct, true, 5, true},
		{"four parts", one, many(4, 4*btc, "p"), false, 0, false},
		// A batched exchange withdrawal: distinct amounts.
		{"batched withdrawal", one, []heistgraph.TxOut{pay(btc/10, "a"), pay(btc/3, "b"), pay(btc/7, "c"), pay(2*btc, "d"),
			pay(btc/2, "e"), pay(btc/9, "f"), pay(15*btc, "change")}, false, 0, false},
		// A CoinJoin: five participants behind five equal outputs.
		{"coinjoin", many(5, btc+1000, "u"), many(5, btc, "o"), false, 0, true},
		{"equal parts to one address", one, []heistgraph.TxOut{pay(btc, "x"), pay(btc, "x"), pay(btc, "x"), pay(btc, "x"), pay(btc, "x")}, false, 0, true},
		{"dust", one, many(8, 2000, "p"), false, 0, false},
		{"equal parts are a minority", one, append(many(5, btc, "p"), many(6, 3*btc, "q")...), true, 6, true},
		{"equal parts are fewer than half", one, append(many(5, btc, "p"), pay(2*btc, "a"), pay(3*btc, "b"), pay(4*btc, "c"),
			pay(5*btc, "d"), pay(6*btc, "e"), pay(7*btc, "f")), false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx, prev := txOf(tc.in, tc.outs...)
			s, ok := DetectSplit(tx, prev)
			if ok != tc.want {
				t.Fatalf("DetectSplit = %t (%+v), want %t", ok, s, tc.want)
			}
			if ok && s.EqualOutputs != tc.equal {
				t.Errorf("equal outputs %d, want %d", s.EqualOutputs, tc.equal)
			}
			if may := MaySplit(sortedValues(tc.outs)); may != tc.may {
				t.Errorf("MaySplit = %t, want %t", may, tc.may)
			}
		})
	}
}

// sortedValues returns the values of the spendable outputs with value of
// outs, in increasing order.
func sortedValues(outs []heistgraph.TxOut) []int64 {
	var vs []int64
	for _, o := range outs {
		if o.Value > 0 && o.Type != heistgraph.ScriptNullData {
			vs = append(vs, o.Value)
		}
	}
	slices.Sort(vs)
	return vs
}

// FuzzMaySplit checks MaySplit against DetectSplit on transactions where
// only the amounts can decide: one input, every output at its own
// address. Each pair of bytes is an output's value, in units of 500 sat
// (the dust threshold and the 1% tolerance both matter at that scale).
func FuzzMaySplit(f *testing.F) {
	f.Add([]byte{0, 200, 0, 201, 0, 200, 0, 202, 0, 200, 9, 0})
	f.Add([]byte{0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5})
	f.Add([]byte{0, 100, 0, 101, 0, 102, 0, 103})
	f.Fuzz(func(t *testing.T, b []byte) {
		var outs []heistgraph.TxOut
		for i := 0; i+1 < len(b) && len(outs) < 64; i += 2 {
			outs = append(outs, pay(500*(int64(b[i])<<8|int64(b[i+1])), fmt.Sprintf("o%d", i)))
		}
		tx, prev := txOf([]heistgraph.TxOut{pay(100*btc, "in")}, outs...)
		_, ok := DetectSplit(tx, prev)
		if may := MaySplit(sortedValues(outs)); may != ok {
			t.Fatalf("MaySplit %t, DetectSplit %t, values %v", may, ok, sortedValues(outs))
		}
	})
}

func TestEntryKind(t *testing.T) {
	t.Parallel()
	for cat, want := range map[string]string{"mixer": "mixer_entry", "bridge": "bridge_entry", "exchange": "", "dprk": ""} {
		k, ok := EntryKind(cat)
		if k != want || ok != (want != "") {
			t.Errorf("EntryKind(%q) = %q, %t", cat, k, ok)
		}
	}
}
