package gethtest

import (
	_ "embed"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
)

// heistJSON is testdata/heist.json: testdata/heist.sol (Pair, Router)
// compiled by testdata/compile.mjs.
//
//go:embed testdata/heist.json
var heistJSON []byte

// HeistContracts returns the compiled heist contracts by name (Pair,
// Router).
func HeistContracts() (map[string]Contract, error) { return parseContracts("heist.json", heistJSON) }

// Heist is what RunHeist staged: its transactions and addresses by name,
// and what the pool paid for the stolen tokens. Txs names each
// transaction: "theft_eth", "theft_token" (the thefts, from the dev
// account), "fanout1", "fanout2", "fanout3", "forward", "hop_pays",
// "approve", "swap", "deposit_usd". Accounts: attacker, hop1, hop2, hop3,
// exchange1, exchange2 (EOAs), forwarder, stolen (the stolen token), usd
// (the pool's other token), pair, router.
type Heist struct {
	Staged
	// SwapOut is the usd the pair paid the attacker for the stolen tokens.
	SwapOut *big.Int
}

// Heist amounts: the stolen ETH and tokens (base units of a 6-decimal
// token), and the pool's reserves.
var (
	HeistETH     = Ether(100_000)
	HeistTokens  = big.NewInt(50_000_000_000)  // 50,000 stolen tokens
	PoolStolen   = big.NewInt(100_000_000_000) // 100,000
	PoolUSD      = big.NewInt(200_000_000_000) // 200,000
	heistSupply  = big.NewInt(1_000_000_000_000)
	fanoutMilli  = []int64{30_000, 20_000, 10_000}
	ForwardETH   = Ether(25_000)
	HopPaysETH   = Ether(19_000)
	heistSigners = []string{"attacker", "hop1", "hop2", "hop3"}
)

// RunHeist stages a heist on n with signed transactions, each in its own
// block: the dev account loses 100 ETH and 50,000 tokens to the attacker,
// who fans the ETH out to three fresh hops (30, 20, 10); hop1 pays 25
// through the Forwarder contract (an internal CALL) to the exchange
// deposit exchange1, hop2 pays 19 to exchange2 out of its own 20 and its
// own gas; hop3 keeps its 10. The attacker approves the router and swaps
// the stolen tokens for usd through a constant-product pool that logs
// Uniswap v2's Swap event, then deposits all the usd at exchange2. The
// attacker pays the gas of its five transactions from the stolen ETH.
func RunHeist(tb testing.TB, n *Node) Heist {
	tb.Helper()
	cs, err := Contracts()
	if err != nil {
		tb.Fatal(err)
	}
	hs, err := HeistContracts()
	if err != nil {
		tb.Fatal(err)
	}
	h := Heist{Staged: newStaged("heist", append(heistSigners, "exchange1", "exchange2")...)}
	to := h.to
	ok := func(name string, r *types.Receipt) { tb.Helper(); h.ok(tb, name, r) }
	tok := cs["Token"]
	h.Accounts["stolen"] = n.Deploy(tb, tok, nil, heistSupply)
	h.Accounts["usd"] = n.Deploy(tb, tok, nil, heistSupply)
	h.Accounts["pair"] = n.Deploy(tb, hs["Pair"], nil, h.Accounts["stolen"], h.Accounts["usd"])
	h.Accounts["router"] = n.Deploy(tb, hs["Router"], nil)
	h.Accounts["forwarder"] = n.Deploy(tb, cs["Forwarder"], nil)
	n.Send(tb, Tx{To: to("stolen"), Data: Pack(tb, tok, "transfer", h.Accounts["pair"], PoolStolen)})
	n.Send(tb, Tx{To: to("usd"), Data: Pack(tb, tok, "transfer", h.Accounts["pair"], PoolUSD)})
	ok("sync", n.Send(tb, Tx{To: to("pair"), Data: Pack(tb, hs["Pair"], "sync")}))
	delete(h.Txs, "sync")

	ok("theft_eth", n.Send(tb, Tx{To: to("attacker"), Value: HeistETH}))
	ok("theft_token", n.Send(tb, Tx{To: to("stolen"), Data: Pack(tb, tok, "transfer", h.Accounts["attacker"], HeistTokens)}))

	attacker := NewKey("heist attacker")
	for i, m := range fanoutMilli {
		hop := heistSigners[i+1]
		ok(fmt.Sprintf("fanout%d", i+1), n.SendSigned(tb, attacker, Tx{To: to(hop), Value: Ether(m)}))
	}
	ok("forward", n.SendSigned(tb, NewKey("heist hop1"), Tx{To: to("forwarder"), Value: ForwardETH,
		Data: Pack(tb, cs["Forwarder"], "forward", h.Accounts["exchange1"])}))
	ok("hop_pays", n.SendSigned(tb, NewKey("heist hop2"), Tx{To: to("exchange2"), Value: HopPaysETH}))
	ok("approve", n.SendSigned(tb, attacker, Tx{To: to("stolen"), Data: Pack(tb, tok, "approve", h.Accounts["router"], HeistTokens)}))
	ok("swap", n.SendSigned(tb, attacker, Tx{To: to("router"),
		Data: Pack(tb, hs["Router"], "swapExactIn", h.Accounts["pair"], h.Accounts["stolen"], HeistTokens, h.Accounts["attacker"])}))
	h.SwapOut = n.TokenBalance(tb, h.Accounts["usd"], h.Accounts["attacker"], nil)
	if h.SwapOut.Sign() <= 0 {
		tb.Fatal("gethtest heist: the swap paid nothing")
	}
	ok("deposit_usd", n.SendSigned(tb, attacker, Tx{To: to("usd"), Data: Pack(tb, tok, "transfer", h.Accounts["exchange2"], h.SwapOut)}))
	return h
}
