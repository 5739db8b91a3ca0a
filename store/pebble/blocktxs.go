package pebble

import (
	"context"
	"fmt"
	"iter"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.BlockTxs = (*DB)(nil)

// BlockTxs implements store.BlockTxs: one snapshot and one iterator for
// the whole block, no spend scans, and no output lookups for inputs
// resolved when the block was applied.
func (d *DB) BlockTxs(ctx context.Context, chain heistgraph.Chain, height int64) iter.Seq2[heistgraph.TxRecord, error] {
	return func(yield func(heistgraph.TxRecord, error) bool) {
		fail := func(err error) {
			yield(heistgraph.TxRecord{}, fmt.Errorf("transactions of block %d on %s: %w", height, chain, err))
		}
		c, err := d.readCode(chain, fmt.Sprintf("transactions of block %d", height))
		if err != nil {
			yield(heistgraph.TxRecord{}, err)
			return
		}
		if height < 0 {
			fail(heistgraph.ErrNotFound)
			return
		}
		snap := d.db.NewSnapshot()
		defer snap.Close()
		hr, found, err := heightAt(snap, c, height)
		if err != nil {
			fail(err)
			return
		}
		if !found {
			fail(heistgraph.ErrNotFound)
			return
		}
		bi, err := blockByHash(snap, chain, c, hr.Hash)
		if err != nil {
			yield(heistgraph.TxRecord{}, err)
			return
		}
		it, err := snap.NewIter(nil)
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		nums, err := newNumReader(snap, c)
		if err != nil {
			fail(err)
			return
		}
		defer nums.Close()
		recs, err := newBlockRecs(snap, c)
		if err != nil {
			fail(err)
			return
		}
		defer recs.Close()
		addrs := d.addrIter(snap, c)
		defer addrs.Close()
		var rec txRecord
		for i, txid := range bi.TxIDs {
			if i&63 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			num, v, found, err := recs.record(txid)
			if err == nil && !found {
				err = errCorrupt
			}
			if err != nil {
				fail(fmt.Errorf("tx %s: %w", txid, err))
				return
			}
			if err := decodeTxRecord(v, num, txid, &rec, nums.txid, addrs); err != nil {
				fail(fmt.Errorf("tx %s: %w", txid, err))
				return
			}
			tr := newBlockTxRecord(chain, txid, &rec, heistgraph.BlockRef{Hash: hr.Hash, Height: height, Time: hr.Time})
			if err := scanOutputs(it, c, rec.Num, func(vout uint32, v []byte) error {
				if vout >= rec.NOut {
					return fmt.Errorf("output %d of %d: %w", vout, rec.NOut, errCorrupt)
				}
				out, _, err := decodeOutputRecord(v, addrs)
				tr.Tx.Outputs[vout] = out
				return err
			}); err != nil {
				fail(fmt.Errorf("tx %s: %w", txid, err))
				return
			}
			if err := resolveBlockTxInputs(snap, c, addrs, &tr, &rec, nil); err != nil {
				fail(fmt.Errorf("tx %s: %w", txid, err))
				return
			}
			if !yield(tr, nil) {
				return
			}
		}
	}
}
