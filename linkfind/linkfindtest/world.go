// Package linkfindtest builds a small world of THORChain swaps between a
// Bitcoin and an Ethereum chain on hand-built blocks, for tests of link
// discovery and of what shows links.
package linkfindtest

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/linkfind"
)

// The chains, addresses and the vault's label of the world.
const (
	BTC   = heistgraph.ChainBTCRegtest
	ETH   = heistgraph.Chain("eth")
	Vault = "bcrt1qvaultvaultvaultvaultvaultvaultvault0"
	User  = "bcrt1quseruseruseruseruseruseruseruser00"
	Dest  = "bcrt1qdestdestdestdestdestdestdestdest000"
	// ETHDest is the EVM destination of methods.md §6.7 example 1.
	ETHDest = "0x1111111111111111111111111111111111111111"
)

// VaultLabel labels Vault as THORChain's.
var VaultLabel = heistgraph.Label{Chain: BTC, Address: Vault, Entity: linkfind.Entity, Category: linkfind.Category, Source: "test", Confidence: 1}

func hash(s string) heistgraph.Hash { return sha256.Sum256([]byte(s)) }

func nulldata(memo string) heistgraph.TxOut {
	return heistgraph.TxOut{Script: append([]byte{0x6a, byte(len(memo))}, memo...), Type: heistgraph.ScriptNullData}
}

func pay(addr string, v int64) heistgraph.TxOut {
	return heistgraph.TxOut{Value: v, Script: []byte(addr), Type: heistgraph.ScriptWitnessV0KeyHash, Address: addr}
}

func tx(label string, ins []heistgraph.Outpoint, outs ...heistgraph.TxOut) heistgraph.Tx {
	t := heistgraph.Tx{TxID: hash("tx/" + label), Version: 2, Outputs: outs, Size: 200, Weight: 800}
	t.WTxID = t.TxID
	if len(ins) == 0 {
		t.Inputs = []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}}
	}
	for _, op := range ins {
		t.Inputs = append(t.Inputs, heistgraph.TxIn{PrevOut: op, Sequence: 0xffffffff})
	}
	return t
}

func block(h int64, prev heistgraph.Hash, txs ...heistgraph.Tx) *heistgraph.Block {
	return &heistgraph.Block{Chain: BTC, Height: h, Hash: hash("block/" + string(rune('a'+h))), PrevHash: prev,
		Time: 1_700_000_000 + 600*h, Version: 0x20000000, Bits: 0x207fffff, Size: 81, Txs: txs}
}

func word(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }

func abiString(s string) []byte {
	n := binary.BigEndian.AppendUint64(nil, uint64(len(s)))
	return append(word(n), append([]byte(s), make([]byte, (32-len(s)%32)%32)...)...)
}

func topicAddr(a heistgraph.EVMAddress) heistgraph.EVMHash {
	var h heistgraph.EVMHash
	copy(h[12:], a[:])
	return h
}

