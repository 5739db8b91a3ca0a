package gethtest

import (
	_ "embed"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
)

// unwrapJSON is testdata/unwrap.json: testdata/unwrap.sol (WETH,
// UnwrapRouter) compiled by testdata/compile.mjs.
//
//go:embed testdata/unwrap.json
var unwrapJSON []byte

// UnwrapContracts returns the compiled unwrap contracts by name (WETH,
// UnwrapRouter).
func UnwrapContracts() (map[string]Contract, error) { return parseContracts("unwrap.json", unwrapJSON) }

// Unwrap is what RunUnwrap staged: its transactions and addresses by name,
// and the ETH the router paid for the stolen tokens. Txs names each
// transaction: "theft" (the stolen tokens, from the dev account to the
// attacker), "approve", "cashout" (the swap to ETH), "deposit" (half the
// ETH to the exchange). Accounts: attacker, cashout, exchange (EOAs),
// stolen (the token), weth, pair, router.
type Unwrap struct {
	Staged
	// ETHOut is the ETH the router paid cashout; Deposited what cashout
	// paid the exchange (half of it).
	ETHOut, Deposited *big.Int
}

// Unwrap amounts: the stolen tokens (base units of a 6-decimal token) and
// the pool's reserves.
var (
	UnwrapTokens = big.NewInt(40_000_000_000)  // 40,000 stolen tokens
	unwrapPoolT  = big.NewInt(400_000_000_000) // 400,000
	unwrapPoolW  = Ether(200_000)              // 200 WETH
)

// RunUnwrap stages, each transaction in its own block, a stolen token
// swapped to ETH in one transaction as Uniswap v2's swapExactTokensForETH
// does: the dev account loses 40,000 tokens to the attacker, who approves
// the router and calls it; the router pays the tokens into a token/WETH
// pool (heist.sol's Pair, logging Uniswap v2's Swap), takes the pool's WETH,
// unwraps it (WETH pays the router the ETH, then logs Withdrawal) and pays
// the ETH to the fresh account cashout, which deposits half of it at the
// exchange, paying its own gas. The attacker's gas is the dev account's
// clean ETH. The caller names weth as the chain's WETH contract when it
// ingests (evm.Params.WETH).
func RunUnwrap(tb testing.TB, n *Node) Unwrap {
	tb.Helper()
	cs, err := Contracts()
	if err != nil {
		tb.Fatal(err)
	}
	hs, err := HeistContracts()
	if err != nil {
		tb.Fatal(err)
	}
	us, err := UnwrapContracts()
	if err != nil {
		tb.Fatal(err)
	}
	u := Unwrap{Staged: newStaged("unwrap", "attacker", "cashout", "exchange")}
	to := u.to
	ok := func(name string, r *types.Receipt) { tb.Helper(); u.ok(tb, name, r) }
	tok, weth := cs["Token"], us["WETH"]
	u.Accounts["stolen"] = n.Deploy(tb, tok, nil, heistSupply)
	u.Accounts["weth"] = n.Deploy(tb, weth, nil)
	u.Accounts["pair"] = n.Deploy(tb, hs["Pair"], nil, u.Accounts["stolen"], u.Accounts["weth"])
	u.Accounts["router"] = n.Deploy(tb, us["UnwrapRouter"], nil)
	ok("fund pool tokens", n.Send(tb, Tx{To: to("stolen"), Data: Pack(tb, tok, "transfer", u.Accounts["pair"], unwrapPoolT)}))
	ok("wrap pool ether", n.Send(tb, Tx{To: to("weth"), Value: unwrapPoolW, Data: Pack(tb, weth, "deposit")}))
	ok("fund pool ether", n.Send(tb, Tx{To: to("weth"), Data: Pack(tb, weth, "transfer", u.Accounts["pair"], unwrapPoolW)}))
	ok("sync", n.Send(tb, Tx{To: to("pair"), Data: Pack(tb, hs["Pair"], "sync")}))
	ok("gas", n.Send(tb, Tx{To: to("attacker"), Value: Ether(1_000)}))
	for _, name := range []string{"fund pool tokens", "wrap pool ether", "fund pool ether", "sync", "gas"} {
		delete(u.Txs, name)
	}

	ok("theft", n.Send(tb, Tx{To: to("stolen"), Data: Pack(tb, tok, "transfer", u.Accounts["attacker"], UnwrapTokens)}))
	attacker := NewKey("unwrap attacker")
	ok("approve", n.SendSigned(tb, attacker, Tx{To: to("stolen"), Data: Pack(tb, tok, "approve", u.Accounts["router"], UnwrapTokens)}))
	before := n.Balance(tb, u.Accounts["cashout"], nil)
	ok("cashout", n.SendSigned(tb, attacker, Tx{To: to("router"), Data: Pack(tb, us["UnwrapRouter"], "swapExactTokensForETH",
		u.Accounts["pair"], u.Accounts["stolen"], u.Accounts["weth"], UnwrapTokens, u.Accounts["cashout"])}))
	u.ETHOut = new(big.Int).Sub(n.Balance(tb, u.Accounts["cashout"], nil), before)
	if u.ETHOut.Sign() <= 0 || before.Sign() != 0 {
		tb.Fatalf("gethtest unwrap: cashout held %s before and got %s", before, u.ETHOut)
	}
	u.Deposited = new(big.Int).Div(u.ETHOut, big.NewInt(2))
	ok("deposit", n.SendSigned(tb, NewKey("unwrap cashout"), Tx{To: to("exchange"), Value: u.Deposited}))
	return u
}
