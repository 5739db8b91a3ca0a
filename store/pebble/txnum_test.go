package pebble

import (
	"encoding/binary"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// checkTxNums checks the transaction numbers of chain in d: every tx
// record has a number below the counter that no other record has, the d
// table maps exactly the stored records' numbers to their txids, every
// number an event record or output key holds is stored, and every spend marker names a
// stored spender whose input spends the marker's outpoint, in the
// numbered form exactly when the input is resolved (spends.go).
func checkTxNums(t *testing.T, d *DB, chain heistgraph.Chain) {
	t.Helper()
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return
	}
	next, err := readCounter(d.db, metaTxNumKey(c), "transaction number counter")
	if err != nil {
		t.Fatal(err)
	}
	scan := func(prefix byte, fn func(k, v []byte)) { t.Helper(); scanTable(t, d, prefix, c, fn) }
	owner := map[uint64]heistgraph.Hash{}
	inputs := map[uint64][]inputRecord{}
	nout := map[uint64]uint32{}
	scan(prefixTx, func(k, v []byte) {
		txid := heistgraph.Hash(k)
		var rec txRecord
		if err := decodeTxRecord(v, txid, &rec, pointTxids(d.db, c), nil); err != nil {
			t.Fatalf("%s: tx %s: %v", chain, txid, err)
		}
		inputs[rec.Num], nout[rec.Num] = rec.Inputs, rec.NOut
		for i, in := range rec.Inputs {
			if in.Resolved && in.PrevNum == 0 {
				t.Fatalf("%s: tx %s: resolved input %d without its prevout's number", chain, txid, i)
			}
		}
		if rec.Num >= next {
			t.Fatalf("%s: tx %s has number %d, counter %d", chain, txid, rec.Num, next)
		}
		if other, ok := owner[rec.Num]; ok {
			t.Fatalf("%s: txs %s and %s share number %d", chain, other, txid, rec.Num)
		}
		owner[rec.Num] = txid
	})
	n := 0
	scan(prefixTxNum, func(k, v []byte) {
		n++
		num := uint64(0)
		for _, b := range k {
			num = num<<8 | uint64(b)
		}
		if txid, ok := owner[num]; !ok || txid != heistgraph.Hash(v) {
			t.Fatalf("%s: number %d names %x, the tx records give %s (%v)", chain, num, v, txid, ok)
		}
	})
	if n != len(owner) {
		t.Fatalf("%s: %d numbers for %d tx records", chain, n, len(owner))
	}
	scan(prefixEvent, func(k, v []byte) {
		pos, _ := decodeEventPos(k)
		e, err := decodeEventRecord(v, pos.Kind)
		if err != nil {
			t.Fatalf("%s: event %x: %v", chain, k, err)
		}
		_, own := owner[e.TxNum]
		_, out := owner[e.OutNum]
		if !own || pos.Kind == heistgraph.Spent && !out {
			t.Fatalf("%s: event %x names numbers %d and %d, not both stored", chain, k, e.TxNum, e.OutNum)
		}
	})
	scan(prefixOutput, func(k, _ []byte) {
		num, w := decodeOrdered(k)
		if n, ok := nout[num]; w <= 0 || !ok || len(k) != w+4 || binary.BigEndian.Uint32(k[w:]) >= n {
			t.Fatalf("%s: output key %x: no such output of a stored tx", chain, k)
		}
	})
	scan(prefixSpend, func(k, _ []byte) {
		var op heistgraph.Outpoint
		var sp spenderRef
		numbered := k[0] != spendPendingTag
		if numbered {
			num, vout, ref, ok := decodeNumberedSpend(k)
			txid, stored := owner[num]
			if !ok || !stored {
				t.Fatalf("%s: spend key %x: outpoint number %d stored %v (%v)", chain, k, num, stored, ok)
			}
			op, sp = heistgraph.Outpoint{TxID: txid, Vout: vout}, ref
		} else {
			ref, ok := decodeSpender(k[1+32+4:])
			if !ok {
				t.Fatalf("%s: spend key %x", chain, k)
			}
			op, sp = heistgraph.Outpoint{TxID: heistgraph.Hash(k[1:]), Vout: binary.BigEndian.Uint32(k[33:])}, ref
		}
		ins, ok := inputs[sp.Num]
		if !ok || int(sp.Vin) >= len(ins) || ins[sp.Vin].PrevOut != op || ins[sp.Vin].Resolved != numbered {
			t.Fatalf("%s: spend key %x: spender %d input %d of %d does not spend %s, or resolved is not %v", chain, k, sp.Num, sp.Vin, len(ins), op, numbered)
		}
	})
}
