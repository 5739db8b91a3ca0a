package gethtest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// Scenario is what RunScenario did: the transactions by name and the
// addresses it made.
type Scenario struct {
	// Txs names each transaction: "plain", "forward", "inner_revert",
	// "delegatecall", "create_value", "internal_create", "selfdestruct",
	// "create_destroy", "token_transfer", "token_failed", "token_burn",
	// "failed_plain".
	Txs map[string]*types.Receipt
	// Accounts are the EOAs and contracts it made, by name: alice, bob,
	// carol, dave, erin, forwarder, reverter, paylib, child, token.
	Accounts map[string]common.Address
}

// Ether is n/1000 ether in wei.
func Ether(milli int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(milli), big.NewInt(1_000_000_000_000_000))
}

// RunScenario sends the scenario's transactions, each in its own block
// (--dev.period 0), so that the node's chain holds every trap of the ledger:
// plain transfers between externally owned accounts (signed here, so the
// fee payer is not the fee recipient), value forwarded by an internal CALL,
// a call whose inner frame reverts (its value stays with the caller), a
// DELEGATECALL whose inner CALL moves the value once, a contract creation
// with value (top level and by CREATE), a SELFDESTRUCT (and a contract
// created and destroyed in one transaction), an ERC-20 token with
// transfers, a failed transfer and a burn, and a failed plain payment. A
// transaction that does not end as the scenario means fails tb.
func RunScenario(tb testing.TB, n *Node) Scenario {
	tb.Helper()
	cs, err := Contracts()
	if err != nil {
		tb.Fatal(err)
	}
	s := Scenario{Txs: map[string]*types.Receipt{}, Accounts: map[string]common.Address{}}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		s.Accounts[name] = AddressOf(NewKey(name))
	}
	want := func(name string, r *types.Receipt, status uint64) {
		tb.Helper()
		if r.Status != status {
			tb.Fatalf("gethtest scenario: %s (tx %s) ended with status %d, want %d", name, r.TxHash, r.Status, status)
		}
		s.Txs[name] = r
	}
	to := func(name string) *common.Address { a := s.Accounts[name]; return &a }
	alice, bob := NewKey("alice"), NewKey("bob")

	n.Send(tb, Tx{To: to("alice"), Value: Ether(10_000)})
	n.Send(tb, Tx{To: to("bob"), Value: Ether(1_000)})
	want("plain", n.SendSigned(tb, alice, Tx{To: to("bob"), Value: Ether(1_000)}), 1)

	s.Accounts["forwarder"] = n.Deploy(tb, cs["Forwarder"], nil)
	s.Accounts["reverter"] = n.Deploy(tb, cs["Reverter"], nil)
	s.Accounts["paylib"] = n.Deploy(tb, cs["PayLib"], nil)
	fw := cs["Forwarder"]
	want("forward", n.SendSigned(tb, alice, Tx{To: to("forwarder"), Value: Ether(500), Data: Pack(tb, fw, "forward", s.Accounts["bob"])}), 1)
	want("inner_revert", n.Send(tb, Tx{To: to("forwarder"), Value: Ether(300), Data: Pack(tb, fw, "tryForward", s.Accounts["reverter"])}), 1)
	want("delegatecall", n.Send(tb, Tx{To: to("forwarder"), Value: Ether(200), Data: Pack(tb, fw, "viaDelegate", s.Accounts["paylib"], s.Accounts["carol"])}), 1)

	r := n.Send(tb, Tx{Value: Ether(700), Data: cs["Child"].Bytecode})
	want("create_value", r, 1)
	s.Accounts["child"] = r.ContractAddress
	want("internal_create", n.Send(tb, Tx{To: to("forwarder"), Value: Ether(400), Data: Pack(tb, fw, "create")}), 1)
	want("selfdestruct", n.Send(tb, Tx{To: to("child"), Data: Pack(tb, cs["Child"], "destroy", s.Accounts["dave"])}), 1)
	want("create_destroy", n.Send(tb, Tx{To: to("forwarder"), Value: Ether(250), Data: Pack(tb, fw, "createAndDestroy", s.Accounts["erin"])}), 1)

	tok := cs["Token"]
	s.Accounts["token"] = n.Deploy(tb, tok, nil, big.NewInt(1_000_000_000_000))
	n.Send(tb, Tx{To: to("token"), Data: Pack(tb, tok, "transfer", s.Accounts["alice"], big.NewInt(5_000_000))})
	want("token_transfer", n.SendSigned(tb, alice, Tx{To: to("token"), Data: Pack(tb, tok, "transfer", s.Accounts["bob"], big.NewInt(1_250_000))}), 1)
	want("token_failed", n.SendSigned(tb, alice, Tx{To: to("token"), Data: Pack(tb, tok, "transfer", s.Accounts["bob"], big.NewInt(9_000_000))}), 0)
	want("token_burn", n.SendSigned(tb, bob, Tx{To: to("token"), Data: Pack(tb, tok, "burn", big.NewInt(250_000))}), 1)
	want("failed_plain", n.Send(tb, Tx{To: to("reverter"), Value: Ether(100)}), 0)
	return s
}

// StateAccounts returns every account of the node's state at block
// (debug_accountRange; the node keeps preimages, see Start).
func (n *Node) StateAccounts(tb testing.TB, block int64) []common.Address {
	tb.Helper()
	var out []common.Address
	start := hexutil.Bytes{}
	for {
		var dump struct {
			Accounts map[string]struct {
				Address *common.Address `json:"address"`
			} `json:"accounts"`
			Next hexutil.Bytes `json:"next"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := n.rpc.CallContext(ctx, &dump, "debug_accountRange", hexutil.Uint64(block), start, 256, true, true, true)
		cancel()
		if err != nil {
			tb.Fatalf("gethtest: debug_accountRange: %v", err)
		}
		for key, a := range dump.Accounts {
			if a.Address == nil {
				tb.Fatalf("gethtest: debug_accountRange: account %s without its address (no preimage)", key)
			}
			out = append(out, *a.Address)
		}
		if len(dump.Next) == 0 {
			return out
		}
		start = dump.Next
	}
}
