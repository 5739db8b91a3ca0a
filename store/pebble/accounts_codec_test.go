package pebble

import (
	"reflect"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestAccountCodecRoundTrip encodes every record of generated blocks and
// decodes it back unchanged.
func TestAccountCodecRoundTrip(t *testing.T) {
	t.Parallel()
	g := storetest.NewAccountGen("eth", 3, 8)
	for _, b := range g.Blocks(0, 0, 30, heistgraph.EVMHash{}) {
		bi, err := decodeAcctBlockRecord(appendAcctBlockRecord(nil, b))
		if err != nil || bi.Height != b.Height || bi.ParentHash != b.ParentHash || bi.FeeRecipient != b.FeeRecipient ||
			bi.BaseFee != b.BaseFee || bi.InternalKnown != b.InternalKnown || bi.Transfers != len(b.Transfers) || len(bi.TxHashes) != len(b.Txs) {
			t.Fatalf("block %d: %+v %v", b.Height, bi, err)
		}
		for i := range b.Txs {
			rec := acctTxRecord{Tx: b.Txs[i], Height: b.Height, FirstSeq: 3, Transfers: 4}
			got, err := decodeAcctTxRecord(appendAcctTxRecord(nil, &rec), b.Txs[i].Hash)
			if err != nil || !reflect.DeepEqual(got, rec) {
				t.Fatalf("tx %s:\n got %+v %v\nwant %+v", b.Txs[i].Hash, got, err, rec)
			}
		}
		for i := range b.Transfers {
			want := b.Transfers[i]
			want.TxHash = heistgraph.EVMHash{} // not stored: the block lists the txs
			var got heistgraph.Transfer
			if err := decodeTransferRecord(appendTransferRecord(nil, &b.Transfers[i]), &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("transfer %d of block %d:\n got %+v %v\nwant %+v", i, b.Height, got, err, want)
			}
			// A history record keeps the whole transfer, tx hash included.
			var ev store.AccountEvent
			full, err := decodeEventValue(appendEventValue(nil, eventCredit|eventDebit, &b.Transfers[i]), &ev)
			if err != nil || !full || !ev.Credit || !ev.Debit || !reflect.DeepEqual(ev.Transfer, b.Transfers[i]) {
				t.Fatalf("history record of transfer %d of block %d:\n got %+v %v\nwant %+v", i, b.Height, ev.Transfer, err, b.Transfers[i])
			}
		}
	}
	var max uint256.Int
	max.SetAllOne()
	for _, w := range []wide{{}, {Lo: *uint256.NewInt(1)}, {Wraps: 3, Lo: max}} {
		br := balanceRecord{Received: w, Sent: w, Credits: 2, Debits: 1}
		if got, err := decodeBalanceRecord(appendBalanceRecord(nil, &br)); err != nil || got != br {
			t.Errorf("balance %+v: got %+v %v", br, got, err)
		}
	}
	// An amount with a leading zero byte is not the canonical encoding.
	if _, err := decodeBalanceRecord([]byte{0, 2, 0, 1, 0, 0, 0, 0}); err == nil {
		t.Error("a non-minimal amount decoded")
	}
}

// FuzzDecodeAccount checks that no stored account-model value, however
// damaged, makes a decoder panic, and that what decodes encodes back the
// same.
func FuzzDecodeAccount(f *testing.F) {
	g := storetest.NewAccountGen("eth", 4, 4)
	for _, b := range g.Blocks(0, 0, 4, heistgraph.EVMHash{}) {
		f.Add(appendAcctBlockRecord(nil, b))
		for i := range b.Transfers {
			f.Add(appendTransferRecord(nil, &b.Transfers[i]))
			f.Add(appendEventValue(nil, eventCredit, &b.Transfers[i]))
		}
		for i := range b.Txs {
			f.Add(appendAcctTxRecord(nil, &acctTxRecord{Tx: b.Txs[i], Height: b.Height}))
		}
	}
	f.Add(appendBalanceRecord(nil, &balanceRecord{Received: wide{Wraps: 1}, Credits: 1}))
	f.Add(appendSummaryRecord(nil, &summaryRecord{TxCount: 1, Transfers: 2}))
	f.Add(appendTokenRecord(nil, &heistgraph.TokenInfo{Symbol: "USDT", Decimals: 6, Known: true}))
	f.Fuzz(func(t *testing.T, v []byte) {
		var x heistgraph.Transfer
		if decodeTransferRecord(v, &x) == nil {
			var y heistgraph.Transfer
			if err := decodeTransferRecord(appendTransferRecord(nil, &x), &y); err != nil || !reflect.DeepEqual(x, y) {
				t.Fatalf("transfer %+v does not round-trip: %+v %v", x, y, err)
			}
		}
		if br, err := decodeBalanceRecord(v); err == nil {
			if got, err := decodeBalanceRecord(appendBalanceRecord(nil, &br)); err != nil || got != br {
				t.Fatalf("balance %+v does not round-trip: %+v %v", br, got, err)
			}
		}
		_, _ = decodeAcctTxRecord(v, heistgraph.EVMHash{})
		_, _ = decodeAcctBlockRecord(v)
		_, _ = decodeSummaryRecord(v)
		_, _ = decodeTokenRecord(v)
		var ev store.AccountEvent
		if full, err := decodeEventValue(v, &ev); err == nil && full {
			flags := byte(0)
			if ev.Credit {
				flags |= eventCredit
			}
			if ev.Debit {
				flags |= eventDebit
			}
			var back store.AccountEvent
			if _, err := decodeEventValue(appendEventValue(nil, flags, &ev.Transfer), &back); err != nil || !reflect.DeepEqual(back, ev) {
				t.Fatalf("history record %+v does not round-trip: %+v %v", ev, back, err)
			}
		}
		_, _ = decodeCountRecord(v)
	})
}
