package pebble

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

func hashOf(b byte) heistgraph.Hash {
	var h heistgraph.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

// txidsOfTest resolves the numbers of test records: number n is hashOf(n).
func txidsOfTest(num uint64) (heistgraph.Hash, error) {
	if num > 255 {
		return heistgraph.Hash{}, errCorrupt
	}
	return hashOf(byte(num)), nil
}

func TestTxRecordRoundTrip(t *testing.T) {
	txid := hashOf(1)
	tests := []struct {
		name string
		rec  txRecord
	}{
		{"coinbase", txRecord{
			Num: 1, WTxID: txid, Version: 1, Size: 120, Weight: 480, Height: 0, Index: 0, FeeKnown: true, NOut: 1,
			Inputs: []inputRecord{{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}}},
		}},
		{"resolved, fee known, segwit", txRecord{
			Num: 1 << 40, WTxID: hashOf(9), Version: -2, LockTime: 800000, Size: 250, Weight: 661, Height: 840000, Index: 1234, Fee: 1500, FeeKnown: true, NOut: 2,
			Inputs: []inputRecord{
				{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(3), Vout: 7}, Sequence: 0xfffffffd}, PrevNum: 3, Resolved: true, Value: 100000, Type: heistgraph.ScriptWitnessV0KeyHash, AddrID: 3, Address: "bc1qxyz"},
				{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(4), Vout: 0}, Sequence: 0}, Resolved: true, Value: 5, Type: heistgraph.ScriptType("future_type")},
				// Addresses by id (addrtable.go).
				{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(7), Vout: 1}}, Resolved: true, Value: 6, Type: heistgraph.ScriptWitnessV0KeyHash, AddrID: 1, Address: "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw"},
				{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(200), Vout: 2}}, PrevNum: 200, Resolved: true, Value: 7, Type: heistgraph.ScriptScriptHash, AddrID: 1 << 30, Address: "2NE3FnBEiUq176rPesXGSqVyeQNnsj3ouN3"},
			},
		}},
		{"unresolved, out sum kept", txRecord{
			Num: 300, WTxID: txid, Version: 2, Size: 200, Weight: 800, Height: 5, Index: 3, OutSum: 4242, NOut: 3,
			Inputs: []inputRecord{{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(5), Vout: 1}, Sequence: 0xffffffff}}},
		}},
	}
	addrs := testAddrTable(t, "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", "unused", "bc1qxyz")
	if err := addrs.r.(*pebbledb.DB).Set(appendAddrByIDKey(nil, 1, 1<<30), appendAddrValue(nil, "2NE3FnBEiUq176rPesXGSqVyeQNnsj3ouN3"), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.rec
			if want.FeeKnown {
				want.OutSum = -want.Fee
				for _, in := range want.Inputs {
					want.OutSum += in.Value
				}
			}
			v := appendTxRecord(nil, txid, &tc.rec)
			var got txRecord
			if err := decodeTxRecord(v, tc.rec.Num, txid, &got, txidsOfTest, addrs); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
			// Without the address table the inputs keep their ids only.
			if err := decodeTxRecord(v, tc.rec.Num, txid, &got, txidsOfTest, nil); err != nil {
				t.Fatal(err)
			}
			for i := range want.Inputs {
				want.Inputs[i].Address = ""
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip without addresses:\n got %+v\nwant %+v", got, want)
			}
			if err := decodeTxRecord(v[:len(v)-1], tc.rec.Num, txid, &got, txidsOfTest, addrs); !errors.Is(err, errCorrupt) {
				t.Errorf("truncated record: error %v, want errCorrupt", err)
			}
			zero := tc.rec
			zero.Num = 0
			if err := decodeTxRecord(appendTxRecord(nil, txid, &zero), 0, txid, &got, txidsOfTest, addrs); !errors.Is(err, errCorrupt) {
				t.Errorf("record without a number: error %v, want errCorrupt", err)
			}
		})
	}
}

func TestSetFee(t *testing.T) {
	in := func(resolved bool, v int64) inputRecord {
		return inputRecord{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(2)}}, Resolved: resolved, Value: v}
	}
	tests := []struct {
		name   string
		inputs []inputRecord
		fee    int64
		known  bool
	}{
		{"coinbase", []inputRecord{{TxIn: heistgraph.TxIn{Coinbase: true}}}, 0, true},
		{"all resolved", []inputRecord{in(true, 600), in(true, 500)}, 100, true},
		{"one unresolved", []inputRecord{in(true, 600), in(false, 0)}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := txRecord{Inputs: tc.inputs}
			rec.setFee(1000)
			if rec.Fee != tc.fee || rec.FeeKnown != tc.known || rec.OutSum != 1000 {
				t.Errorf("fee %d known %v out sum %d, want %d %v 1000", rec.Fee, rec.FeeKnown, rec.OutSum, tc.fee, tc.known)
			}
		})
	}
}

