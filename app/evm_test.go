package app

import (
	"context"
	"errors"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

func TestFormatUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		amount   string
		decimals uint8
		want     string
	}{
		{"zero", "0", 18, "0"},
		{"one wei", "1", 18, "0.000000000000000001"},
		{"one ether", "1000000000000000000", 18, "1"},
		{"a fraction", "1500000", 6, "1.5"},
		{"trailing zeros", "1230000", 6, "1.23"},
		{"below one", "50", 6, "0.00005"},
		{"no decimals", "42", 0, "42"},
		{"max", "115792089237316195423570985008687907853269984665640564039457584007913129639935", 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := uint256.MustFromDecimal(tc.amount)
			if got := FormatUnits(v, tc.decimals); got != tc.want {
				t.Errorf("FormatUnits(%s, %d) = %s, want %s", tc.amount, tc.decimals, got, tc.want)
			}
		})
	}
}

// TestEVMViews builds a store with one block above 0 (ingest from --from
// 100): a sender's balance is a deficit, flagged, and the balances say they
// are not complete; a token without metadata is shown in base units.
func TestEVMViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memStore(t)
	a := heistgraph.EVMAddress{0xaa, 1}
	b := heistgraph.EVMAddress{0xbb, 2}
	tok := heistgraph.EVMAddress{0xcc, 3}
	tx := heistgraph.AccountTx{Hash: heistgraph.EVMHash{1}, From: a, To: tok, Status: 1, Fee: *uint256.NewInt(21)}
	blk := &heistgraph.AccountBlock{Chain: "eth", Height: 100, Hash: heistgraph.EVMHash{0x64}, Time: 1_700_000_000, InternalKnown: true,
		Txs: []heistgraph.AccountTx{tx}, Transfers: []heistgraph.Transfer{
			{Kind: heistgraph.TransferERC20, TxHash: tx.Hash, From: a, To: b, Asset: heistgraph.TokenAsset(tok), Amount: *uint256.NewInt(5), LogIndex: 7},
			{Kind: heistgraph.TransferFee, TxHash: tx.Hash, From: a, Amount: *uint256.NewInt(21), LogIndex: -1},
		}}
	if err := st.ApplyAccountBlock(ctx, blk); err != nil {
		t.Fatal(err)
	}
	v, err := EVMAddress(ctx, st, AddressRequest{Address: "0xAA01000000000000000000000000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Chain != "eth" || v.BalancesComplete || v.StoredFrom != 100 || v.TxCount != 1 || len(v.Balances) != 2 {
		t.Fatalf("view %+v: want eth, incomplete from 100, one tx, two balances", v)
	}
	if n := v.Balances[0]; n.Asset != "native" || n.Symbol != "ETH" || n.Amount != "0" || !n.Incomplete || n.Deficit != "21" {
		t.Errorf("native balance %+v: want 0 with a deficit of 21, flagged", n)
	}
	if k := v.Balances[1]; k.Asset != tok.Hex() || k.Symbol != "" || k.Decimals != 0 || k.Deficit != "5" {
		t.Errorf("token balance %+v: want no metadata and a deficit of 5", k)
	}
	tv, err := EVMTx(ctx, st, EVMTxRequest{TxID: tx.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if len(tv.Transfers) != 2 || tv.Transfers[0].LogIndex == nil || *tv.Transfers[0].LogIndex != 7 || tv.Transfers[1].To != nil || tv.Transfers[1].LogIndex != nil {
		t.Errorf("tx view transfers %+v", tv.Transfers)
	}
	for _, bad := range []AddressRequest{{Address: "0x12"}, {Address: a.Hex(), Chain: "btc"}} {
		if _, err := EVMAddress(ctx, st, bad); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := EVMAddress(ctx, st, AddressRequest{Address: heistgraph.EVMAddress{9}.Hex()}); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	if _, err := EVMBlock(ctx, st, BlockRequest{ID: "99"}); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("block 99: %v, want ErrNotFound", err)
	}
}
