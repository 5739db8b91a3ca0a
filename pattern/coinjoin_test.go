package pattern

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/heistgraph/heistgraph"
)

const (
	wpkh = heistgraph.ScriptWitnessV0KeyHash
	tr   = heistgraph.ScriptWitnessV1Taproot
	pkh  = heistgraph.ScriptPubKeyHash
	sh   = heistgraph.ScriptScriptHash
)

// coin is a value at an address of a script type; the address names the
// owner in tests.
type coin struct {
	addr  string
	value int64
	typ   heistgraph.ScriptType
}

func c(addr string, value int64) coin { return coin{addr, value, wpkh} }

func txOut(k coin) heistgraph.TxOut {
	h := sha256.Sum256([]byte(k.addr))
	return heistgraph.TxOut{Value: k.value, Type: k.typ, Address: k.addr, Script: append([]byte{0x00, 0x14}, h[:20]...)}
}

func opReturn() heistgraph.TxOut {
	return heistgraph.TxOut{Type: heistgraph.ScriptNullData, Script: []byte{0x6a, 0x04, 1, 2, 3, 4}}
}

// mk builds a transaction spending ins into outs, and its prevouts.
func mk(ins []coin, outs ...heistgraph.TxOut) (*heistgraph.Tx, []*heistgraph.TxOut) {
	tx := &heistgraph.Tx{Version: 2, Outputs: outs}
	var prev []*heistgraph.TxOut
	for i, k := range ins {
		o := txOut(k)
		prev = append(prev, &o)
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: sha256.Sum256([]byte(fmt.Sprint("prev", i))), Vout: uint32(i)}, Sequence: 0xffffffff})
	}
	tx.TxID = sha256.Sum256([]byte(fmt.Sprint(ins, outs)))
	return tx, prev
}

// colsOf returns tx (every prevout known) as columns: its script types
// coded in an order of their own (not the record's), owners numbered by
// their outputKey.
func colsOf(tx *heistgraph.Tx, prev []*heistgraph.TxOut) *Cols {
	c := &Cols{Types: []heistgraph.ScriptType{pkh, tr, sh, heistgraph.ScriptNullData, wpkh}}
	owners := map[string]uint32{}
	code := func(o *heistgraph.TxOut) (uint8, uint32) {
		i := slices.Index(c.Types, o.Type)
		if i < 0 {
			c.Types = append(c.Types, o.Type)
			i = len(c.Types) - 1
		}
		k := outputKey(o)
		if _, ok := owners[k]; !ok {
			owners[k] = uint32(len(owners))
		}
		return uint8(i), owners[k]
	}
	for _, p := range prev {
		t, w := code(p)
		c.InValue, c.InType, c.InOwner = append(c.InValue, p.Value), append(c.InType, t), append(c.InOwner, w)
	}
	for j := range tx.Outputs {
		t, w := code(&tx.Outputs[j])
		c.OutValue, c.OutType, c.OutOwner = append(c.OutValue, tx.Outputs[j].Value), append(c.OutType, t), append(c.OutOwner, w)
	}
	return c
}

// sameOnCols fails t unless the column rules (AnalyzeCoinJoinCols,
// IsStonewallValues) answer for tx as the record's do.
func sameOnCols(t *testing.T, tx *heistgraph.Tx, prev []*heistgraph.TxOut) {
	t.Helper()
	c := colsOf(tx, prev)
	want, wok := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{})
	got, ok := AnalyzeCoinJoinCols(c, CoinJoinOptions{})
	if ok != wok || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("AnalyzeCoinJoinCols = %+v %v, AnalyzeCoinJoin %+v %v", got, ok, want, wok)
	}
	var vs []int64
	for j, tp := range c.OutType {
		if c.Types[tp] != heistgraph.ScriptNullData {
			vs = append(vs, c.OutValue[j])
		}
	}
	if got, want := IsStonewallValues(len(c.InValue), vs), IsStonewall(tx); got != want {
		t.Fatalf("IsStonewallValues = %v, IsStonewall %v", got, want)
	}
}

func outs(ks ...coin) []heistgraph.TxOut {
	var o []heistgraph.TxOut
	for _, k := range ks {
		o = append(o, txOut(k))
	}
	return o
}