func TestRecordRoundTrips(t *testing.T) {
	out := heistgraph.TxOut{Value: 12345, Script: []byte{0x51, 0xae}, Type: heistgraph.ScriptMultisig, Keys: []string{"1k1", "1k2"}}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"output", func(t *testing.T) {
			got, h, err := decodeOutputRecord(testOutputRecord(&out, 77, 0), nil)
			if err != nil || h != 77 || !reflect.DeepEqual(got, out) {
				t.Errorf("got %+v at %d (%v), want %+v at 77", got, h, err, out)
			}
			head, err := decodeOutputHead(testOutputRecord(&out, 77, 0))
			if err != nil || head != (outputHead{Value: 12345, Type: heistgraph.ScriptMultisig, Height: 77}) {
				t.Errorf("head %+v (%v)", head, err)
			}
		}},
		{"block", func(t *testing.T) {
			b := &heistgraph.Block{PrevHash: hashOf(1), MerkleRoot: hashOf(2), Height: 9, Time: -5, Version: -1, Bits: 0xffffffff, Nonce: 3, Size: 1000,
				Txs: []heistgraph.Tx{{TxID: hashOf(3)}, {TxID: hashOf(4)}}}
			got, err := decodeBlockRecord(appendBlockRecord(nil, b))
			want := heistgraph.BlockInfo{PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot, Height: 9, Time: -5, Version: -1, Bits: 0xffffffff, Nonce: 3, Size: 1000, TxIDs: []heistgraph.Hash{hashOf(3), hashOf(4)}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v (%v), want %+v", got, err, want)
			}
		}},
		{"events", func(t *testing.T) {
			got, err := decodeEventRecord(appendSpentEvent(nil, 1<<33, 5, 1<<31, -99), heistgraph.Spent)
			want := eventRecord{TxNum: 1 << 33, OutNum: 5, Vout: 1 << 31, Amount: -99}
			if err != nil || got != want {
				t.Errorf("spent: got %+v (%v), want %+v", got, err, want)
			}
			got, err = decodeEventRecord(appendReceivedEvent(nil, 6, 7), heistgraph.Received)
			want = eventRecord{TxNum: 6, Amount: 7}
			if err != nil || got != want {
				t.Errorf("received: got %+v (%v), want %+v", got, err, want)
			}
			for _, bad := range []struct {
				v []byte
				k heistgraph.AddressEventKind
			}{
				{appendReceivedEvent(nil, 0, 7), heistgraph.Received},     // no number 0
				{appendSpentEvent(nil, 1, 0, 0, 7), heistgraph.Spent},     // nor for the outpoint
				{appendSpentEvent(nil, 1, 2, 3, 7), heistgraph.Received},  // bytes left over
				{appendReceivedEvent(nil, 1, 7)[:1], heistgraph.Received}, // truncated
			} {
				if _, err := decodeEventRecord(bad.v, bad.k); !errors.Is(err, errCorrupt) {
					t.Errorf("%x as %v: error %v, want errCorrupt", bad.v, bad.k, err)
				}
			}
		}},
		{"event key position", func(t *testing.T) {
			p := eventPos{Height: 574200, TxIndex: 12, Kind: heistgraph.Spent, Index: 3}
			got, ok := decodeEventPos(appendEventKey(nil, 7, 1<<20+3, p))
			if !ok || got != p {
				t.Errorf("got %+v, want %+v", got, p)
			}
		}},
		{"spend key", func(t *testing.T) {
			k := appendSpender(appendSpendsOfKey(nil, 3, 1<<35, 4, true), 1<<7, 9)
			num, vout, sp, ok := decodeNumberedSpend(k[3:])
			if !ok || num != 1<<35 || vout != 4 || sp != (spenderRef{Num: 1 << 7, Vin: 9}) {
				t.Errorf("got %d %d %+v (%v)", num, vout, sp, ok)
			}
			if !bytes.HasPrefix(k, appendSpendsOfKey(nil, 3, 1<<35, 0, false)) {
				t.Errorf("%x: not under its tx's prefix", k)
			}
			op := heistgraph.Outpoint{TxID: hashOf(1), Vout: 4}
			p := appendSpender(appendPendingSpendsOfKey(nil, 3, op), 2, 1)
			if sp, ok := decodeSpender(p[3+1+32+4:]); !ok || sp != (spenderRef{Num: 2, Vin: 1}) {
				t.Errorf("pending: got %+v (%v)", sp, ok)
			}
			for _, bad := range [][]byte{appendSpender(nil, 0, 1), appendSpender(nil, 5, 1)[:2], append(appendSpender(nil, 5, 1), 0)} {
				if _, ok := decodeSpender(bad); ok {
					t.Errorf("spender %x decoded", bad)
				}
			}
		}},
		{"undo", func(t *testing.T) {
			es := []undoEntry{{Key: []byte("k1"), Prev: []byte("v1"), Present: true}, {Key: []byte("k2")}, {Key: []byte("k3"), Prev: []byte{}, Present: true}}
			got, err := decodeUndoRecord(appendUndoRecord(nil, es))
			if err != nil || !reflect.DeepEqual(got, es) {
				t.Errorf("got %+v (%v)", got, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}

func TestTotalsMerge(t *testing.T) {
	a := totals{Received: 10, TxCount: 1, OutputCount: 1, FirstHeight: 5, FirstTime: 50, LastHeight: 5, LastTime: 50}
	b := totals{Sent: 10, TxCount: 1, SpendCount: 1, FirstHeight: 9, FirstTime: 90, LastHeight: 9, LastTime: 90}
	c := totals{Received: 3, TxCount: 1, OutputCount: 1, FirstHeight: 2, FirstTime: 20, LastHeight: 2, LastTime: 20}
	want := totals{Received: 13, Sent: 10, TxCount: 3, OutputCount: 2, SpendCount: 1, FirstHeight: 2, FirstTime: 20, LastHeight: 9, LastTime: 90}
	orders := [][]totals{{a, b, c}, {c, b, a}, {b, a, c}}
	for _, order := range orders {
		m, err := totalsMerger.Merge(nil, appendTotals(nil, &order[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.MergeNewer(appendTotals(nil, &order[1])); err != nil {
			t.Fatal(err)
		}
		if err := m.MergeOlder(appendTotals(nil, &order[2])); err != nil {
			t.Fatal(err)
		}
		v, _, err := m.Finish(true)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v, appendTotals(nil, &want)) {
			got, _ := decodeTotals(v)
			t.Errorf("merge of %v: got %+v, want %+v", order, got, want)
		}
	}
	if _, err := totalsMerger.Merge(nil, []byte{0x80}); !errors.Is(err, errCorrupt) {
		t.Errorf("corrupt operand: error %v, want errCorrupt", err)
	}
}

// TestTotalsShape checks that the merge operator's check of a first
// operand accepts what decodeTotals decodes and nothing else.
func TestTotalsShape(t *testing.T) {
	good := appendTotals(nil, &totals{ID: 1 << 62, Received: -1 << 62, TxCount: 3, FirstHeight: 7, LastTime: 1.7e9})
	longest := append(bytes.Repeat([]byte{0xff}, 9), 1)
	tooLong := append(bytes.Repeat([]byte{0xff}, 10), 1)
	overflow := append(bytes.Repeat([]byte{0xff}, 9), 2)
	nine := bytes.Repeat([]byte{0}, 9)
	tests := []struct {
		name string
		v    []byte
	}{
		{"totals", good},
		{"zeros", bytes.Repeat([]byte{0}, 10)},
		{"longest varints", append(slices.Clone(nine), longest...)},
		{"nine varints", nine},
		{"eleven varints", bytes.Repeat([]byte{0}, 11)},
		{"cut in a varint", good[: len(good)-1 : len(good)-1]},
		{"a byte after", append(slices.Clone(good), 5)},
		{"unfinished varint after", append(slices.Clone(good), 0x80)},
		{"varint of 11 bytes", append(slices.Clone(nine), tooLong...)},
		{"varint past 64 bits", append(slices.Clone(nine), overflow...)},
		{"empty", nil},
	}
	for _, tc := range tests {
		_, err := decodeTotals(tc.v)
		if got := totalsShape(tc.v); got != (err == nil) {
			t.Errorf("%s: totalsShape %v, decodeTotals error %v", tc.name, got, err)
		}
		if _, merr := totalsMerger.Merge(nil, tc.v); (merr == nil) != (err == nil) {
			t.Errorf("%s: Merge error %v, decodeTotals error %v", tc.name, merr, err)
		}
	}
}

// FuzzDecode checks that no stored value, however damaged, makes a decoder
// panic.
func FuzzDecode(f *testing.F) {
	txid := hashOf(1)
	rec := txRecord{Num: 3, WTxID: hashOf(2), NOut: 2, Inputs: []inputRecord{{Resolved: true, Value: 5, AddrID: 3}}}
	f.Add(appendTxRecord(nil, txid, &rec))
	many := txRecord{Num: 1 << 20, WTxID: txid, FeeKnown: true, Inputs: []inputRecord{
		{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(3), Vout: 1 << 20}, Sequence: 7}},
		{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(4), Vout: 2}}, Resolved: true, Value: 9, Type: "custom", AddrID: 1},
		{TxIn: heistgraph.TxIn{PrevOut: heistgraph.Outpoint{TxID: hashOf(5)}}, PrevNum: 5, Resolved: true, Value: 1, Type: heistgraph.ScriptPubKeyHash, AddrID: 2},
	}}
	f.Add(appendTxRecord(nil, txid, &many))
	f.Add(testOutputRecord(&heistgraph.TxOut{Value: 1, Keys: []string{"a"}, Script: []byte{1}}, 3, 0))
	p2pkh, _ := hex.DecodeString("76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac")
	f.Add(testOutputRecord(&heistgraph.TxOut{Value: 2, Type: heistgraph.ScriptPubKeyHash, Address: "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Script: p2pkh}, 4, 1))
	many.Inputs[1].AddrID = 3
	f.Add(appendTxRecord(nil, txid, &many))
	addrs := testAddrTable(f, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1x", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
	f.Add(appendTotals(nil, &totals{Received: 1}))
	f.Add(appendSpentEvent(nil, 1<<20, 7, 2, -5))
	f.Add(appendUndoRecord(nil, []undoEntry{{Key: []byte("k"), Prev: []byte("v"), Present: true}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		var r txRecord
		_ = decodeTxRecord(v, 3, txid, &r, txidsOfTest, addrs)
		_, _, _ = decodeOutputRecord(v, addrs)
		_, _ = decodeOutputHead(v)
		_, _ = decodeBlockRecord(v)
		if _, err := decodeTotals(v); totalsShape(v) != (err == nil) {
			t.Errorf("totalsShape(%x) = %v, decodeTotals: %v", v, totalsShape(v), err)
		}
		_, _ = decodeUndoRecord(v)
		_, _ = decodeHeightRecord(v)
		_, _ = decodeEventRecord(v, heistgraph.Spent)
		_, _ = decodeEventRecord(v, heistgraph.Received)
	})
}

// TestTotalsMergeReused runs merges of random operands one after another
// through the merge operator's pool, each closed before the next starts,
// and checks each against totals.add folded by hand: a lone operand comes
// back byte for byte, and nothing of an earlier merge leaks into a later
// one that reuses its state.
func TestTotalsMergeReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() totals {
		h := rng.Int64N(1000)
		return totals{ID: uint64(rng.IntN(3)), Received: rng.Int64N(1 << 40), Sent: rng.Int64N(1 << 40), TxCount: rng.Int64N(5),
			OutputCount: rng.Int64N(3), SpendCount: rng.Int64N(3), FirstHeight: h, FirstTime: h * 600, LastHeight: h + rng.Int64N(9), LastTime: h*600 + 1}
	}
	for i := range 500 {
		ops := make([]totals, 1+rng.IntN(4))
		for j := range ops {
			ops[j] = random()
		}
		m, err := totalsMerger.Merge(nil, appendTotals(nil, &ops[0]))
		if err != nil {
			t.Fatal(err)
		}
		want := ops[0]
		for _, u := range ops[1:] {
			if err := m.MergeNewer(appendTotals(nil, &u)); err != nil {
				t.Fatal(err)
			}
			want.add(&u)
		}
		v, closer, err := m.Finish(i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		if w := appendTotals(nil, &want); !bytes.Equal(v, w) {
			t.Fatalf("merge %d of %d operands: got %x, want %x", i, len(ops), v, w)
		}
		if closer == nil {
			t.Fatalf("merge %d: no closer: the state would not go back to the pool", i)
		}
		if err := closer.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkTotalsMerge is what a compaction pays per address of a level-0
// file: a merge of one operand, and of an operand over a stored value.
func BenchmarkTotalsMerge(b *testing.B) {
	one := appendTotals(nil, &totals{ID: 70000, Received: 5e8, TxCount: 1, OutputCount: 1, FirstHeight: 2000, FirstTime: 1.7e9, LastHeight: 2000, LastTime: 1.7e9})
	two := appendTotals(nil, &totals{ID: 70000, Sent: 5e8, TxCount: 1, SpendCount: 1, FirstHeight: 2100, FirstTime: 1.7e9, LastHeight: 2100, LastTime: 1.7e9})
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("operands=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := totalsMerger.Merge(nil, one)
				if err != nil {
					b.Fatal(err)
				}
				if n == 2 {
					if err := m.MergeOlder(two); err != nil {
						b.Fatal(err)
					}
				}
				_, closer, err := m.Finish(true)
				if err != nil {
					b.Fatal(err)
				}
				if closer != nil {
					closer.Close()
				}
			}
		})
	}
}
