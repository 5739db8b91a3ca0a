package payroll_test

import (
	"context"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/payroll"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// A payroll staged on a real btcd node (regtest) with signed transactions
// (internal/btcdtest; scripts/setup-btcd.sh installs btcd; the test skips
// without it, except in CI or with HEISTGRAPH_REQUIRE_NODES=1):
//
//	payout tx: the employer pays P, A, B and C 1 BTC each (hop 1)
//	P → Q 0.99 BTC (fee 0.01; hop 2)
//	Q → D 0.50 BTC (D labelled dprk), X 0.48 BTC (fee 0.01; hop 3)
//	A + B → Z 1.99 BTC: A's and B's wallets spent together (fee 0.01)
//
// Expected: P is flagged dprk_exposure (sent) with exactly 50,000,000 sat
// = 50% of its pay at hop 3 (methods.md §8.8: the fee takes ⌊1e6·99e6/99e6⌋
// of Q's 0.99, the rest 98e6 is apportioned over 50e6 and 48e6); A and B
// are flagged shared_cluster (naming each other, with the spending
// transaction) and converging_payouts (Z at hop 2); K, named like the SDN
// entry KIM, Sang Man (43377, DPRK4) with that entry's listed XBT address,
// is flagged sanctioned_wallet, sdn_match and it_worker_indicator; C, paid
// and never moving its pay, has no flag, nor have E and F, who both sent
// their pay to one exchange-labelled address (no convergence at a
// service).
func TestPayrollOnBtcd(t *testing.T) {
	node := btcdtest.Start(t, btcdtest.Options{})
	ctx := context.Background()
	node.Generate(t, 101)
	keyP, keyQ, keyA, keyB := btcdtest.NewKey("payee-p", btcdtest.P2WPKH), btcdtest.NewKey("hop-q", btcdtest.P2WPKH),
		btcdtest.NewKey("payee-a", btcdtest.P2WPKH), btcdtest.NewKey("payee-b", btcdtest.P2TR)
	keyC, keyD, keyX, keyZ := btcdtest.NewKey("payee-c", btcdtest.P2PKH), btcdtest.NewKey("dprk-d", btcdtest.P2WPKH),
		btcdtest.NewKey("other-x", btcdtest.P2WPKH), btcdtest.NewKey("pool-z", btcdtest.P2WPKH)
	keyE, keyF, keyW := btcdtest.NewKey("payee-e", btcdtest.P2WPKH), btcdtest.NewKey("payee-f", btcdtest.P2WPKH), btcdtest.NewKey("exchange-w", btcdtest.P2WPKH)

	const btc = 100_000_000
	pay := send(t, node, []btcdtest.Coin{coinbase(t, node, 1)},
		btcdtest.Payment{Key: keyP, Value: 1 * btc}, btcdtest.Payment{Key: keyA, Value: 1 * btc},
		btcdtest.Payment{Key: keyB, Value: 1 * btc}, btcdtest.Payment{Key: keyC, Value: 1 * btc},
		btcdtest.Payment{Key: keyE, Value: 1 * btc}, btcdtest.Payment{Key: keyF, Value: 1 * btc},
		btcdtest.Payment{Key: btcdtest.MinerKey(), Value: 44*btc - btc/100})
	node.Generate(t, 1)
	fwd := send(t, node, pay.Outs[:1], btcdtest.Payment{Key: keyQ, Value: 99 * btc / 100})
	node.Generate(t, 1)
	toD := send(t, node, fwd.Outs, btcdtest.Payment{Key: keyD, Value: btc / 2}, btcdtest.Payment{Key: keyX, Value: 48 * btc / 100})
	together := send(t, node, pay.Outs[1:3], btcdtest.Payment{Key: keyZ, Value: 199 * btc / 100})
	send(t, node, pay.Outs[4:5], btcdtest.Payment{Key: keyW, Value: 99 * btc / 100})
	send(t, node, pay.Outs[5:6], btcdtest.Payment{Key: keyW, Value: 99 * btc / 100})
	node.Generate(t, 1)

	st := openStore(t)
	src, err := bitcoin.NewRPCSource(node.RPCURL, bitcoin.RPCOptions{User: node.User, Password: node.Pass, Network: &heistgraph.Regtest})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	if _, err := ingest.Sync(ctx, st, src, ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	builtin, err := label.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	labels := append(builtin, heistgraph.Label{Chain: heistgraph.ChainBTCRegtest, Address: keyD.Address(), Entity: "DPRK test wallet",
		Category: "dprk", Source: "test", Confidence: 1},
		heistgraph.Label{Chain: heistgraph.ChainBTCRegtest, Address: keyW.Address(), Entity: "Exchange W", Category: "exchange", Source: "test", Confidence: 1})
	if _, err := st.PutLabels(ctx, labels); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, heistgraph.ChainBTCRegtest, cluster.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	rs, err := risk.NewScreener(st, risk.Options{Normalize: heistgraph.NormalizeAddress})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := payroll.NewScreener(st, rs, payroll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := heistgraph.ChainBTCRegtest
	req := &payroll.Request{Payees: []payroll.Payee{
		{ID: "P", Name: "Pat Forwarder", Wallets: []payroll.Wallet{{Chain: reg, Address: keyP.Address()}}},
		{ID: "A", Name: "Ann Alder", Wallets: []payroll.Wallet{{Chain: reg, Address: keyA.Address()}}},
		{ID: "B", Name: "Ben Birch", Email: "ben@example.org", Wallets: []payroll.Wallet{{Chain: reg, Address: keyB.Address()}}},
		{ID: "C", Name: "Carol Clean", Wallets: []payroll.Wallet{{Chain: reg, Address: keyC.Address()}}},
		{ID: "E", Name: "Eve Cashout", Wallets: []payroll.Wallet{{Chain: reg, Address: keyE.Address()}}},
		{ID: "F", Name: "Fay Cashout", Wallets: []payroll.Wallet{{Chain: reg, Address: keyF.Address()}}},
		{ID: "K", Name: "Sang Man Kim", Wallets: []payroll.Wallet{{Chain: heistgraph.ChainBTC, Address: "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"}}},
	}}
	if err := req.Check(); err != nil {
		t.Fatal(err)
	}
	ans, err := ps.Screen(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]payroll.PayeeAnswer{}
	for _, p := range ans.Payees {
		byID[p.ID] = p
	}

	// P: 50% of its pay reached the dprk address at hop 3.
	p := byID["P"]
	f := only(t, p, payroll.KindDPRKExposure)
	ev := f.Evidence
	if ev.Direction != risk.Sent || *ev.AmountSat != 50_000_000 || *ev.TotalSat != btc || *ev.Share != 0.5 || ev.Hops != 3 {
		t.Errorf("P's dprk_exposure = %+v (amount %d of %d, share %v), want 50,000,000 of 100,000,000 sat = 0.5 at hop 3",
			ev, *ev.AmountSat, *ev.TotalSat, *ev.Share)
	}
	if want := []string{pay.TxID().String() + ":0"}; !slices.Equal(ev.Payouts, want) {
		t.Errorf("P's pay = %v, want the payout %v", ev.Payouts, want)
	}
	if f.Level != risk.LevelHigh || p.Risk != risk.LevelHigh {
		t.Errorf("P: flag level %s, risk %s; want high (§8.5: severe category >= 0.1%% within 3 hops)", f.Level, p.Risk)
	}
	if len(p.Flags) != 1 {
		t.Errorf("P has flags %+v, want dprk_exposure alone", p.Flags)
	}

	// A and B: spent together (one cluster) and their pay met at Z.
	for _, pair := range [][2]string{{"A", "B"}, {"B", "A"}} {
		pa := byID[pair[0]]
		sc := only(t, pa, payroll.KindSharedCluster)
		if !slices.Equal(sc.Evidence.Payees, []string{pair[1]}) || sc.Evidence.ClusterID == nil || len(sc.Evidence.Links) != 1 ||
			!slices.Equal(sc.Evidence.Links[0].TxIDs, []string{together.TxID().String()}) {
			t.Errorf("%s's shared_cluster = %+v, want %s and the tx %s", pair[0], sc.Evidence, pair[1], together.TxID())
		}
		cv := only(t, pa, payroll.KindConvergingPayouts)
		if !slices.Equal(cv.Evidence.Payees, []string{pair[1]}) || cv.Evidence.Address != keyZ.Address() {
			t.Errorf("%s's converging_payouts = %+v, want %s at %s", pair[0], cv.Evidence, pair[1], keyZ.Address())
		}
		for _, l := range cv.Evidence.Links {
			if l.Hops != 2 || l.AmountSat <= 0 || !slices.Equal(l.TxIDs, []string{together.TxID().String()}) {
				t.Errorf("%s's convergence link %+v: want hop 2 by %s", pair[0], l, together.TxID())
			}
		}
		if pa.Risk != risk.LevelMedium || len(pa.Flags) != 2 {
			t.Errorf("%s: risk %s, flags %+v; want medium with two flags", pair[0], pa.Risk, pa.Flags)
		}
	}

	// K: the SDN entry's name and listed address.
	k := byID["K"]
	if k.Risk != risk.LevelSevere {
		t.Errorf("K: risk %s, want severe", k.Risk)
	}
	only(t, k, payroll.KindSanctionedWallet)
	sdn := only(t, k, payroll.KindSDNMatch)
	if sdn.Evidence.UID != "43377" || *sdn.Evidence.Score != 1 || len(sdn.Evidence.Matches) != 2 {
		t.Errorf("K's sdn_match = %+v, want uid 43377 matched by name and wallet", sdn.Evidence)
	}
	if n := len(flagsOf(k, payroll.KindITWorkerIndicator)); n != 2 {
		t.Errorf("K has %d it_worker_indicator flags, want 2 (name and wallet indicators)", n)
	}

	// C: clean. E and F both cashed out at one labelled exchange address:
	// no convergence (service boundary), no flag.
	for _, id := range []string{"C", "E", "F"} {
		if c := byID[id]; c.Risk != risk.LevelNone || len(c.Flags) != 0 {
			t.Errorf("%s: risk %s, flags %+v; want none", id, c.Risk, c.Flags)
		}
	}
	if ans.Summary.Flagged != 4 || ans.Config.H != 3 {
		t.Errorf("summary %+v, config H %d", ans.Summary, ans.Config.H)
	}
	t.Logf("P: %s; D paid by %s", f.Detail, toD.TxID())
}

// only returns p's one flag of kind.
func only(t *testing.T, p payroll.PayeeAnswer, kind string) payroll.Flag {
	t.Helper()
	fs := flagsOf(p, kind)
	if len(fs) != 1 {
		t.Fatalf("payee %s has %d %s flags, want 1: %+v", p.ID, len(fs), kind, p.Flags)
	}
	return fs[0]
}

func flagsOf(p payroll.PayeeAnswer, kind string) []payroll.Flag {
	var out []payroll.Flag
	for _, f := range p.Flags {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// coinbase returns the coinbase output of the node's block at height (50
// BTC, no fees, mined to the miner key).
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

func openStore(tb testing.TB) store.Store {
	tb.Helper()
	db, err := pebble.Open("db", pebble.Options{FS: vfs.NewMem(), MemTableSize: 1 << 20, CacheSize: 8 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