// seq returns n coins of value v at addresses prefix0..prefixN-1.
func seq(prefix string, n int, v int64) []coin {
	var out []coin
	for i := range n {
		out = append(out, c(fmt.Sprintf("%s%d", prefix, i), v))
	}
	return out
}

func cat(groups ...[]coin) []coin { return slices.Concat(groups...) }

// typed returns ks with script type t.
func typed(t heistgraph.ScriptType, ks []coin) []coin {
	out := slices.Clone(ks)
	for i := range out {
		out[i].typ = t
	}
	return out
}

// wasabi2Round builds a WabiSabi round: n inputs sorted by value descending,
// outputs of repeated standard denominations plus change, sorted
// descending.
func wasabi2Round(n int) ([]coin, []coin) {
	var ins []coin
	for i := range n {
		ins = append(ins, c(fmt.Sprintf("w2in%d", i), int64(5_000_000-i*100_000)))
	}
	var o []coin
	for i, d := range []int64{2_097_152, 1_000_000, 531_441, 200_000, 100_000} {
		for j := range 6 {
			o = append(o, c(fmt.Sprintf("w2d%d-%d", i, j), d))
		}
	}
	o = append(o, c("w2change", 77_777), c("w2coord", 12_345))
	slices.SortStableFunc(o, func(a, b coin) int { return int(b.value - a.value) })
	return ins, o
}

