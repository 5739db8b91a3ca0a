package trace_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// TestAccountUnknownInternals: taint that enters a contract call in a
// block stored without internal transfers (InternalKnown false: no debug
// API) is an untraced sink naming the reason, not unspent at the
// contract; a plain value transfer in such a block, and a contract call in
// a block whose internal transfers are known, are followed as before.
//
// Block 1 (internals known) is the seed: A pays T 10 ETH. Block 2
// (internals unknown): T calls contract C with 4 ETH (input data), pays D
// 3 ETH (no input), and creates contract K with 1 ETH. Block 3 (internals
// known): T calls contract E with 1 ETH, which passes nothing on.
func TestAccountUnknownInternals(t *testing.T) {
	ctx := context.Background()
	addr := func(name string) heistgraph.EVMAddress {
		h := sha256.Sum256([]byte("untraced/" + name))
		return heistgraph.EVMAddress(h[:20])
	}
	a, tt, c, d, k, e := addr("A"), addr("T"), addr("C"), addr("D"), addr("K"), addr("E")
	const eth = 1_000_000_000_000_000_000
	var blocks []*heistgraph.AccountBlock
	block := func(known bool) *heistgraph.AccountBlock {
		h := int64(len(blocks))
		b := &heistgraph.AccountBlock{Chain: evmChain, Height: h, Hash: sha256.Sum256(fmt.Appendf(nil, "untraced/block/%d", h)),
			Time: 1_700_000_000 + 12*h, InternalKnown: known}
		if h > 0 {
			b.ParentHash = blocks[h-1].Hash
		}
		blocks = append(blocks, b)
		return b
	}
	pay := func(b *heistgraph.AccountBlock, from, to heistgraph.EVMAddress, eths uint64, input int32, create bool) heistgraph.EVMHash {
		i := int32(len(b.Txs))
		tx := heistgraph.AccountTx{Hash: sha256.Sum256(fmt.Appendf(nil, "untraced/tx/%d/%d", b.Height, i)), Index: i, Type: 2,
			From: from, To: to, Status: 1, InputLen: input, Create: create}
		var v uint256.Int
		v.Mul(uint256.NewInt(eths), uint256.NewInt(eth))
		tx.Value = v
		b.Txs = append(b.Txs, tx)
		b.Transfers = append(b.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferNative, TxIndex: i, TxHash: tx.Hash,
			From: from, To: to, Amount: v, LogIndex: -1})
		return tx.Hash
	}
	g := block(true)
	g.Transfers = append(g.Transfers, heistgraph.Transfer{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: a, Amount: *uint256.NewInt(0).Mul(uint256.NewInt(10), uint256.NewInt(eth)), LogIndex: -1})
	seed := pay(block(true), a, tt, 10, 0, false)
	b2 := block(false)
	callC := pay(b2, tt, c, 4, 68, false)
	pay(b2, tt, d, 3, 0, false)
	createK := pay(b2, tt, k, 1, 300, true)
	callE := pay(block(true), tt, e, 1, 36, false)

	st := openMem(t)
	for _, b := range blocks {
		if err := st.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	names := map[heistgraph.EVMAddress]string{a: "A", tt: "T", c: "C", d: "D", k: "K", e: "E"}
	txs := map[heistgraph.EVMHash]string{seed: "seed", callC: "callC", blocks[2].Txs[1].Hash: "payD", createK: "createK", callE: "callE"}
	want := map[string]bool{
		"untraced C callC 4 " + trace.ReasonInternalUnknown:   true,
		"untraced K createK 1 " + trace.ReasonInternalUnknown: true,
		"unspent D payD 3 ":  true,
		"unspent E callE 1 ": true,
		"unspent T seed 1 ":  true,
	}
	for _, p := range trace.Policies() {
		res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: evmChain, Seeds: []trace.AccountSeed{{Tx: seed}}, Policy: p})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got := map[string]bool{}
		for _, s := range res.Sinks {
			v := s.Value()
			var q, r uint256.Int
			q.DivMod(&v, uint256.NewInt(eth), &r)
			if !r.IsZero() {
				t.Errorf("%s: sink %+v: not whole ETH", p, s)
			}
			got[fmt.Sprintf("%s %s %s %d %s", s.Kind, names[s.Address], txs[s.TxID], q.Uint64(), s.Reason)] = true
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: sinks\n got %v\nwant %v", p, got, want)
		}
	}
}
