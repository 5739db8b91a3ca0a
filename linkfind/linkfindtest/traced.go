package linkfindtest

import (
	"crypto/sha256"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/linkfind"
)

// Addresses of the traced world.
const (
	Victim  = "bcrt1qvictimvictimvictimvictimvictimvicti0"
	Thief   = "bcrt1qthiefthiefthiefthiefthiefthiefthief0"
	KX      = "bcrt1qkxdepositkxdepositkxdepositkxdepos0"
	Change2 = "bcrt1qchangechangechangechangechangechan0"
)

// KXLabel labels KX as an exchange's deposit address.
var KXLabel = heistgraph.Label{Chain: BTC, Address: KX, Entity: "Kestrel Exchange", Category: "exchange", Source: "test", Confidence: 1}

// RouterLabel labels the THORChain router of the traced world's Ethereum
// deposit as THORChain's (a trace stops there: an entity sink, category
// bridge).
var RouterLabel = heistgraph.Label{Chain: ETH, Address: strings.ToLower(linkfind.Routers[1].Address.Hex()), Entity: linkfind.Entity,
	Category: linkfind.Category, Source: "test", Confidence: 1}

// TracedWorld is a heist whose laundering crosses from Ethereum to Bitcoin
// through THORChain, with the value movements a trace follows on both
// chains, and a theft on Bitcoin too (an incident with theft transactions
// on both chains):
//
//   - Ethereum: Victim0 (a genesis balance of 100 ETH) loses 60 ETH to
//     Attacker (Stolen); Attacker deposits 10 ETH into THORChain's router
//     (Dep: the top-level value to the router, forwarded to the vault, and
//     the router's Deposit log with memo =:BTC.BTC:<Dest>).
//   - Bitcoin: the vault pays Dest 0.49 BTC with memo OUT:<Dep> (Ret,
//     block 1); Dest sells 0.4 BTC at KX and keeps 0.0899 (Sell, block 2).
//     Victim loses 10 BTC to Thief (BTheft, block 2), who cashes 9.9998 at
//     KX (Cash, block 3).
//
// links build finds the one link Dep → Ret:0 (exact).
type TracedWorld struct {
	BTC      []*heistgraph.Block
	ETH      []*heistgraph.AccountBlock
	Victim0  heistgraph.EVMAddress
	Attacker heistgraph.EVMAddress
	Stolen   heistgraph.EVMHash
	Dep      heistgraph.EVMHash
	Ret      heistgraph.Tx
	Sell     heistgraph.Tx
	BTheft   heistgraph.Tx
	Cash     heistgraph.Tx
}

// NewTracedWorld builds the world.
func NewTracedWorld() *TracedWorld {
	w := &TracedWorld{Victim0: addr("0x00000000000000000000000000000000000000a1"), Attacker: addr("0x00000000000000000000000000000000000000a2")}
	ethVault := addr("0x2222222222222222222222222222222222222222")
	router := linkfind.Routers[1].Address
	w.Stolen = heistgraph.EVMHash(sha256.Sum256([]byte("traced/stolen")))
	w.Dep = heistgraph.EVMHash(sha256.Sum256([]byte("traced/deposit")))
	eth := func(s string) uint256.Int {
		var v uint256.Int
		if err := v.SetFromDecimal(s); err != nil {
			panic(err)
		}
		return v
	}
	hundred, sixty, ten := eth("100000000000000000000"), eth("60000000000000000000"), eth("10000000000000000000")
	e0 := ethBlock(0, heistgraph.EVMHash{}, heistgraph.EVMHash{})
	e0.Transfers = []heistgraph.Transfer{{Kind: heistgraph.TransferGenesis, TxIndex: -1, To: w.Victim0, Amount: hundred, LogIndex: -1}}
	e1 := ethBlock(1, e0.Hash, heistgraph.EVMHash{})
	e1.Txs = []heistgraph.AccountTx{{Hash: w.Stolen, Status: 1, From: w.Victim0, To: w.Attacker, Value: sixty, GasUsed: 21000}}
	e1.Transfers = []heistgraph.Transfer{{Kind: heistgraph.TransferNative, TxHash: w.Stolen, From: w.Victim0, To: w.Attacker, Amount: sixty, LogIndex: -1}}
	e2 := ethBlock(2, e1.Hash, w.Dep, deposit(w.Dep, ethVault, &ten, "=:BTC.BTC:"+Dest))
	e2.Txs[0].From, e2.Txs[0].Value, e2.Txs[0].GasUsed = w.Attacker, ten, 60000
	e2.Transfers = []heistgraph.Transfer{
		{Kind: heistgraph.TransferNative, TxHash: w.Dep, From: w.Attacker, To: router, Amount: ten, LogIndex: -1},
		{Kind: heistgraph.TransferInternal, TxHash: w.Dep, From: router, To: ethVault, Amount: ten, LogIndex: -1, TracePath: "0"},
	}
	w.ETH = []*heistgraph.AccountBlock{e0, e1, e2}

	cb0 := tx("traced/cb0", nil, pay(Vault, 500_000_000))
	b0 := block(0, heistgraph.Hash{}, cb0)
	cbv := tx("traced/cbv", nil, pay(Victim, 1_000_000_000))
	w.Ret = tx("traced/ret", []heistgraph.Outpoint{{TxID: cb0.TxID}}, pay(Dest, 49_000_000), nulldata("OUT:"+strings.ToUpper(w.Dep.String()[2:])),
		pay(Vault, 450_990_000))
	b1 := block(1, b0.Hash, cbv, w.Ret)
	w.BTheft = tx("traced/theft", []heistgraph.Outpoint{{TxID: cbv.TxID}}, pay(Thief, 999_990_000))
	w.Sell = tx("traced/sell", []heistgraph.Outpoint{{TxID: w.Ret.TxID}}, pay(KX, 40_000_000), pay(Change2, 8_990_000))
	b2 := block(2, b1.Hash, tx("traced/cb2", nil, pay(User, 2)), w.BTheft, w.Sell)
	w.Cash = tx("traced/cash", []heistgraph.Outpoint{{TxID: w.BTheft.TxID}}, pay(KX, 999_980_000))
	b3 := block(3, b2.Hash, tx("traced/cb3", nil, pay(User, 3)), w.Cash)
	w.BTC = []*heistgraph.Block{b0, b1, b2, b3}
	return w
}