func TestDetectCoinJoin(t *testing.T) {
	t.Parallel()
	w2in, w2out := wasabi2Round(30)
	// unsorted WabiSabi: same round with two outputs swapped.
	w2bad := slices.Clone(w2out)
	w2bad[0], w2bad[len(w2bad)-1] = w2bad[len(w2bad)-1], w2bad[0]
	tests := []struct {
		name string
		ins  []coin
		outs []heistgraph.TxOut
		kind Kind
		conf Confidence
		want func(t *testing.T, cj CoinJoin)
	}{
		{
			// methods.md §4.10 example 1.
			name: "whirlpool 0.01 with two new entrants",
			ins:  cat(seq("remix", 3, 1_000_000), []coin{c("new1", 1_000_450), c("new2", 1_000_312)}),
			outs: outs(seq("post", 5, 1_000_000)...),
			kind: KindWhirlpool, conf: ConfidenceHigh,
			want: func(t *testing.T, cj CoinJoin) {
				if cj.NewEntrants != 2 || cj.Participants != 5 || !slices.Equal(cj.Denominations, []int64{1_000_000}) {
					t.Errorf("whirlpool details %+v", cj)
				}
			},
		},
		{
			name: "whirlpool surge round of 8",
			ins:  cat(seq("remix", 4, 5_000_000), seq("new", 4, 5_000_900)),
			outs: outs(seq("post", 8, 5_000_000)...),
			kind: KindWhirlpool, conf: ConfidenceHigh,
		},
		{
			// Five new entrants and no free remixer: not Whirlpool, but
			// five equal outputs from five owners is a generic CoinJoin.
			name: "whirlpool without remixer is generic",
			ins:  seq("new", 5, 1_000_450),
			outs: outs(seq("post", 5, 1_000_000)...),
			kind: KindGeneric, conf: ConfidenceMedium,
		},
		{
			name: "whirlpool excess below 100 sat is generic",
			ins:  cat(seq("remix", 4, 1_000_000), []coin{c("new", 1_000_050)}),
			outs: outs(seq("post", 5, 1_000_000)...),
			kind: KindGeneric, conf: ConfidenceMedium,
		},
		{
			name: "whirlpool shape in P2PKH is generic",
			ins:  typed(pkh, cat(seq("remix", 3, 1_000_000), seq("new", 2, 1_000_450))),
			outs: outs(seq("post", 5, 1_000_000)...),
			kind: KindGeneric, conf: ConfidenceMedium,
		},
		{
			// methods.md §4.10 example 2: 0.07 and 0.05 are one maker's.
			name: "joinmarket",
			ins:  []coin{c("taker", 31_000_000), c("m1", 52_000_000), c("m2a", 7_000_000), c("m2b", 5_000_000), c("m3", 20_000_000)},
			outs: outs(c("o1", 5_000_000), c("o2", 5_000_000), c("o3", 5_000_000), c("o4", 5_000_000),
				c("ch1", 47_010_000), c("ch2", 6_990_000), c("ch3", 40_990_000)),
			kind: KindJoinMarket, conf: ConfidenceMedium,
			want: func(t *testing.T, cj CoinJoin) {
				if cj.Participants != 4 || cj.Denominations[0] != 5_000_000 {
					t.Errorf("joinmarket details %+v", cj)
				}
			},
		},
		{
			name: "wasabi 2 round",
			ins:  w2in,
			outs: outs(w2out...),
			kind: KindWasabi2, conf: ConfidenceHigh,
			want: func(t *testing.T, cj CoinJoin) {
				if len(cj.Denominations) != 5 || cj.AnonymitySet != 6 || cj.Participants != 30 {
					t.Errorf("wasabi2 details %+v", cj)
				}
			},
		},
		{
			name: "wasabi 2 with taproot inputs",
			ins:  typed(tr, w2in),
			outs: outs(w2out...),
			kind: KindWasabi2, conf: ConfidenceHigh,
		},
		{
			// Sorting is the coordinator's fingerprint; without it (and
			// with too few inputs) the round's many denominations are too
			// few of each for the equal-output rules.
			name: "wasabi 2 shape unsorted, 19 inputs",
			ins:  w2in[:19],
			outs: outs(w2bad...),
			kind: KindNone,
		},
		{
			name: "wasabi 1 round",
			ins:  seq("zl", 12, 10_300_000),
			outs: outs(cat(seq("mix", 10, 9_998_000), seq("chg", 2, 290_000), []coin{c("coordfee", 45_000)})...),
			kind: KindWasabi1, conf: ConfidenceHigh,
			want: func(t *testing.T, cj CoinJoin) {
				if cj.Participants != 10 || cj.Denominations[0] != 9_998_000 {
					t.Errorf("wasabi1 details %+v", cj)
				}
			},
		},
		{
			// c = 3 of m = 6: JoinMarket's c >= m/2 holds.
			name: "three equal of six outputs",
			ins:  []coin{c("a", 3_100_000), c("b", 3_050_000), c("d", 3_200_000), c("e", 2_000_000)},
			outs: outs(c("x1", 3_000_000), c("x2", 3_000_000), c("x3", 3_000_000), c("ch1", 99_000), c("ch2", 48_000), c("ch4", 2_188_000)),
			kind: KindJoinMarket, conf: ConfidenceMedium,
		},
		{
			// c = 3 of m = 8: JoinMarket needs c >= m/2, generic c >= 3.
			name: "generic with more change outputs",
			ins:  []coin{c("a", 3_100_000), c("b", 3_050_000), c("d", 3_200_000), c("e", 2_000_000)},
			outs: outs(c("x1", 3_000_000), c("x2", 3_000_000), c("x3", 3_000_000), c("ch1", 99_000), c("ch2", 48_000), c("ch3", 198_000), c("ch4", 990_000), c("ch5", 990_001)),
			kind: KindGeneric, conf: ConfidenceMedium,
		},
		{
			// One input could have funded two equal outputs: not a join.
			name: "generic fails the largest-input test",
			ins:  []coin{c("whale", 9_500_000), c("b", 100_000), c("d", 100_000)},
			outs: outs(c("x1", 3_000_000), c("x2", 3_000_000), c("x3", 3_000_000), c("ch1", 99_000), c("ch2", 48_000), c("ch3", 198_000), c("ch4", 990_000), c("ch5", 990_001)),
			kind: KindNone,
		},
		// Must not fire (methods.md §4.6).
		{
			// methods.md §4.10 example 3: one exchange, 6 inputs, 20 outputs
			// of which three equal.
			name: "batched exchange withdrawal",
			ins:  seq("hot", 6, 40_000_000),
			outs: outs(cat(seq("w", 3, 1_000_000), batchOutputs(17))...),
			kind: KindNone,
		},
		{
			name: "batched withdrawal with many equal amounts from one hot address",
			ins:  []coin{c("hot", 200_000_000), c("hot", 100_000_000)},
			outs: outs(cat(seq("w", 6, 1_000_000), batchOutputs(4))...),
			kind: KindNone,
		},
		{
			// A two-party PayJoin looks like an ordinary payment.
			name: "payjoin of two parties is not whirlpool",
			ins:  []coin{c("payer", 1_000_000), c("payee", 1_000_000)},
			outs: outs(c("payee2", 1_500_000), c("payerchange", 499_000)),
			kind: KindNone,
		},
		{
			name: "two-party equal outputs are not whirlpool",
			ins:  []coin{c("a", 1_000_000), c("b", 1_000_450)},
			outs: outs(c("x", 1_000_000), c("y", 1_000_000)),
			kind: KindNone,
		},
		{
			name: "stonewall",
			ins:  []coin{c("a", 600_000), c("b", 700_000)},
			outs: outs(c("pay", 250_000), c("fake", 250_000), c("ch1", 349_000), c("ch2", 450_000)),
			kind: KindNone,
		},
		{
			name: "consolidation",
			ins:  seq("u", 10, 100_000),
			outs: outs(c("one", 990_000)),
			kind: KindNone,
		},
		{
			name: "dust equal outputs",
			ins:  seq("u", 4, 100_000),
			outs: outs(c("d1", 546), c("d2", 546), c("d3", 546), c("big", 390_000)),
			kind: KindNone,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx, prev := mk(tc.ins, tc.outs...)
			sameOnCols(t, tx, prev)
			kind, conf := DetectCoinJoin(tx, prev)
			if kind != tc.kind || conf != tc.conf {
				t.Fatalf("DetectCoinJoin = %q %q, want %q %q", kind, conf, tc.kind, tc.conf)
			}
			if tc.want != nil {
				cj, _ := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{})
				tc.want(t, cj)
			}
		})
	}
}

