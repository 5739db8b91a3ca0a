package bitcoin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// TestRPCSourceBtcd reads a real btcd node in regtest (started by
// internal/btcdtest; scripts/setup-btcd.sh installs it): its network, tip
// and blocks, checked against the node's own verbose answers, including a
// block with a signed P2PKH, P2WPKH and P2TR spend.
func TestRPCSourceBtcd(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	hashes := node.Generate(t, 101)
	var first struct {
		Tx []string `json:"tx"`
	}
	node.MustCall(t, &first, "getblock", hashes[0], 1)
	cb, err := chainhash.NewHashFromStr(first.Tx[0])
	if err != nil {
		t.Fatal(err)
	}
	keys := []*btcdtest.Key{btcdtest.NewKey("p", btcdtest.P2PKH), btcdtest.NewKey("w", btcdtest.P2WPKH), btcdtest.NewKey("t", btcdtest.P2TR)}
	tx, err := btcdtest.Spend([]btcdtest.Coin{{TxID: *cb, Value: 50e8, Key: btcdtest.MinerKey()}},
		[]btcdtest.Payment{{Key: keys[0], Value: 1e8}, {Key: keys[1], Value: 2e8}, {Key: keys[2], Value: 46_9999_0000}})
	if err != nil {
		t.Fatal(err)
	}
	node.SendRawTransaction(t, tx.Hex())
	node.Generate(t, 1)

	src := newSource(t, node.RPCURL, bitcoin.RPCOptions{User: node.User, Password: node.Pass, Network: &heistgraph.Regtest})
	ctx := context.Background()
	if net, err := src.Network(ctx); err != nil || net != heistgraph.Regtest {
		t.Fatalf("Network = %v, %v; want regtest", net, err)
	}
	tip, err := src.TipHeight(ctx)
	if err != nil || tip != 102 {
		t.Fatalf("TipHeight = %d, %v; want 102", tip, err)
	}
	for h := int64(0); h <= tip; h++ {
		hash, err := src.BlockHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if want := node.BlockHash(t, h); hash.String() != want {
			t.Fatalf("BlockHash(%d) = %s, node says %s", h, hash, want)
		}
		b, err := src.Block(ctx, hash, h)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			PreviousHash string   `json:"previousblockhash"`
			MerkleRoot   string   `json:"merkleroot"`
			Height       int64    `json:"height"`
			Tx           []string `json:"tx"`
		}
		node.MustCall(t, &v, "getblock", hash.String(), 1)
		var txids []string
		for _, tx := range b.Txs {
			txids = append(txids, tx.TxID.String())
		}
		if b.Height != v.Height || b.MerkleRoot.String() != v.MerkleRoot || strings.Join(txids, " ") != strings.Join(v.Tx, " ") ||
			(h > 0 && b.PrevHash.String() != v.PreviousHash) {
			t.Fatalf("block %d: %+v differs from the node's %+v", h, b.Ref(), v)
		}
	}
	last, err := src.Block(ctx, mustHash(t, node.BestHash(t)), tip)
	if err != nil {
		t.Fatal(err)
	}
	if len(last.Txs) != 2 || last.Txs[1].TxID.String() != tx.TxID().String() {
		t.Fatalf("last block holds %d txs, want the coinbase and %s", len(last.Txs), tx.TxID())
	}
	for i, k := range keys {
		if got := last.Txs[1].Outputs[i].Address; got != k.Address() {
			t.Errorf("output %d pays %s, want %s", i, got, k.Address())
		}
	}
	if _, err := src.BlockHash(ctx, tip+1); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("BlockHash above the tip: %v, want ErrNotFound", err)
	}

	wrong := newSource(t, node.RPCURL, bitcoin.RPCOptions{User: node.User, Password: node.Pass, Network: &heistgraph.Mainnet})
	if _, err := wrong.Network(ctx); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("a regtest node taken for mainnet: %v, want ErrInvalid", err)
	}
	badAuth := newSource(t, node.RPCURL, bitcoin.RPCOptions{User: node.User, Password: "wrong"})
	if _, err := badAuth.TipHeight(ctx); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("bad password: %v, want ErrInvalid", err)
	}

	// A stopped node is retried, then reported.
	node.Stop()
	down := newSource(t, node.RPCURL, bitcoin.RPCOptions{User: node.User, Password: node.Pass,
		RetryFor: 100 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	if _, err := down.TipHeight(ctx); err == nil || !strings.Contains(err.Error(), "node unavailable; gave up after") {
		t.Fatalf("stopped node: %v, want an unavailable error", err)
	}
}

func mustHash(tb testing.TB, s string) heistgraph.Hash {
	tb.Helper()
	h, err := heistgraph.ParseHash(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
