package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/store"
)

// Integration tests against a real btcd node in regtest (internal/btcdtest
// starts it; scripts/setup-btcd.sh installs it). Outside CI they skip when
// btcd is missing; in CI they must run.

// rpcSource returns an RPCSource for node.
func rpcSource(tb testing.TB, node *btcdtest.Node, opts bitcoin.RPCOptions) *bitcoin.RPCSource {
	tb.Helper()
	opts.User, opts.Password = node.User, node.Pass
	if opts.Network == nil {
		opts.Network = &heistgraph.Regtest
	}
	src, err := bitcoin.NewRPCSource(node.RPCURL, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(src.Close)
	return src
}

// coinbase returns the coinbase output of the node's block at height (a
// block of height < 150, whose subsidy is 50 BTC, and without fees).
func coinbase(tb testing.TB, node *btcdtest.Node, height int64) btcdtest.Coin {
	tb.Helper()
	var blk struct {
		Tx []string `json:"tx"`
	}
	node.MustCall(tb, &blk, "getblock", node.BlockHash(tb, height), 1)
	id, err := chainhash.NewHashFromStr(blk.Tx[0])
	if err != nil {
		tb.Fatal(err)
	}
	return btcdtest.Coin{TxID: *id, Vout: 0, Value: 50e8, Key: btcdtest.MinerKey()}
}

// send signs and submits a spend of coins to payments.
func send(tb testing.TB, node *btcdtest.Node, coins []btcdtest.Coin, payments ...btcdtest.Payment) *btcdtest.Tx {
	tb.Helper()
	tx, err := btcdtest.Spend(coins, payments)
	if err != nil {
		tb.Fatal(err)
	}
	if got := node.SendRawTransaction(tb, tx.Hex()); got != tx.TxID().String() {
		tb.Fatalf("node took tx %s as %s", tx.TxID(), got)
	}
	return tx
}

// syncStore syncs a fresh store from node and returns it.
func syncStore(tb testing.TB, node *btcdtest.Node) store.Store {
	tb.Helper()
	st := openStore(tb)
	if _, err := ingest.Sync(context.Background(), st, rpcSource(tb, node, bitcoin.RPCOptions{}), ingest.SyncOptions{}); err != nil {
		tb.Fatal(err)
	}
	return st
}

// nodeTx is getrawtransaction's verbose answer.
type nodeTx struct {
	Txid          string `json:"txid"`
	BlockHash     string `json:"blockhash"`
	Confirmations int64  `json:"confirmations"`
	Vin           []struct {
		Coinbase string `json:"coinbase"`
		Txid     string `json:"txid"`
		Vout     uint32 `json:"vout"`
		PrevOut  *struct {
			Addresses []string    `json:"addresses"`
			Value     json.Number `json:"value"`
		} `json:"prevOut"`
	} `json:"vin"`
	Vout []struct {
		Value        json.Number `json:"value"`
		N            uint32      `json:"n"`
		ScriptPubKey struct {
			Hex       string   `json:"hex"`
			Type      string   `json:"type"`
			Address   string   `json:"address"`
			Addresses []string `json:"addresses"`
		} `json:"scriptPubKey"`
	} `json:"vout"`
}

func sats(tb testing.TB, n json.Number) int64 {
	tb.Helper()
	v, err := btcdtest.ParseBTC(n.String())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func getTx(tb testing.TB, node *btcdtest.Node, txid string) nodeTx {
	tb.Helper()
	var tx nodeTx
	node.MustCall(tb, &tx, "getrawtransaction", txid, 1)
	return tx
}

// nodeFee computes a transaction's fee from the node's own answers: the
// values of the outputs its inputs spend, less its outputs.
func nodeFee(tb testing.TB, node *btcdtest.Node, tx nodeTx) int64 {
	tb.Helper()
	var fee int64
	for _, in := range tx.Vin {
		if in.Coinbase != "" {
			return 0
		}
		fee += sats(tb, getTx(tb, node, in.Txid).Vout[in.Vout].Value)
	}
	for _, out := range tx.Vout {
		fee -= sats(tb, out.Value)
	}
	return fee
}

// nodeBalance totals what the node's address index says addr received and
// sent (searchrawtransactions with the spent outputs' values).
func nodeBalance(tb testing.TB, node *btcdtest.Node, addr string) (received, sent int64) {
	tb.Helper()
	var txs []nodeTx
	node.MustCall(tb, &txs, "searchrawtransactions", addr, 1, 0, 10000, 1)
	for _, tx := range txs {
		for _, out := range tx.Vout {
			if out.ScriptPubKey.Address == addr || (len(out.ScriptPubKey.Addresses) > 0 && out.ScriptPubKey.Addresses[0] == addr) {
				received += sats(tb, out.Value)
			}
		}
		for _, in := range tx.Vin {
			if in.PrevOut != nil && len(in.PrevOut.Addresses) > 0 && in.PrevOut.Addresses[0] == addr {
				sent += sats(tb, in.PrevOut.Value)
			}
		}
	}
	return received, sent
}

// TestSyncBtcdHeist stages a small heist on a real node with real signed
// transactions (victim's hot wallet → attacker → split → peel chain →
// deposits at an exchange, which sweeps them; one piece left unspent),
// ingests the chain over RPC and checks every transaction, output and
// address against the node's own answers.
func TestSyncBtcdHeist(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{TxIndex: true, AddrIndex: true})
	node.Generate(t, 110) // coinbases 1..10 are mature
	var (
		victim    = btcdtest.NewKey("victim hot wallet", btcdtest.P2WPKH)
		user      = btcdtest.NewKey("bystander", btcdtest.P2PKH)
		attacker  = btcdtest.NewKey("attacker", btcdtest.P2PKH)
		split     = []*btcdtest.Key{btcdtest.NewKey("split 0", btcdtest.P2WPKH), btcdtest.NewKey("split 1", btcdtest.P2TR), btcdtest.NewKey("split 2", btcdtest.P2WPKH), btcdtest.NewKey("split 3", btcdtest.P2PKH)}
		deposits  = []*btcdtest.Key{btcdtest.NewKey("exchange deposit 0", btcdtest.P2WPKH), btcdtest.NewKey("exchange deposit 1", btcdtest.P2WPKH), btcdtest.NewKey("exchange deposit 2", btcdtest.P2WPKH), btcdtest.NewKey("exchange deposit 3", btcdtest.P2WPKH)}
		exchange  = btcdtest.NewKey("exchange hot wallet", btcdtest.P2WPKH)
		sent      []*btcdtest.Tx
		spentBy   = map[string]string{} // "txid:vout" -> spending txid
		fee       = int64(2000)
		mineAfter = func(txs ...*btcdtest.Tx) {
			for _, tx := range txs {
				sent = append(sent, tx)
				for _, in := range tx.Msg.TxIn {
					spentBy[in.PreviousOutPoint.String()] = tx.TxID().String()
				}
			}
		}
	)
	// The victim's hot wallet is funded by three coinbases; a bystander
	// gets one.
	fund := send(t, node, []btcdtest.Coin{coinbase(t, node, 1), coinbase(t, node, 2), coinbase(t, node, 3)},
		btcdtest.Payment{Key: victim, Value: 150e8 - fee})
	other := send(t, node, []btcdtest.Coin{coinbase(t, node, 4)}, btcdtest.Payment{Key: user, Value: 20e8}, btcdtest.Payment{Key: btcdtest.MinerKey(), Value: 30e8 - fee})
	mineAfter(fund, other)
	node.Generate(t, 1)

	// The theft: 100 BTC to the attacker, the rest back to the victim.
	theft := send(t, node, fund.Outs, btcdtest.Payment{Key: attacker, Value: 100e8}, btcdtest.Payment{Key: victim, Value: 50e8 - 2*fee})
	mineAfter(theft)
	node.Generate(t, 1)

	// Split into four, 25 BTC each less the fee, in the same block as a
	// first deposit straight from split 3 (spent in the block that makes it).
	parts := send(t, node, theft.Outs[:1], btcdtest.Payment{Key: split[0], Value: 25e8}, btcdtest.Payment{Key: split[1], Value: 25e8},
		btcdtest.Payment{Key: split[2], Value: 25e8}, btcdtest.Payment{Key: split[3], Value: 25e8 - fee})
	direct := send(t, node, parts.Outs[3:4], btcdtest.Payment{Key: deposits[3], Value: 25e8 - 2*fee})
	mineAfter(parts, direct)
	node.Generate(t, 1)

	// A peel chain from split 0: each hop pays a deposit address a little
	// and passes the rest to a fresh key.
	cur := parts.Outs[0]
	var peel []*btcdtest.Tx
	for i, amount := range []int64{3e8, 2e8, 4e8} {
		next := btcdtest.NewKey("peel "+string(rune('a'+i)), btcdtest.P2WPKH)
		tx := send(t, node, []btcdtest.Coin{cur}, btcdtest.Payment{Key: deposits[i], Value: amount}, btcdtest.Payment{Key: next, Value: cur.Value - amount - fee})
		peel = append(peel, tx)
		cur = tx.Outs[1]
		if i == 1 {
			mineAfter(peel...)
			peel = nil
			node.Generate(t, 1)
		}
	}
	mineAfter(peel...)
	node.Generate(t, 1)

	// The exchange sweeps its deposits into its hot wallet; split 1 (P2TR)
	// goes to the exchange too; split 2 stays unspent.
	sweep := send(t, node, []btcdtest.Coin{sentOut(t, sent, deposits[0]), sentOut(t, sent, deposits[1]), sentOut(t, sent, deposits[2]), direct.Outs[0]},
		btcdtest.Payment{Key: exchange, Value: 3e8 + 2e8 + 4e8 + 25e8 - 2*fee - fee})
	tr := send(t, node, parts.Outs[1:2], btcdtest.Payment{Key: exchange, Value: 25e8 - fee})
	mineAfter(sweep, tr)
	node.Generate(t, 2)

	// Ingest over RPC, fetching ahead.
	st := openStore(t)
	src := rpcSource(t, node, bitcoin.RPCOptions{})
	stats, err := ingest.Sync(context.Background(), st, src, ingest.SyncOptions{FetchAhead: 8})
	if err != nil {
		t.Fatal(err)
	}
	height := node.Height(t)
	if stats.Blocks != height+1 || tip(t, st, regtest).Hash.String() != node.BestHash(t) {
		t.Fatalf("applied %d blocks, tip %v; node is at %d %s", stats.Blocks, tip(t, st, regtest), height, node.BestHash(t))
	}
	ctx := context.Background()

	// Every transaction: its block, fee and outputs as the node sees them;
	// every output's spender as the node's UTXO set says.
	for _, tx := range sent {
		id := tx.TxID().String()
		ntx := getTx(t, node, id)
		rec, err := st.Tx(ctx, regtest, mustHash(t, id))
		if err != nil {
			t.Fatalf("tx %s: %v", id, err)
		}
		if rec.Block.Hash.String() != ntx.BlockHash || rec.Block.Height != height-ntx.Confirmations+1 {
			t.Errorf("tx %s in block %d %s; node says %s with %d confirmations", id, rec.Block.Height, rec.Block.Hash, ntx.BlockHash, ntx.Confirmations)
		}
		if want := nodeFee(t, node, ntx); !rec.FeeKnown || rec.Fee != want || rec.Fee != tx.Fee {
			t.Errorf("tx %s fee %d (known %v); node's answers give %d, we paid %d", id, rec.Fee, rec.FeeKnown, want, tx.Fee)
		}
		for n, out := range ntx.Vout {
			op := heistgraph.Outpoint{TxID: rec.Tx.TxID, Vout: uint32(n)}
			o, err := st.Output(ctx, regtest, op)
			if err != nil {
				t.Fatal(err)
			}
			addr := out.ScriptPubKey.Address
			if addr == "" && len(out.ScriptPubKey.Addresses) > 0 {
				addr = out.ScriptPubKey.Addresses[0]
			}
			if o.Value != sats(t, out.Value) || o.Address != addr {
				t.Errorf("output %s: %d to %s; node says %s to %s", op, o.Value, o.Address, out.Value, addr)
			}
			var utxo any
			node.MustCall(t, &utxo, "gettxout", id, n, false)
			switch {
			case utxo == nil && o.SpentBy == nil:
				t.Errorf("output %s: spent on the node, unspent in the store", op)
			case utxo != nil && o.SpentBy != nil:
				t.Errorf("output %s: unspent on the node, spent by %s in the store", op, o.SpentBy.TxID)
			case o.SpentBy != nil && o.SpentBy.TxID.String() != spentBy[op.String()]:
				t.Errorf("output %s spent by %s in the store, by %s in fact", op, o.SpentBy.TxID, spentBy[op.String()])
			}
		}
	}

	// Every address of the heist: totals as the node's address index
	// gives them.
	keys := []*btcdtest.Key{victim, user, attacker, exchange, btcdtest.MinerKey()}
	keys = append(append(keys, split...), deposits...)
	for _, k := range keys {
		sum, err := st.Address(ctx, regtest, k.Address())
		if err != nil {
			t.Fatalf("address %s (%s): %v", k.Address(), k.Name, err)
		}
		recv, spent := nodeBalance(t, node, k.Address())
		if sum.Received != recv || sum.Sent != spent {
			t.Errorf("%s %s: received %d sent %d; node says %d and %d", k.Name, k.Address(), sum.Received, sum.Sent, recv, spent)
		}
	}
	// The heist's end: the exchange holds the deposits, split 2 is unspent.
	if sum, _ := st.Address(ctx, regtest, exchange.Address()); sum.Balance() != 3e8+2e8+4e8+25e8-3*fee+25e8-fee {
		t.Errorf("exchange balance %d", sum.Balance())
	}
	if o, err := st.Output(ctx, regtest, heistgraph.Outpoint{TxID: mustHash(t, parts.TxID().String()), Vout: 2}); err != nil || o.SpentBy != nil {
		t.Errorf("split 2: %+v, %v; want unspent", o, err)
	}
}

// sentOut finds the first output paying k among txs.
func sentOut(tb testing.TB, txs []*btcdtest.Tx, k *btcdtest.Key) btcdtest.Coin {
	tb.Helper()
	for _, tx := range txs {
		for _, c := range tx.Outs {
			if c.Key == k {
				return c
			}
		}
	}
	tb.Fatalf("no output pays %s", k.Name)
	return btcdtest.Coin{}
}

func mustHash(tb testing.TB, s string) heistgraph.Hash {
	tb.Helper()
	h, err := heistgraph.ParseHash(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// TestSyncBtcdReorgs makes one node switch branches with invalidateblock
// and reconsiderblock: a reorg five blocks deep whose orphaned blocks hold
// a transaction (mined again on the new branch), then back to the first
// branch once it has grown longer (the shorter branch is replaced), then a
// node whose chain got shorter than the store's. After each, the store
// must equal a fresh sync of the node's chain.
func TestSyncBtcdReorgs(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	node.Generate(t, 105)
	send(t, node, []btcdtest.Coin{coinbase(t, node, 1)}, btcdtest.Payment{Key: btcdtest.NewKey("reorg", btcdtest.P2WPKH), Value: 50e8 - 5000})
	node.Generate(t, 5) // the tx is in block 106; tip 110
	st := openStore(t)
	src := rpcSource(t, node, bitcoin.RPCOptions{})
	type reorg struct{ old, fork int64 }
	var reorgs []reorg
	opts := ingest.SyncOptions{Events: ingest.Events{Reorg: func(_ heistgraph.Chain, old, fork int64) { reorgs = append(reorgs, reorg{old, fork}) }}}
	sync := func(want reorg) {
		t.Helper()
		reorgs = nil
		if _, err := ingest.Sync(context.Background(), st, src, opts); err != nil {
			t.Fatal(err)
		}
		if want != (reorg{}) && (len(reorgs) != 1 || reorgs[0] != want) {
			t.Fatalf("reorgs %v, want %v", reorgs, want)
		}
		if got := tip(t, st, regtest).Hash.String(); got != node.BestHash(t) {
			t.Fatalf("store tip %s, node's %s", got, node.BestHash(t))
		}
		if digest(t, st, regtest) != digest(t, syncStore(t, node), regtest) {
			t.Fatal("store differs from a fresh sync of the node's chain")
		}
	}
	sync(reorg{})

	oldBranch := node.BlockHash(t, 106)
	node.InvalidateBlock(t, oldBranch)
	newBranch := node.Generate(t, 8) // 106'..113', the tx mined again
	sync(reorg{110, 105})

	// Back to the old branch, grown to 116: the new one (113) is shorter.
	node.InvalidateBlock(t, newBranch[0])
	node.ReconsiderBlock(t, oldBranch)
	node.Generate(t, 6)
	node.ReconsiderBlock(t, newBranch[0])
	if node.Height(t) != 116 || node.BlockHash(t, 106) != oldBranch {
		t.Fatalf("node at %d on %s, want 116 on the old branch", node.Height(t), node.BlockHash(t, 106))
	}
	sync(reorg{113, 105})

	// A node whose best chain is now shorter than the store's, on another
	// branch: rewound to the fork and the node's blocks applied.
	node.InvalidateBlock(t, node.BlockHash(t, 114))
	node.InvalidateBlock(t, oldBranch)
	// The node is back on 113', the best valid tip.
	if node.Height(t) != 113 {
		t.Fatalf("node at %d, want 113", node.Height(t))
	}
	sync(reorg{116, 105})
}

// TestFollowBtcd follows a real node while it mines, reorganises three
// blocks deep, and goes down and comes back.
func TestFollowBtcd(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	node.Generate(t, 20)
	st := openStore(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	proxy := btcdtest.NewProxy(t, strings.TrimPrefix(node.RPCURL, "http://"))
	src, err := bitcoin.NewRPCSource(proxy.URL, bitcoin.RPCOptions{User: node.User, Password: node.Pass,
		RetryFor: 100 * time.Millisecond, MinBackoff: 10 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var reorgs []int64
	go func() {
		_, err := ingest.Follow(ctx, st, src, ingest.SyncOptions{
			PollInterval: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: logger,
			Events: ingest.Events{Reorg: func(_ heistgraph.Chain, _, fork int64) { reorgs = append(reorgs, fork) }},
		})
		done <- err
	}()
	wait := func() {
		t.Helper()
		want := node.BestHash(t)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if got, err := st.Tip(context.Background(), regtest); err == nil && got.Hash.String() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("store never reached the node's tip %s:\n%s", want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait()
	node.Generate(t, 5)
	wait()
	node.InvalidateBlock(t, node.BlockHash(t, 23))
	node.Generate(t, 4) // 23'..26' replace 23..25
	wait()

	proxy.Down()
	node.Generate(t, 2)
	time.Sleep(400 * time.Millisecond) // Follow retries meanwhile
	proxy.Up(t)
	wait()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v, want context.Canceled", err)
	}
	if len(reorgs) != 1 || reorgs[0] != 22 {
		t.Fatalf("reorgs at %v, want one at fork 22", reorgs)
	}
	if !strings.Contains(logs.String(), "source failing, retrying") || !strings.Contains(logs.String(), "bitcoin node unavailable, retrying") {
		t.Fatalf("no retry lines while the node was down:\n%s", logs.String())
	}
	if digest(t, st, regtest) != digest(t, syncStore(t, node), regtest) {
		t.Fatal("store after following differs from a fresh sync of the node's chain")
	}
}