// batchOutputs returns n outputs of distinct amounts.
func batchOutputs(n int) []coin {
	var out []coin
	for i := range n {
		out = append(out, c(fmt.Sprintf("cust%d", i), int64(1_234_567+i*77_001)))
	}
	return out
}

func TestGenericSameOwnerVeto(t *testing.T) {
	t.Parallel()
	ins := []coin{c("a", 3_100_000), c("b", 3_050_000), c("d", 3_200_000), c("e", 2_000_000)}
	tx, prev := mk(ins, outs(c("x1", 3_000_000), c("x2", 3_000_000), c("x3", 3_000_000), c("ch1", 99_000), c("ch2", 48_000), c("ch3", 198_000), c("ch4", 990_000), c("ch5", 990_001))...)
	if _, ok := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{SameOwner: func() bool { return false }}); !ok {
		t.Fatal("generic CoinJoin of several owners not detected")
	}
	if cj, ok := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{SameOwner: func() bool { return true }}); ok {
		t.Fatalf("inputs of one cluster detected as %+v", cj)
	}
}

func TestCoinJoinUnknownPrevouts(t *testing.T) {
	t.Parallel()
	ins := cat(seq("remix", 3, 1_000_000), seq("new", 2, 1_000_450))
	tx, _ := mk(ins, outs(seq("post", 5, 1_000_000)...)...)
	// Without prevouts the Whirlpool rule cannot be checked; the equal
	// outputs still make it a (generic) CoinJoin, so H1 is still skipped.
	if kind, _ := DetectCoinJoin(tx, make([]*heistgraph.TxOut, 5)); kind != KindGeneric {
		t.Errorf("whirlpool mix with unknown prevouts: %q, want generic", kind)
	}
	if kind, _ := DetectCoinJoin(tx, nil); kind != KindGeneric {
		t.Errorf("whirlpool mix with no prevouts: %q, want generic", kind)
	}
	cb := &heistgraph.Tx{Inputs: []heistgraph.TxIn{{Coinbase: true, PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}}}, Outputs: outs(seq("m", 5, 1_000_000)...)}
	if kind, _ := DetectCoinJoin(cb, nil); kind != KindNone {
		t.Errorf("coinbase: %q", kind)
	}
	if kind, _ := DetectCoinJoin(nil, nil); kind != KindNone {
		t.Errorf("nil tx: %q", kind)
	}
}

