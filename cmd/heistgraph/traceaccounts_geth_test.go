package main

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/gethtest"
)

// TestTraceAccountsGeth traces value on a real geth --dev chain ingested
// through the CLI: alice's 10 ETH (her only native credit) seeded as an
// address, under every policy. She pays bob 1 ETH directly and 0.5 ETH
// through the Forwarder contract (an internal CALL: the tx-local rule
// passes it through), and pays the fees of her four transactions (one
// failed). Every conserving policy finds bob's 1.5 ETH and alice's fees
// exactly (her balance is tainted whole, so they agree), the Forwarder
// holds no taint, and native sinks + fees = 10 ETH exactly; FIFO leaves
// bob's 1.5 untouched behind his older clean ETH when he pays his own gas.
// Poison taints alice's and bob's whole balances, as the node reports them.
func TestTraceAccountsGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	sc := gethtest.RunScenario(t, node)
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev"), "ingest evm")

	fee := func(r *types.Receipt) *big.Int {
		return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	}
	aliceFees := new(big.Int)
	for _, name := range []string{"plain", "forward", "token_transfer", "token_failed"} {
		aliceFees.Add(aliceFees, fee(sc.Txs[name]))
	}
	alice := heistgraph.EVMAddress(sc.Accounts["alice"]).Hex()
	bob := heistgraph.EVMAddress(sc.Accounts["bob"]).Hex()
	forwarder := heistgraph.EVMAddress(sc.Accounts["forwarder"]).Hex()
	seed := gethtest.Ether(10_000)
	for _, policy := range []string{"haircut", "fifo", "lifo", "tiho", "poison"} {
		t.Run(policy, func(t *testing.T) {
			r := cli(t, "--data", data, "--json", "trace", "--chain", "dev", "--seed", alice, "--asset", "native", "--policy", policy)
			mustOK(t, r, "trace")
			res := decode[accountTraceJSON](t, r.stdout)
			if res.SeedAmount != seed.String() || res.SeedAsset != "native" {
				t.Fatalf("seed %s %s, want %s native", res.SeedAmount, res.SeedAsset, seed)
			}
			total, _ := new(big.Int).SetString(res.Fees, 10)
			fees := new(big.Int).Set(total)
			at := map[string]*big.Int{}
			for _, s := range res.Sinks {
				if s.Asset != "native" || s.Chain != "dev" {
					t.Fatalf("sink %+v", s)
				}
				v, _ := new(big.Int).SetString(s.Amount, 10)
				total.Add(total, v)
				if at[s.Address] == nil {
					at[s.Address] = new(big.Int)
				}
				at[s.Address].Add(at[s.Address], v)
			}
			if at[forwarder] != nil {
				t.Errorf("the Forwarder holds %s tainted: the tx-local rule should pass it through", at[forwarder])
			}
			if policy == "poison" {
				// Poison taints whole balances: alice's and bob's, as
				// the node holds them, and every fee they paid after.
				for _, who := range []string{"alice", "bob"} {
					a := heistgraph.EVMAddress(sc.Accounts[who]).Hex()
					if want := node.Balance(t, sc.Accounts[who], nil); at[a] == nil || at[a].Cmp(want) != 0 {
						t.Errorf("poison: %s holds %v tainted, the node says the balance is %s", who, at[a], want)
					}
				}
				if want := new(big.Int).Add(aliceFees, fee(sc.Txs["token_burn"])); fees.Cmp(want) != 0 {
					t.Errorf("poison: fees %s, want alice's and bob's %s", fees, want)
				}
				return
			}
			if total.Cmp(seed) != 0 {
				t.Errorf("sinks + fees = %s, want the seed %s exactly", total, seed)
			}
			// Bob's own gas fee (token_burn) may take some of his taint,
			// by policy; FIFO pays it from his older clean ETH.
			bobFee := fee(sc.Txs["token_burn"])
			gotBob, gotAliceFees := at[bob], new(big.Int).Set(fees)
			if gotBob == nil {
				t.Fatalf("nothing reached bob: %+v", res.Sinks)
			}
			lost := new(big.Int).Sub(gethtest.Ether(1_500), gotBob) // bob's fee's taint
			gotAliceFees.Sub(gotAliceFees, lost)
			if lost.Sign() < 0 || lost.Cmp(bobFee) > 0 || gotAliceFees.Cmp(aliceFees) != 0 {
				t.Errorf("bob holds %s (want 1.5 ETH less at most his fee %s), fees %s (want alice's %s plus what bob's fee took)",
					gotBob, bobFee, fees, aliceFees)
			}
			if policy == "fifo" && lost.Sign() != 0 {
				t.Errorf("FIFO: bob's fee took %s of his taint; his older clean ETH pays it", lost)
			}
			want := new(big.Int).Sub(seed, gethtest.Ether(1_500))
			want.Sub(want, aliceFees)
			if at[alice] == nil || at[alice].Cmp(want) != 0 {
				t.Errorf("alice keeps %v tainted, want %s", at[alice], want)
			}
		})
	}
}
