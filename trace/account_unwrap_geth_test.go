package trace_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/internal/gethtest"
	"github.com/heistgraph/heistgraph/trace"
)

// TestTraceUnwrapGeth traces a stolen token swapped to ETH on a real geth
// --dev chain (gethtest.RunUnwrap): in one transaction the router pays the
// stolen tokens into a token/WETH pool, takes its WETH, unwraps it (the
// WETH contract pays the router, then logs Withdrawal) and pays the ETH to
// cashout, which deposits half at a labelled exchange. The node lists the
// WETH contract's payout and the router's payment before the logs; ingest
// puts the Withdrawal, and the pool's transfers before it, ahead of the
// payout (evm.OrderLedger). Every conserving policy then finds the ETH at
// cashout and the exchange exactly: the tokens a swap sink at the pool,
// the WETH a swap sink at the WETH contract, the ETH out of the router at
// cashout, half of it at the exchange, cashout's gas in fees.
func TestTraceUnwrapGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	u := gethtest.RunUnwrap(t, node)
	ctx := context.Background()
	addr := func(name string) heistgraph.EVMAddress { return heistgraph.EVMAddress(u.Accounts[name]) }
	txHash := func(name string) heistgraph.EVMHash { return heistgraph.EVMHash(u.Txs[name].TxHash) }

	params, err := evm.ParamsFor("dev")
	if err != nil {
		t.Fatal(err)
	}
	params.WETH = append(params.WETH, addr("weth"))
	src, err := evm.NewRPCSource(node.RPCURL, evm.RPCOptions{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tip, err := src.TipHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if _, err := ingest.SyncAccounts(ctx, st, src, ingest.AccountOptions{Chain: "dev", To: tip, Bounded: true}); err != nil {
		t.Fatal(err)
	}

	// The cashout's ledger: the Withdrawal before the WETH contract's
	// payout, and that before the router's payment to cashout.
	rec, err := st.AccountTx(ctx, "dev", txHash("cashout"))
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, tr := range rec.Transfers {
		switch {
		case tr.Kind == heistgraph.TransferWETHWithdrawal && tr.From == addr("router"):
			at["withdrawal"] = i
		case tr.Kind == heistgraph.TransferInternal && tr.From == addr("weth") && tr.To == addr("router"):
			at["payout"] = i
		case tr.Kind == heistgraph.TransferInternal && tr.From == addr("router") && tr.To == addr("cashout"):
			at["pay"] = i
		case tr.Kind == heistgraph.TransferERC20 && tr.From == addr("pair") && tr.To == addr("router"):
			at["weth in"] = i
		}
	}
	if len(at) != 4 || !(at["weth in"] < at["withdrawal"] && at["withdrawal"] < at["payout"] && at["payout"] < at["pay"]) {
		t.Fatalf("cashout's ledger positions %v, want weth in < withdrawal < payout < pay", at)
	}

	fee := func(name string) uint256.Int {
		r := u.Txs[name]
		var v uint256.Int
		v.SetFromBig(new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
		return v
	}
	big256 := func(b *big.Int) uint256.Int { var v uint256.Int; v.SetFromBig(b); return v }
	native, stolen, weth := heistgraph.NativeAsset, heistgraph.TokenAsset(addr("stolen")), heistgraph.TokenAsset(addr("weth"))
	depositFee := fee("deposit")
	var rest uint256.Int
	out, dep := big256(u.ETHOut), big256(u.Deposited)
	rest.Sub(&out, &dep)
	rest.Sub(&rest, &depositFee)
	key := func(kind trace.SinkKind, a heistgraph.EVMAddress, asset heistgraph.Asset) string {
		return fmt.Sprintf("%s %s %s", kind, a.Hex(), asset)
	}
	want := map[string]uint256.Int{
		key(trace.SinkSwap, addr("pair"), stolen):       big256(gethtest.UnwrapTokens),
		key(trace.SinkSwap, addr("weth"), weth):         out,
		key(trace.SinkEntity, addr("exchange"), native): dep,
		key(trace.SinkUnspent, addr("cashout"), native): rest,
	}
	labels := mapResolver{addr("exchange").Lower(): {Name: "Exchange", Category: "exchange"}}
	for _, policy := range []trace.Policy{trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO} {
		t.Run(string(policy), func(t *testing.T) {
			res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: "dev", Policy: policy,
				Seeds: []trace.AccountSeed{{Tx: txHash("theft")}}, Resolver: labels})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint256.Int{}
			for _, s := range res.Sinks {
				k := key(s.Kind, s.Address, s.Asset)
				v, amt := got[k], s.Value()
				v.Add(&v, &amt)
				got[k] = v
			}
			for k, w := range want {
				if g := got[k]; g != w {
					t.Errorf("%s: %s, want %s", k, g.Dec(), w.Dec())
				}
			}
			for k, v := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected sink %s: %s", k, v.Dec())
				}
			}
			if res.Fees != depositFee.Dec() {
				t.Errorf("fees %s, want cashout's gas %s", res.Fees, depositFee.Dec())
			}
			for _, a := range res.Assets {
				if !a.Balanced() {
					t.Errorf("asset %s: seed %s + converted %s != sinks %s + fees %s", a.Asset, a.Seed, a.Converted, a.Sinks, a.Fees)
				}
			}
		})
	}
}