func TestWasabi2Denominations(t *testing.T) {
	t.Parallel()
	if n := len(wasabi2Denoms); n != 78 {
		t.Errorf("%d standard denominations, methods.md §4.3 counts 78", n)
	}
	for _, v := range []int64{5_000, 6_561, 8_192, 10_000, 13_122, 16_384, 19_683, 20_000, 134_375_000_000 / 10 * 10} {
		if v <= 100_000 && !IsWasabi2Denomination(v) {
			t.Errorf("%d is a standard denomination", v)
		}
	}
	for _, v := range []int64{4_096, 5_001, 7_000, 30_000} {
		if IsWasabi2Denomination(v) {
			t.Errorf("%d is not a standard denomination", v)
		}
	}
}

func TestDetectTx0(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		outs    []heistgraph.TxOut
		ok      bool
		pool    int64
		premix  int
		change  bool
		feeWant int64
	}{
		{"tx0 with change", append(outs(cat(seq("pre", 7, 1_000_170), []coin{c("fee", 50_000), c("doxxic", 123_456)})...), opReturn()), true, 1_000_000, 7, true, 50_000},
		{"tx0 without change", append([]heistgraph.TxOut{opReturn()}, outs(cat([]coin{c("fee", 175_000)}, seq("pre", 3, 5_000_200))...)...), true, 5_000_000, 3, false, 175_000},
		{"tx0 with change in the fee window", append(outs(cat(seq("pre", 2, 100_300), []coin{c("fee", 5_000), c("doxxic", 9_000)})...), opReturn()), true, 100_000, 2, true, 5_000},
		{"no op_return", outs(cat(seq("pre", 7, 1_000_170), []coin{c("fee", 50_000)})...), false, 0, 0, false, 0},
		{"two op_returns", append(outs(cat(seq("pre", 7, 1_000_170), []coin{c("fee", 50_000)})...), opReturn(), opReturn()), false, 0, 0, false, 0},
		{"no fee output", append(outs(seq("pre", 7, 1_000_170)...), opReturn()), false, 0, 0, false, 0},
		{"two other outputs", append(outs(cat(seq("pre", 2, 1_000_170), []coin{c("fee", 50_000), c("x", 7_777_777), c("y", 8_888_888)})...), opReturn()), false, 0, 0, false, 0},
		{"premix excess too large", append(outs(cat(seq("pre", 3, 1_200_000), []coin{c("fee", 50_000)})...), opReturn()), false, 0, 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx, prev := mk([]coin{c("owner", 10_000_000)}, tc.outs...)
			t0, ok := DetectTx0(tx)
			if ok != tc.ok {
				t.Fatalf("DetectTx0 = %+v, %v; want ok %v", t0, ok, tc.ok)
			}
			if !ok {
				return
			}
			if t0.Pool != tc.pool || len(t0.Premixes) != tc.premix || (t0.Change >= 0) != tc.change || tx.Outputs[t0.FeeOutput].Value != tc.feeWant {
				t.Errorf("tx0 %+v", t0)
			}
			if kind, _ := DetectCoinJoin(tx, prev); kind != KindNone {
				t.Errorf("a Tx0 detected as CoinJoin %q", kind)
			}
		})
	}
}

