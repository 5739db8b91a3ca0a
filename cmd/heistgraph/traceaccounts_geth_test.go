package main

import (
	"math/big"
	"strings"
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
	data := ingestDev(t, node)

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

// TestTraceHeistGeth traces a heist staged on a real geth --dev chain with
// signed transactions (gethtest.RunHeist): 100 stolen ETH fanned out from
// the attacker to three hops, one paying 25 through the Forwarder contract
// to the labelled deposit exchange1, one paying 19 to exchange2 out of its
// own 20 and its own gas, one keeping 10; and 50,000 stolen tokens swapped
// through a constant-product pool that logs Uniswap v2's Swap event, the
// usd it paid deposited at exchange2. Seeded with both theft transactions,
// every conserving policy finds exactly those amounts per entity and asset
// (each address holds only stolen value, so the policies agree): the
// exchanges' deposits, the hops' and the attacker's rest, the stolen
// tokens as a swap sink at the pool and the usd they became at exchange2;
// native sinks + fees = 100 ETH, per asset seed + converted = sinks +
// fees. show tx lists the swap.
func TestTraceHeistGeth(t *testing.T) {
	t.Parallel()
	node := gethtest.Start(t, gethtest.Options{})
	h := gethtest.RunHeist(t, node)
	data := ingestDev(t, node)
	hex := func(name string) string { return heistgraph.EVMAddress(h.Accounts[name]).Hex() }
	labels := "chain,address,entity,category,source,confidence\n" +
		"dev," + hex("exchange1") + ",Exchange One,exchange,staged-heist,1\n" +
		"dev," + hex("exchange2") + ",Exchange Two,exchange,staged-heist,1\n"
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", writeFile(t, "heist.csv", []byte(labels)), "--format", "csv"), "labels import")

	fee := func(names ...string) *big.Int {
		sum := new(big.Int)
		for _, n := range names {
			r := h.Txs[n]
			sum.Add(sum, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
		}
		return sum
	}
	sub := func(a *big.Int, bs ...*big.Int) string {
		v := new(big.Int).Set(a)
		for _, b := range bs {
			v.Sub(v, b)
		}
		return v.String()
	}
	attackerFees := fee("fanout1", "fanout2", "fanout3", "approve", "swap", "deposit_usd")
	native, stolen, usd := "native", hex("stolen"), hex("usd")
	// kind address asset → amount, for every conserving policy.
	want := map[string]string{
		"entity " + hex("exchange1") + " " + native: gethtest.ForwardETH.String(),
		"entity " + hex("exchange2") + " " + native: gethtest.HopPaysETH.String(),
		"unspent " + hex("hop1") + " " + native:     sub(gethtest.Ether(30_000), gethtest.ForwardETH, fee("forward")),
		"unspent " + hex("hop2") + " " + native:     sub(gethtest.Ether(20_000), gethtest.HopPaysETH, fee("hop_pays")),
		"unspent " + hex("hop3") + " " + native:     gethtest.Ether(10_000).String(),
		"unspent " + hex("attacker") + " " + native: sub(gethtest.HeistETH, gethtest.Ether(60_000), attackerFees),
		"swap " + hex("pair") + " " + stolen:        gethtest.HeistTokens.String(),
		"entity " + hex("exchange2") + " " + usd:    h.SwapOut.String(),
	}
	wantFees := new(big.Int).Add(attackerFees, fee("forward", "hop_pays"))
	seeds := h.Txs["theft_eth"].TxHash.Hex() + "," + h.Txs["theft_token"].TxHash.Hex()
	for _, policy := range []string{"haircut", "fifo", "lifo", "tiho"} {
		t.Run(policy, func(t *testing.T) {
			r := cli(t, "--data", data, "--json", "trace", "--chain", "dev", "--seed", seeds, "--policy", policy)
			mustOK(t, r, "trace")
			res := decode[heistTraceJSON](t, r.stdout)
			got := map[string]*big.Int{}
			nativeSum, _ := new(big.Int).SetString(res.Fees, 10)
			for _, s := range res.Sinks {
				v, ok := new(big.Int).SetString(s.Amount, 10)
				if !ok || s.Chain != "dev" {
					t.Fatalf("sink %+v", s)
				}
				k := s.Kind + " " + s.Address + " " + s.Asset
				if got[k] == nil {
					got[k] = new(big.Int)
				}
				got[k].Add(got[k], v)
				if s.Asset == native {
					nativeSum.Add(nativeSum, v)
				}
			}
			for k, w := range want {
				if got[k] == nil || got[k].String() != w {
					t.Errorf("%s: %v, want %s", k, got[k], w)
				}
			}
			for k, v := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected sink %s: %s", k, v)
				}
			}
			if res.Fees != wantFees.String() {
				t.Errorf("fees %s, want %s", res.Fees, wantFees)
			}
			if !res.Conserved || nativeSum.Cmp(gethtest.HeistETH) != 0 {
				t.Errorf("native sinks + fees = %s, want the seed %s exactly (conserved %t)", nativeSum, gethtest.HeistETH, res.Conserved)
			}
			for _, a := range res.Assets {
				seed, _ := new(big.Int).SetString(a.Seed, 10)
				conv, _ := new(big.Int).SetString(a.Converted, 10)
				sinks, _ := new(big.Int).SetString(a.Sinks, 10)
				fees, _ := new(big.Int).SetString(a.Fees, 10)
				if seed.Add(seed, conv).Cmp(sinks.Add(sinks, fees)) != 0 {
					t.Errorf("asset %+v not balanced", a)
				}
			}
		})
	}

	// show tx lists the swap: the pair took the stolen tokens and paid usd.
	r := cli(t, "--data", data, "--json", "show", "tx", h.Txs["swap"].TxHash.Hex(), "--chain", "dev")
	mustOK(t, r, "show tx")
	v := decode[struct {
		Swaps []struct {
			Pool, Version, Exchange, Sender, Recipient string
			In, Out                                    struct{ Asset, Amount string }
		} `json:"swaps"`
	}](t, r.stdout)
	if len(v.Swaps) != 1 {
		t.Fatalf("show tx: swaps %+v, want one", v.Swaps)
	}
	sw := v.Swaps[0]
	if sw.Pool != hex("pair") || sw.Version != "v2" || sw.Sender != hex("router") || sw.Recipient != hex("attacker") ||
		sw.In.Asset != stolen || sw.In.Amount != gethtest.HeistTokens.String() || sw.Out.Asset != usd || sw.Out.Amount != h.SwapOut.String() {
		t.Errorf("show tx: swap %+v", sw)
	}
	r = cli(t, "--data", data, "show", "tx", h.Txs["swap"].TxHash.Hex(), "--chain", "dev")
	mustOK(t, r, "show tx")
	if !strings.Contains(r.stdout, "swaps:") || !strings.Contains(r.stdout, "pool "+hex("pair")+": 50000 HTT in, ") ||
		!strings.Contains(r.stdout, " HTT out to "+hex("attacker")) {
		t.Errorf("show tx text does not list the swap:\n%s", r.stdout)
	}
}

// heistTraceJSON is the part of an EVM trace's JSON TestTraceHeistGeth reads.
type heistTraceJSON struct {
	Conserved bool   `json:"conserved"`
	Fees      string `json:"fees"`
	Sinks     []struct {
		Kind, Address, Asset, Amount, Entity, Category, Chain string
	} `json:"sinks"`
	Assets []struct {
		Asset, Seed, Converted, Sinks, Fees string
	} `json:"assets"`
}

// ingestDev ingests node's chain through the CLI into a new data
// directory and returns it.
func ingestDev(t *testing.T, node *gethtest.Node) string {
	t.Helper()
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "evm", "--rpc", node.RPCURL, "--chain", "dev"), "ingest evm")
	return data
}
