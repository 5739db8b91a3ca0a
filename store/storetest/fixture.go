package storetest

import (
	"crypto/sha256"

	"github.com/heistgraph/heistgraph"
)

// Hand-built blocks for the conformance tests. Hashes are SHA-256 of a
// label; stores do not check them.

func fakeHash(label string) heistgraph.Hash { return sha256.Sum256([]byte(label)) }

// pay returns a P2PKH-like output paying v to addr.
func pay(addr string, v int64) heistgraph.TxOut { return payTo(addr, v) }

func nullData(label string) heistgraph.TxOut {
	h := fakeHash(label)
	return heistgraph.TxOut{Script: append([]byte{0x6a, 0x04}, h[:4]...), Type: heistgraph.ScriptNullData}
}

func bareMultisig(v int64, keys ...string) heistgraph.TxOut {
	script := []byte{0x51}
	for _, k := range keys {
		h := fakeHash(k)
		script = append(append(script, 0x21, 0x02), h[:]...)
	}
	script = append(script, 0x50+byte(len(keys)), 0xae)
	return heistgraph.TxOut{Value: v, Script: script, Type: heistgraph.ScriptMultisig, Keys: keys}
}

func coinbase(label string, outs ...heistgraph.TxOut) heistgraph.Tx {
	tx := heistgraph.Tx{
		TxID:    fakeHash("tx/" + label),
		Version: 1,
		Inputs: []heistgraph.TxIn{{
			PrevOut:  heistgraph.Outpoint{Vout: 0xffffffff},
			Sequence: 0xffffffff, Coinbase: true,
		}},
		Outputs: outs,
		Size:    100 + 34*len(outs),
	}
	tx.WTxID = tx.TxID
	tx.Weight = 4 * tx.Size
	return tx
}

func spend(label string, ins []heistgraph.Outpoint, outs ...heistgraph.TxOut) heistgraph.Tx {
	tx := heistgraph.Tx{TxID: fakeHash("tx/" + label), Version: 2, Outputs: outs}
	tx.WTxID = tx.TxID
	for i, op := range ins {
		seq := uint32(0xffffffff)
		if i == 1 {
			seq = 0xfffffffd
		}
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: op, Sequence: seq})
	}
	tx.Size = 10 + 148*len(ins) + 34*len(outs)
	tx.Weight = 4 * tx.Size
	return tx
}

func ins(ops ...heistgraph.Outpoint) []heistgraph.Outpoint { return ops }

func out(tx heistgraph.Tx, n uint32) heistgraph.Outpoint {
	return heistgraph.Outpoint{TxID: tx.TxID, Vout: n}
}

func mkBlock(chain heistgraph.Chain, height int64, label string, prev heistgraph.Hash, txs ...heistgraph.Tx) *heistgraph.Block {
	b := &heistgraph.Block{
		Chain:      chain,
		Hash:       fakeHash("block/" + string(chain) + "/" + label),
		PrevHash:   prev,
		MerkleRoot: fakeHash("merkle/" + label),
		Height:     height,
		Time:       1_700_000_000 + 600*height,
		Version:    0x20000000,
		Bits:       0x207fffff,
		Nonce:      uint32(height*7 + 1),
		Size:       81,
		Txs:        txs,
	}
	for _, tx := range txs {
		b.Size += tx.Size
	}
	return b
}

// world is the basic fixture: three connected blocks (heights 0-2) with
// resolved spends, a spend within a block, an input whose output is not
// stored, a nulldata and a bare multisig output, a segwit-like wtxid, and
// addresses that receive and spend in the same tx.
//
//	h0  cb0: coinbase -> A 5000
//	h1  cb1: coinbase -> B 5000
//	    t1:  cb0:0 (A 5000) -> C 3000, A 1990                     fee 10
//	h2  cb2: coinbase -> M 5125, multisig(K1, K2) 0
//	    t2:  t1:0 (C 3000) -> D 2500, C 490                       fee 10
//	    t3:  t2:0 (D 2500, same block) -> E 2400                  fee 100
//	    t4:  missing:0 (not stored) -> F 700                      fee unknown
//	    t5:  t1:1 (A 1990), cb1:0 (B 5000) -> nulldata, G 6980    fee 10
type world struct {
	chain                             heistgraph.Chain
	blocks                            []*heistgraph.Block
	cb0, cb1, t1, cb2, t2, t3, t4, t5 heistgraph.Tx
	missing                           heistgraph.Outpoint
}