func TestIsStonewall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ins  []coin
		outs []coin
		want bool
	}{
		{"stonewall", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("f", 250_000), c("c1", 349_000), c("c2", 450_000)}, true},
		{"stonewall three outputs", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("f", 250_000), c("c1", 799_000)}, true},
		{"payment with change", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("c1", 1_049_000)}, false},
		{"two pairs", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("f", 250_000), c("c1", 400_000), c("c2", 400_000)}, false},
		{"three equal", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("f", 250_000), c("g", 250_000), c("c2", 549_000)}, false},
		{"one input", []coin{c("a", 1_300_000)}, []coin{c("p", 250_000), c("f", 250_000), c("c1", 349_000), c("c2", 450_000)}, false},
		{"dust pair", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 546), c("f", 546), c("c1", 349_000), c("c2", 450_000)}, false},
		{"five outputs", []coin{c("a", 600_000), c("b", 700_000)}, []coin{c("p", 250_000), c("f", 250_000), c("c1", 349_000), c("c2", 350_000), c("c3", 100_000)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx, prev := mk(tc.ins, outs(tc.outs...)...)
			sameOnCols(t, tx, prev)
			if got := IsStonewall(tx); got != tc.want {
				t.Errorf("IsStonewall = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMayCoinJoin checks that MayCoinJoin says yes to every CoinJoin
// AnalyzeCoinJoin finds, on random transactions shaped like CoinJoins
// (values from the Whirlpool pools, WabiSabi denominations and a few
// others, repeated; P2WPKH or P2TR; owners distinct or shared; outputs
// sorted or not; an OP_RETURN now and then) and on the Wasabi 2 round of
// TestDetectCoinJoin, and that it says no to some of those that are not;
// and that the rules on columns agree with the records' on each.
func TestMayCoinJoin(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	vals := []int64{100_000, 1_000_000, 5_000_000, 50_000_000, 10_000_000, 9_900_000, 2_097_152, 531_441, 200_000, 5_000, 546, 77_777, 12_345, 3_000_000}
	found, no := map[Kind]int{}, 0
	check := func(tx *heistgraph.Tx, prev []*heistgraph.TxOut) {
		t.Helper()
		sorted := make([]int64, 0, len(tx.Outputs))
		for _, o := range tx.Outputs {
			sorted = append(sorted, o.Value)
		}
		slices.Sort(sorted)
		sameOnCols(t, tx, prev)
		may := MayCoinJoin(len(tx.Inputs), sorted)
		cj, ok := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{})
		if ok && !may {
			t.Fatalf("a %s CoinJoin of %d inputs and outputs %v: MayCoinJoin says no", cj.Kind, len(tx.Inputs), sorted)
		}
		if ok {
			found[cj.Kind]++
		} else if !may {
			no++
		}
	}
	in, out := wasabi2Round(30)
	check(mk(in, outs(out...)...))
	// WabiSabi with three denominations paid exactly twice (no value three
	// times), and no more inputs than it needs.
	in, _ = wasabi2Round(20)
	var pairs []coin
	for i, d := range []int64{2_097_152, 2_097_152, 1_000_000, 1_000_000, 531_441, 531_441, 200_000, 100_000, 77_777} {
		pairs = append(pairs, c(fmt.Sprintf("w2p%d", i), d))
	}
	if tx, prev := mk(in, outs(pairs...)...); true {
		if cj, ok := AnalyzeCoinJoin(tx, prev, CoinJoinOptions{}); !ok || cj.Kind != KindWasabi2 {
			t.Fatalf("the round of pairs is not Wasabi 2: %+v %v", cj, ok)
		}
		check(tx, prev)
	}
	for range 4000 {
		nin := 1 + r.IntN(30)
		typ := wpkh
		if r.IntN(4) == 0 {
			typ = tr
		}
		var ins []coin
		for i := range nin {
			ins = append(ins, coin{fmt.Sprintf("in%d", i), 5_000_000 - int64(i)*1000 + int64(r.IntN(500)), typ})
		}
		if r.IntN(8) == 0 { // a Whirlpool round: pool value in, a fee above for new entrants, pool value out
			d := vals[r.IntN(4)]
			nin = 5 + r.IntN(4)
			ins = ins[:0]
			for i := range nin {
				ins = append(ins, c(fmt.Sprintf("in%d", i), d+int64(r.IntN(2))*int64(100+r.IntN(1000))))
			}
			check(mk(ins, outs(seq("post", nin, d)...)...))
		}
		nout := 2 + r.IntN(30)
		var os []coin
		d := vals[r.IntN(len(vals))]
		for i := range nout {
			v := d
			if r.IntN(3) == 0 {
				v = vals[r.IntN(len(vals))]
			}
			owner := fmt.Sprintf("out%d", i)
			if r.IntN(20) == 0 {
				owner = "out0"
			}
			os = append(os, coin{owner, v, wpkh})
		}
		if r.IntN(2) == 0 {
			slices.SortStableFunc(os, func(a, b coin) int { return cmp.Compare(b.value, a.value) })
		}
		o := outs(os...)
		if r.IntN(10) == 0 {
			o = append(o, opReturn())
		}
		check(mk(ins, o...))
	}
	for _, k := range []Kind{KindWhirlpool, KindWasabi1, KindWasabi2, KindJoinMarket, KindGeneric} {
		if found[k] == 0 {
			t.Errorf("no %s CoinJoin among the random transactions: the test does not cover it (found %v)", k, found)
		}
	}
	if no == 0 {
		t.Error("MayCoinJoin said yes to every transaction")
	}
	t.Logf("CoinJoins %v, %d ruled out by MayCoinJoin", found, no)
}
