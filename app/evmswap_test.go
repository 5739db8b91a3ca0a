package app

import (
	"bytes"
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// TestEVMTxSwaps: show tx lists a transaction's recognised swaps. On
// Ethereum a swap through the real Uniswap v3 USDC/WETH 0.05% pool (its
// address derives from the v3 factory for those tokens) is listed with its
// exchange, tokens and amounts (token metadata where stored); the same log
// from an address no listed factory derives is not.
func TestEVMTxSwaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memStore(t)
	must := func(s string) heistgraph.EVMAddress {
		a, err := heistgraph.ParseEVMAddress(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	usdc, weth := must("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), must("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
	pool, fake := must("0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"), heistgraph.EVMAddress{0xfa}
	z, router := heistgraph.EVMAddress{0x2a}, heistgraph.EVMAddress{0x70}
	topic := func(a heistgraph.EVMAddress) heistgraph.EVMHash {
		var h heistgraph.EVMHash
		copy(h[12:], a[:])
		return h
	}
	word := func(v *uint256.Int) []byte { b := v.Bytes32(); return b[:] }
	var in, out, one uint256.Int
	in.SetUint64(250_000_000)
	out.Neg(uint256.NewInt(80_000_000_000_000_000))
	one.SetOne()
	data := bytes.Join([][]byte{word(&in), word(&out), word(&one), word(&one), word(new(uint256.Int))}, nil)
	var txs []heistgraph.AccountTx
	var transfers []heistgraph.Transfer
	var logs []heistgraph.EventLog
	for i, p := range []heistgraph.EVMAddress{pool, fake} {
		tx := heistgraph.AccountTx{Hash: heistgraph.EVMHash{byte(i + 1)}, Index: int32(i), From: z, To: router, Status: 1}
		txs = append(txs, tx)
		li := int32(3 * i)
		transfers = append(transfers,
			heistgraph.Transfer{Kind: heistgraph.TransferERC20, TxIndex: tx.Index, TxHash: tx.Hash, From: p, To: z, Asset: heistgraph.TokenAsset(weth),
				Amount: *uint256.NewInt(80_000_000_000_000_000), LogIndex: li},
			heistgraph.Transfer{Kind: heistgraph.TransferERC20, TxIndex: tx.Index, TxHash: tx.Hash, From: z, To: p, Asset: heistgraph.TokenAsset(usdc),
				Amount: in, LogIndex: li + 1})
		logs = append(logs, heistgraph.EventLog{TxIndex: tx.Index, TxHash: tx.Hash, LogIndex: li + 2, Address: p,
			Topics: []heistgraph.EVMHash{pattern.TopicSwapV3, topic(router), topic(z)}, Data: data})
	}
	blk := &heistgraph.AccountBlock{Chain: "eth", Height: 17_000_000, Hash: heistgraph.EVMHash{0x99}, Time: 1_700_000_000, InternalKnown: true,
		Txs: txs, Transfers: transfers, Logs: logs}
	if err := st.ApplyAccountBlock(ctx, blk); err != nil {
		t.Fatal(err)
	}
	if err := st.PutToken(ctx, heistgraph.TokenInfo{Chain: "eth", Address: usdc, Symbol: "USDC", Decimals: 6, Known: true}); err != nil {
		t.Fatal(err)
	}
	v, err := EVMTx(ctx, st, EVMTxRequest{TxID: txs[0].Hash})
	if err != nil {
		t.Fatal(err)
	}
	want := EVMSwapView{Pool: pool.Hex(), Version: "v3", Exchange: "uniswap-v3", LogIndex: 2, Sender: router.Hex(), Recipient: z.Hex(),
		In:  EVMAmountView{Asset: usdc.Hex(), Symbol: "USDC", Decimals: 6, Amount: "250000000"},
		Out: EVMAmountView{Asset: weth.Hex(), Amount: "80000000000000000"}}
	if len(v.Swaps) != 1 || v.Swaps[0] != want {
		t.Errorf("swaps %+v, want %+v", v.Swaps, want)
	}
	v, err = EVMTx(ctx, st, EVMTxRequest{TxID: txs[1].Hash})
	if err != nil {
		t.Fatal(err)
	}
	if v.Swaps == nil || len(v.Swaps) != 0 {
		t.Errorf("a pool of no listed factory: swaps %+v, want []", v.Swaps)
	}
}

// memStore opens a Pebble store in memory, closed when t ends.
func memStore(t *testing.T) *pebble.DB {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