// Addresses of the world.
const (
	addrA = "1AaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA"
	addrB = "1BbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbB"
	addrC = "bc1qcccccccccccccccccccccccccccccccccccccc"
	addrD = "1DdddddddddddddddddddddddddddddddD"
	addrE = "1EeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeE"
	addrF = "1FfffffffffffffffffffffffffffffffF"
	addrG = "1GggggggggggggggggggggggggggggggggG"
	addrM = "1MmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmM"
)

func newWorld(chain heistgraph.Chain) *world {
	w := &world{chain: chain, missing: heistgraph.Outpoint{TxID: fakeHash("missing parent"), Vout: 0}}
	p := string(chain) + "/"
	w.cb0 = coinbase(p+"cb0", pay(addrA, 5000))
	w.cb1 = coinbase(p+"cb1", pay(addrB, 5000))
	w.t1 = spend(p+"t1", ins(out(w.cb0, 0)), pay(addrC, 3000), pay(addrA, 1990))
	w.cb2 = coinbase(p+"cb2", pay(addrM, 5125), bareMultisig(0, "1K1kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkK", "1K2kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkK"))
	w.t2 = spend(p+"t2", ins(out(w.t1, 0)), pay(addrD, 2500), pay(addrC, 490))
	w.t3 = spend(p+"t3", ins(out(w.t2, 0)), pay(addrE, 2400))
	w.t4 = spend(p+"t4", ins(w.missing), pay(addrF, 700))
	w.t5 = spend(p+"t5", ins(out(w.t1, 1), out(w.cb1, 0)), nullData(p+"t5"), pay(addrG, 6980))
	w.t5.WTxID = fakeHash("wtx/" + p + "t5")
	w.t5.Weight -= 400
	w.t5.LockTime = 1
	b0 := mkBlock(chain, 0, "0", heistgraph.Hash{}, w.cb0)
	b1 := mkBlock(chain, 1, "1", b0.Hash, w.cb1, w.t1)
	b2 := mkBlock(chain, 2, "2", b1.Hash, w.cb2, w.t2, w.t3, w.t4, w.t5)
	w.blocks = []*heistgraph.Block{b0, b1, b2}
	return w
}

// branch returns blocks on top of the world's block 2 (heights 3, 4, ...),
// labelled label so that two branches differ. The first block spends C's
// change (t2:1) and G's output, the second spends E's, paying A, C and new
// addresses, so that rewinding a branch must unspend outputs and restore
// totals of addresses the world already has.
func (w *world) branch(label string, n int) []*heistgraph.Block {
	p := string(w.chain) + "/" + label + "/"
	prev := w.blocks[2].Hash
	var out []*heistgraph.Block
	var last heistgraph.Tx
	for i := 0; i < n; i++ {
		h := int64(3 + i)
		cb := coinbase(p+"cb"+string(rune('0'+i)), pay("1Miner"+label+"xxxxxxxxxxxxxxxxxxxxxxxxxxx", 5000))
		txs := []heistgraph.Tx{cb}
		switch i {
		case 0:
			last = spend(p+"s0", ins(heistgraph.Outpoint{TxID: w.t2.TxID, Vout: 1}, heistgraph.Outpoint{TxID: w.t5.TxID, Vout: 1}),
				pay(addrA, 4000), pay("1New"+label+"xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 3400))
			txs = append(txs, last)
		case 1:
			t := spend(p+"s1", ins(heistgraph.Outpoint{TxID: w.t3.TxID, Vout: 0}, heistgraph.Outpoint{TxID: last.TxID, Vout: 0}), pay(addrC, 6300))
			txs = append(txs, t)
			last = t
		default:
			t := spend(p+"s"+string(rune('0'+i)), ins(heistgraph.Outpoint{TxID: last.TxID, Vout: 0}), pay(addrC, 6300-int64(i)*10))
			txs = append(txs, t)
			last = t
		}
		b := mkBlock(w.chain, h, label+string(rune('0'+i)), prev, txs...)
		prev = b.Hash
		out = append(out, b)
	}
	return out
}
