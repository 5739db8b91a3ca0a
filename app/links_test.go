package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// TestTxLinks: show tx lists a transaction's stored links on both chains,
// in the JSON shape {method, src, dst, confidence, inferred}.
func TestTxLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memStore(t)
	btcTx := heistgraph.Tx{TxID: heistgraph.Hash{0xb1}, Version: 2, Size: 100, Weight: 400,
		Inputs:  []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Coinbase: true}},
		Outputs: []heistgraph.TxOut{{Value: 100_000_000, Address: "bcrt1qvault", Type: heistgraph.ScriptWitnessV0KeyHash}}}
	btcTx.WTxID = btcTx.TxID
	if err := st.ApplyBlock(ctx, &heistgraph.Block{Chain: heistgraph.ChainBTCRegtest, Height: 5, Hash: heistgraph.Hash{0xbb}, Time: 1, Txs: []heistgraph.Tx{btcTx}}); err != nil {
		t.Fatal(err)
	}
	ethTx := heistgraph.AccountTx{Hash: heistgraph.EVMHash{0xe1}, Status: 1}
	if err := st.ApplyAccountBlock(ctx, &heistgraph.AccountBlock{Chain: "eth", Height: 7, Hash: heistgraph.EVMHash{0xee}, Time: 2, InternalKnown: true, Txs: []heistgraph.AccountTx{ethTx}}); err != nil {
		t.Fatal(err)
	}
	l := store.StoredLink{Link: heistgraph.Link{Method: "thorchain", Confidence: heistgraph.ConfidenceExact,
		Src: heistgraph.LinkEnd{Chain: heistgraph.ChainBTCRegtest, TxID: btcTx.TxID.String(), Asset: "BTC", Amount: *uint256.NewInt(100_000_000)},
		Dst: heistgraph.LinkEnd{Chain: "eth", TxID: ethTx.Hash.String(), Index: 3, Asset: "native", Amount: *uint256.NewInt(15)}}, SrcHeight: 5, DstHeight: 7}
	if err := st.PutLinks(ctx, []store.StoredLink{l}); err != nil {
		t.Fatal(err)
	}
	want := TxLinkView{Method: "thorchain", Confidence: heistgraph.ConfidenceExact,
		Src: LinkEndView{Chain: heistgraph.ChainBTCRegtest, TxID: btcTx.TxID.String(), Asset: "BTC", Amount: "100000000", Height: 5},
		Dst: LinkEndView{Chain: "eth", TxID: ethTx.Hash.String(), Index: 3, Asset: "native", Amount: "15", Height: 7}}
	bv, err := Tx(ctx, st, TxRequest{TxID: btcTx.TxID})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EVMTx(ctx, st, EVMTxRequest{TxID: ethTx.Hash})
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]TxLinkView{"bitcoin": bv.Links, "evm": ev.Links} {
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s show tx links %+v, want %+v", name, got, want)
		}
	}
	b, err := json.Marshal(bv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"links":[{"method":"thorchain","src":{"chain":"btc-regtest","txid":"`+btcTx.TxID.String()+`","index":0,"asset":"BTC","amount":"100000000","block_height":5},`) ||
		!strings.Contains(string(b), `"confidence":"exact","inferred":false}]`) {
		t.Errorf("show tx --json: %s", b)
	}
	// A transaction without links has no links field.
	if err := st.RewindTo(ctx, "eth", -1); err != nil {
		t.Fatal(err)
	}
	if bv, err = Tx(ctx, st, TxRequest{TxID: btcTx.TxID}); err != nil || bv.Links != nil {
		t.Errorf("links after the outbound's chain was rewound: %+v (%v)", bv.Links, err)
	}
}
