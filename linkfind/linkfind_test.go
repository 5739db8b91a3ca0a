package linkfind_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/linkfind"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

const (
	btc   = heistgraph.ChainBTCRegtest
	eth   = heistgraph.Chain("eth")
	vault = "bcrt1qvaultvaultvaultvaultvaultvaultvault0"
	user  = "bcrt1quseruseruseruseruseruseruseruser00"
	dest  = "bcrt1qdestdestdestdestdestdestdestdest000"
	// The EVM destination of methods.md §6.7 example 1.
	ethDest = "0x1111111111111111111111111111111111111111"
)

func openMem(t *testing.T) *pebble.DB {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 4 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.PutLabels(context.Background(), []heistgraph.Label{{Chain: btc, Address: vault, Entity: linkfind.Entity, Category: linkfind.Category, Source: "test", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	return db
}

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
	return &heistgraph.Block{Chain: btc, Height: h, Hash: hash("block/" + string(rune('a'+h))), PrevHash: prev,
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

func addr(t *testing.T, s string) heistgraph.EVMAddress {
	a, err := heistgraph.ParseEVMAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// transferOut is the router's TransferOut(vault, to, asset, amount, memo).
func transferOut(t *testing.T, txh heistgraph.EVMHash, vault, to heistgraph.EVMAddress, amount *uint256.Int, memo string) heistgraph.EventLog {
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
	b := &heistgraph.AccountBlock{Chain: eth, Height: h, Hash: heistgraph.EVMHash(sha256.Sum256([]byte{byte(h)})), ParentHash: parent,
		Time: 1_700_000_000 + 12*h, InternalKnown: true, Logs: logs}
	if len(logs) > 0 {
		b.Txs = []heistgraph.AccountTx{{Hash: txh, Status: 1, To: linkfind.Routers[1].Address}}
	}
	return b
}

// world is methods.md §6.7 example 1 (BTC→ETH) and its mirror (ETH→BTC)
// on hand-built blocks of both chains.
type world struct {
	btc []*heistgraph.Block
	eth []*heistgraph.AccountBlock
	in  heistgraph.Tx      // the Bitcoin inbound of example 1
	out heistgraph.EVMHash // its Ethereum outbound
	dep heistgraph.EVMHash // the Ethereum inbound of the mirror
	ret heistgraph.Tx      // its Bitcoin outbound
	bad heistgraph.Tx      // a payment to the vault with a malformed memo
}

func newWorld(t *testing.T) *world {
	w := &world{}
	cb0 := tx("cb0", nil, pay(user, 300_000_000))
	w.in = tx("in", []heistgraph.Outpoint{{TxID: cb0.TxID}}, pay(vault, 100_000_000), nulldata("=:ETH.ETH:"+ethDest+":1500000000"), pay(user, 199_990_000))
	w.bad = tx("bad", []heistgraph.Outpoint{{TxID: w.in.TxID, Vout: 2}}, pay(vault, 50_000_000), nulldata("SWAP:"))
	b0 := block(0, heistgraph.Hash{}, cb0)
	b1 := block(1, b0.Hash, tx("cb1", nil, pay(vault, 500_000_000)), w.in, w.bad)
	w.dep = heistgraph.EVMHash(sha256.Sum256([]byte("deposit")))
	w.ret = tx("ret", []heistgraph.Outpoint{{TxID: b1.Txs[0].TxID}}, pay(dest, 49_000_000), nulldata("OUT:"+strings.ToUpper(w.dep.String()[2:])), pay(vault, 450_990_000))
	b2 := block(2, b1.Hash, tx("cb2", nil, pay(user, 1)), w.ret)
	w.btc = []*heistgraph.Block{b0, b1, b2}

	w.out = heistgraph.EVMHash(sha256.Sum256([]byte("outbound")))
	ethVault := addr(t, "0x2222222222222222222222222222222222222222")
	e0 := ethBlock(0, heistgraph.EVMHash{}, heistgraph.EVMHash{})
	var ten, out uint256.Int
	ten.SetFromDecimal("10000000000000000000")
	out.SetFromDecimal("15210000000000000000")
	e1 := ethBlock(1, e0.Hash, w.dep, deposit(w.dep, ethVault, &ten, "=:BTC.BTC:"+dest))
	e2 := ethBlock(2, e1.Hash, w.out, transferOut(t, w.out, ethVault, addr(t, ethDest), &out, "OUT:"+w.in.TxID.String()))
	w.eth = []*heistgraph.AccountBlock{e0, e1, e2}
	return w
}

func (w *world) applyBTC(t *testing.T, st store.Store) {
	for _, b := range w.btc {
		if err := st.ApplyBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) applyETH(t *testing.T, st store.Store) {
	for _, b := range w.eth {
		if err := st.ApplyAccountBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, st *pebble.DB) linkfind.Report {
	t.Helper()
	rep, err := linkfind.Run(context.Background(), st, []heistgraph.Chain{btc, eth})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func links(t *testing.T, st *pebble.DB, c heistgraph.Chain, txid string) []store.StoredLink {
	t.Helper()
	ls, err := st.LinksOfTx(context.Background(), c, txid)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// check asserts the two links of the world and example 1's taint.
func (w *world) check(t *testing.T, st *pebble.DB) {
	t.Helper()
	ls := links(t, st, btc, w.in.TxID.String())
	if len(ls) != 1 {
		t.Fatalf("links of the Bitcoin inbound: %+v, want one", ls)
	}
	l := ls[0]
	if l.Method != "thorchain" || l.Confidence != heistgraph.ConfidenceExact || l.Src.Index != 0 || l.Src.Amount.Uint64() != 100_000_000 ||
		l.Dst.Chain != eth || l.Dst.TxID != w.out.String() || l.Dst.Index != 3 || l.Dst.Asset != "native" || l.SrcHeight != 1 || l.DstHeight != 2 {
		t.Errorf("BTC→ETH link %+v", l)
	}
	tainted, err := l.Convert(uint256.NewInt(60_000_000))
	if err != nil || tainted.Dec() != "9126000000000000000" {
		t.Errorf("0.6 BTC tainted converts to %s wei (%v), want 9.126 ETH", tainted.Dec(), err)
	}
	if got := links(t, st, eth, strings.ToUpper(w.out.String())); len(got) != 1 || got[0].Src.TxID != l.Src.TxID {
		t.Errorf("links of the Ethereum outbound: %+v", got)
	}
	ls = links(t, st, eth, w.dep.String())
	if len(ls) != 1 || ls[0].Dst.Chain != btc || ls[0].Dst.TxID != w.ret.TxID.String() || ls[0].Dst.Index != 0 ||
		ls[0].Dst.Amount.Uint64() != 49_000_000 || ls[0].Src.Amount.Dec() != "10000000000000000000" || ls[0].SrcHeight != 1 || ls[0].DstHeight != 2 {
		t.Errorf("ETH→BTC links %+v", ls)
	}
}

func TestExample1BothOrders(t *testing.T) {
	for _, btcFirst := range []bool{true, false} {
		st := openMem(t)
		w := newWorld(t)
		first, second := w.applyBTC, w.applyETH
		if !btcFirst {
			first, second = second, first
		}
		first(t, st)
		if rep := run(t, st); rep.Links != 0 {
			t.Fatalf("btc first %v: %d links with one chain stored", btcFirst, rep.Links)
		}
		second(t, st)
		rep := run(t, st)
		if rep.Links != 2 || rep.Inbounds != 3 || rep.Outbounds != 2 {
			t.Errorf("btc first %v: report %+v, want 2 links of 3 inbounds and 2 outbounds", btcFirst, rep)
		}
		if len(rep.Malformed) != 1 || rep.Malformed[0].TxID != w.bad.TxID.String() || rep.Malformed[0].Memo != "SWAP:" {
			t.Errorf("btc first %v: malformed %+v, want the SWAP: payment", btcFirst, rep.Malformed)
		}
		w.check(t, st)
		if rep2 := run(t, st); rep2.Links != 2 {
			t.Errorf("second pass: %+v", rep2)
		}
		w.check(t, st)
	}
}

func TestRewindRemovesLinks(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	w := newWorld(t)
	w.applyBTC(t, st)
	w.applyETH(t, st)
	run(t, st)
	// Rewinding Ethereum below the outbound removes example 1's link; the
	// ETH→BTC link's source is at height 1 and stays.
	if err := st.RewindTo(ctx, eth, 1); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, btc, w.in.TxID.String()); len(ls) != 0 {
		t.Errorf("links of the inbound after its outbound's block was rewound: %+v", ls)
	}
	if ls := links(t, st, eth, w.dep.String()); len(ls) != 1 {
		t.Errorf("links of the deposit after rewinding above it: %+v", ls)
	}
	// Rewinding Bitcoin below the refund's block removes the other.
	if err := st.RewindTo(ctx, btc, 1); err != nil {
		t.Fatal(err)
	}
	if ls := links(t, st, eth, w.dep.String()); len(ls) != 0 {
		t.Errorf("links of the deposit after its outbound's block was rewound: %+v", ls)
	}
	if err := st.ApplyBlock(ctx, w.btc[2]); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyAccountBlock(ctx, w.eth[2]); err != nil {
		t.Fatal(err)
	}
	run(t, st)
	w.check(t, st)
}
