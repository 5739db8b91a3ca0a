package pebble

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
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
		num, w := binary.Uvarint(v)
		if w != len(v) || num == 0 {
			t.Fatalf("%s: tx %s: index entry %x", chain, txid, v)
		}
		if num >= next {
			t.Fatalf("%s: tx %s has number %d, counter %d", chain, txid, num, next)
		}
		if other, ok := owner[num]; ok {
			t.Fatalf("%s: txs %s and %s share number %d", chain, other, txid, num)
		}
		owner[num] = txid
	})
	n := 0
	scan(prefixTxNum, func(k, v []byte) {
		n++
		num := binary.BigEndian.Uint64(k)
		if txid, ok := owner[num]; len(k) != 8 || !ok || txid != heistgraph.Hash(v) {
			t.Fatalf("%s: number %x names %x, the index gives %s (%v)", chain, k, v, txid, ok)
		}
	})
	if n != len(owner) {
		t.Fatalf("%s: %d numbers for %d index entries", chain, n, len(owner))
	}
	n = 0
	scan(prefixTxRec, func(k, v []byte) {
		n++
		num := binary.BigEndian.Uint64(k)
		txid, ok := owner[num]
		if len(k) != 8 || !ok {
			t.Fatalf("%s: tx record %x: number not in the index", chain, k)
		}
		var rec txRecord
		if err := decodeTxRecord(v, num, txid, &rec, pointTxids(d.db, c), nil); err != nil {
			t.Fatalf("%s: tx %s: %v", chain, txid, err)
		}
		inputs[rec.Num], nout[rec.Num] = rec.Inputs, rec.NOut
		for i, in := range rec.Inputs {
			if in.Resolved && in.PrevNum == 0 {
				t.Fatalf("%s: tx %s: resolved input %d without its prevout's number", chain, txid, i)
			}
		}
	})
	if n != len(owner) {
		t.Fatalf("%s: %d tx records for %d index entries", chain, n, len(owner))
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

// TestTxIndex: the t table is an index, txid -> number, and a tx's record
// is under its number. A txid stored again (a coinbase mined again as at
// BIP30, a stale block's tx mined again) keeps its number: its index entry
// stays, its record is overwritten in place, the undo record keeps both,
// and a rewind of the block puts back exactly what was there (by blocks
// and by the bulk path). A txid not stored is not found; an index entry
// whose record is missing is corruption.
func TestTxIndex(t *testing.T) {
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	defer func(m int) { bulkMin = m }(bulkMin)
	bulkMin = 0
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprint("bulk ", bulk), func(t *testing.T) {
			db := openMem(t, DefaultMemTableSize)
			db.opts.BulkLoad = bulk
			g := storetest.NewGenerator(chain, 7, 8)
			var blocks []*heistgraph.Block
			for range 6 {
				blocks = append(blocks, g.Next())
			}
			if _, err := db.ApplyBlocks(ctx, blocks); err != nil {
				t.Fatal(err)
			}
			c, _, err := db.code(chain)
			if err != nil {
				t.Fatal(err)
			}
			entry := func(txid heistgraph.Hash) (uint64, []byte) {
				t.Helper()
				num, found, err := storedTxNum(db.db, c, txid)
				if err != nil || !found {
					t.Fatalf("tx %s: found %v, %v", txid, found, err)
				}
				v, found, err := lookup(db.db, appendTxRecKey(nil, c, num), nil)
				if err != nil || !found {
					t.Fatalf("tx %s: record of number %d: found %v, %v", txid, num, found, err)
				}
				return num, v
			}
			cb, dup := blocks[1].Txs[0], blocks[2].Txs[len(blocks[2].Txs)-1]
			if dup.Inputs[0].Coinbase {
				t.Fatal("the generator's last tx of a block is a coinbase")
			}
			cbNum, cbBefore := entry(cb.TxID)
			dupNum, dupBefore := entry(dup.TxID)
			next, err := readCounter(db.db, metaTxNumKey(c), "transaction number counter")
			if err != nil {
				t.Fatal(err)
			}
			digest, err := db.Digest(ctx, chain)
			if err != nil {
				t.Fatal(err)
			}

			again := &heistgraph.Block{
				Chain: chain, Hash: sha256.Sum256([]byte("again")), Height: 100,
				Time: blocks[5].Time + 1, Size: 1000, Txs: []heistgraph.Tx{cb, dup},
			}
			if _, err := db.ApplyBlocks(ctx, []*heistgraph.Block{again}); err != nil {
				t.Fatal(err)
			}
			checkTxNums(t, db, chain)
			if n, err := readCounter(db.db, metaTxNumKey(c), "transaction number counter"); err != nil || n != next {
				t.Errorf("counter %d (%v) after storing two txids again, want %d", n, err, next)
			}
			for _, tc := range []struct {
				tx     heistgraph.Tx
				num    uint64
				before []byte
			}{{cb, cbNum, cbBefore}, {dup, dupNum, dupBefore}} {
				num, v := entry(tc.tx.TxID)
				if num != tc.num || bytes.Equal(v, tc.before) {
					t.Errorf("tx %s stored again: number %d (was %d), record unchanged %v", tc.tx.TxID, num, tc.num, bytes.Equal(v, tc.before))
				}
				tr, err := db.Tx(ctx, chain, tc.tx.TxID)
				if err != nil || tr.Block.Height != again.Height {
					t.Errorf("tx %s: block %+v (%v), want height %d", tc.tx.TxID, tr.Block, err, again.Height)
				}
			}
			// BlockTxs finds the numbers of a block's txs in order, by the
			// index where they are not consecutive.
			blockTxs := func(height int64) []heistgraph.TxRecord {
				t.Helper()
				var trs []heistgraph.TxRecord
				for tr, err := range db.BlockTxs(ctx, chain, height) {
					if err != nil {
						t.Fatalf("block %d: %v", height, err)
					}
					trs = append(trs, tr)
				}
				return trs
			}
			if trs := blockTxs(again.Height); len(trs) != 2 || trs[0].Tx.TxID != cb.TxID || trs[1].Tx.TxID != dup.TxID || trs[1].Block.Height != again.Height {
				t.Errorf("transactions of the block storing two txids again: %+v", trs)
			}
			uv, found, err := lookup(db.db, appendUndoKey(nil, c, again.Height), nil)
			if err != nil || !found {
				t.Fatalf("undo record: found %v, %v", found, err)
			}
			undo, err := decodeUndoRecord(uv)
			if err != nil {
				t.Fatal(err)
			}
			kept := map[string][]byte{}
			for _, e := range undo {
				kept[string(e.Key)] = e.Prev
			}
			for key, want := range map[string][]byte{
				string(appendTxKey(nil, c, cb.TxID)):   appendUvarint(nil, cbNum),
				string(appendTxNumKey(nil, c, cbNum)):  cb.TxID[:],
				string(appendTxRecKey(nil, c, cbNum)):  cbBefore,
				string(appendTxKey(nil, c, dup.TxID)):  appendUvarint(nil, dupNum),
				string(appendTxNumKey(nil, c, dupNum)): dup.TxID[:],
				string(appendTxRecKey(nil, c, dupNum)): dupBefore,
			} {
				if got, ok := kept[key]; !ok || !bytes.Equal(got, want) {
					t.Errorf("undo record: key %x keeps %x (%v), want %x", key, got, ok, want)
				}
			}

			if err := db.RewindTo(ctx, chain, blocks[5].Height); err != nil {
				t.Fatal(err)
			}
			checkTxNums(t, db, chain)
			if _, v := entry(cb.TxID); !bytes.Equal(v, cbBefore) {
				t.Errorf("coinbase after the rewind: %x, want %x", v, cbBefore)
			}
			if _, v := entry(dup.TxID); !bytes.Equal(v, dupBefore) {
				t.Errorf("tx after the rewind: %x, want %x", v, dupBefore)
			}
			if got, err := db.Digest(ctx, chain); err != nil || got != digest {
				t.Errorf("digest after the rewind %s (%v), want %s", got, err, digest)
			}
			if trs := blockTxs(blocks[2].Height); len(trs) != len(blocks[2].Txs) || trs[len(trs)-1].Tx.TxID != dup.TxID || trs[len(trs)-1].Block.Height != blocks[2].Height {
				t.Errorf("transactions of block %d after the rewind: %d, the last %s at %d", blocks[2].Height, len(trs), trs[len(trs)-1].Tx.TxID, trs[len(trs)-1].Block.Height)
			}

			if err := db.RewindTo(ctx, chain, blocks[1].Height); err != nil {
				t.Fatal(err)
			}
			checkTxNums(t, db, chain)
			if _, found, err := storedTxNum(db.db, c, dup.TxID); found || err != nil {
				t.Errorf("tx of a rewound block: found %v, %v", found, err)
			}
			for _, key := range [][]byte{appendTxNumKey(nil, c, dupNum), appendTxRecKey(nil, c, dupNum)} {
				if _, found, err := lookup(db.db, key, nil); found || err != nil {
					t.Errorf("%x of a rewound tx: found %v, %v", key, found, err)
				}
			}
			if _, err := db.Tx(ctx, chain, dup.TxID); !errors.Is(err, heistgraph.ErrNotFound) {
				t.Errorf("tx of a rewound block: %v, want ErrNotFound", err)
			}
			missing := heistgraph.Hash(sha256.Sum256([]byte("missing")))
			if _, err := db.Tx(ctx, chain, missing); !errors.Is(err, heistgraph.ErrNotFound) {
				t.Errorf("a txid never stored: %v, want ErrNotFound", err)
			}

			// An index entry whose number has no record.
			if err := db.db.Set(appendTxKey(nil, c, missing), appendUvarint(nil, dupNum), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Tx(ctx, chain, missing); !errors.Is(err, errCorrupt) {
				t.Errorf("an index entry naming a number without a record: %v, want errCorrupt", err)
			}
		})
	}
}