func addr(s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// transferOut is the router's TransferOut(vault, to, asset, amount, memo).
func transferOut(txh heistgraph.EVMHash, vault, to heistgraph.EVMAddress, amount *uint256.Int, memo string) heistgraph.EventLog {
	a := amount.Bytes32()
	data := append(append(append(word(nil), a[:]...), word([]byte{0x60})...), abiString(memo)...)
	return heistgraph.EventLog{TxHash: txh, LogIndex: 3, Address: linkfind.Routers[1].Address,
		Topics: []heistgraph.EVMHash{evm.TopicTHORTransferOut, topicAddr(vault), topicAddr(to)}, Data: data}
}

// deposit is the router's Deposit(to=vault, asset, amount, memo).
func deposit(txh heistgraph.EVMHash, vault heistgraph.EVMAddress, amount *uint256.Int, memo string) heistgraph.EventLog {
	a := amount.Bytes32()
	data := append(append(a[:], word([]byte{0x40})...), abiString(memo)...)
	return heistgraph.EventLog{TxHash: txh, LogIndex: 1, Address: linkfind.Routers[1].Address,
		Topics: []heistgraph.EVMHash{evm.TopicTHORDeposit, topicAddr(vault), {}}, Data: data}
}

func ethBlock(h int64, parent heistgraph.EVMHash, txh heistgraph.EVMHash, logs ...heistgraph.EventLog) *heistgraph.AccountBlock {
	b := &heistgraph.AccountBlock{Chain: ETH, Height: h, Hash: heistgraph.EVMHash(sha256.Sum256([]byte{byte(h)})), ParentHash: parent,
		Time: 1_700_000_000 + 12*h, InternalKnown: true, Logs: logs}
	if len(logs) > 0 {
		b.Txs = []heistgraph.AccountTx{{Hash: txh, Status: 1, To: linkfind.Routers[1].Address}}
	}
	return b
}

// World is methods.md §6.7 example 1 (BTC→ETH) and its mirror (ETH→BTC)
// on hand-built blocks of both chains: Bitcoin In pays the vault 1 BTC with
// memo =:ETH.ETH:0x1111…1111:1500000000 and Ethereum Out is the router's
// TransferOut of 15.21 ETH with OUT:<In>; Ethereum Dep deposits 10 ETH with
// =:BTC.BTC:<Dest> and Bitcoin Ret pays Dest 0.49 BTC with OUT:<Dep>; Bad
// pays the vault with the malformed memo "SWAP:". Vault is labelled
// THORChain (VaultLabel).
type World struct {
	BTC []*heistgraph.Block
	ETH []*heistgraph.AccountBlock
	In  heistgraph.Tx      // the Bitcoin inbound of example 1
	Out heistgraph.EVMHash // its Ethereum outbound
	Dep heistgraph.EVMHash // the Ethereum inbound of the mirror
	Ret heistgraph.Tx      // its Bitcoin outbound
	Bad heistgraph.Tx      // a payment to the vault with a malformed memo
}

// NewWorld builds the world.
func NewWorld() *World {
	w := &World{}
	cb0 := tx("cb0", nil, pay(User, 300_000_000))
	w.In = tx("in", []heistgraph.Outpoint{{TxID: cb0.TxID}}, pay(Vault, 100_000_000), nulldata("=:ETH.ETH:"+ETHDest+":1500000000"), pay(User, 199_990_000))
	w.Bad = tx("bad", []heistgraph.Outpoint{{TxID: w.In.TxID, Vout: 2}}, pay(Vault, 50_000_000), nulldata("SWAP:"))
	b0 := block(0, heistgraph.Hash{}, cb0)
	b1 := block(1, b0.Hash, tx("cb1", nil, pay(Vault, 500_000_000)), w.In, w.Bad)
	w.Dep = heistgraph.EVMHash(sha256.Sum256([]byte("deposit")))
	w.Ret = tx("ret", []heistgraph.Outpoint{{TxID: b1.Txs[0].TxID}}, pay(Dest, 49_000_000), nulldata("OUT:"+strings.ToUpper(w.Dep.String()[2:])), pay(Vault, 450_990_000))
	b2 := block(2, b1.Hash, tx("cb2", nil, pay(User, 1)), w.Ret)
	w.BTC = []*heistgraph.Block{b0, b1, b2}

	w.Out = heistgraph.EVMHash(sha256.Sum256([]byte("outbound")))
	ethVault := addr("0x2222222222222222222222222222222222222222")
	e0 := ethBlock(0, heistgraph.EVMHash{}, heistgraph.EVMHash{})
	var ten, out uint256.Int
	ten.SetFromDecimal("10000000000000000000")
	out.SetFromDecimal("15210000000000000000")
	e1 := ethBlock(1, e0.Hash, w.Dep, deposit(w.Dep, ethVault, &ten, "=:BTC.BTC:"+Dest))
	e2 := ethBlock(2, e1.Hash, w.Out, transferOut(w.Out, ethVault, addr(ETHDest), &out, "OUT:"+w.In.TxID.String()))
	w.ETH = []*heistgraph.AccountBlock{e0, e1, e2}
	return w
}
