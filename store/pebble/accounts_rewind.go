package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// undoAccountTip is RewindTo's step for an account chain: it removes the
// tip block of chain code c when it is above height.
func (d *DB) undoAccountTip(ctx context.Context, c chainCode, height int64) (bool, error) {
	tip, found, err := acctTipOf(d.db, c)
	if err != nil || !found || tip.Height <= height {
		return false, err
	}
	if err := d.undoAccountBlock(ctx, c, tip); err != nil {
		return false, fmt.Errorf("block %d %s: %w", tip.Height, tip.Hash, err)
	}
	return true, nil
}

// undoAccountBlock removes the tip block of account chain c in one batch:
// its records, its ledger and the history keys it names, and its deltas
// from the balances and summaries it touched.
func (d *DB) undoAccountBlock(ctx context.Context, c chainCode, tip heistgraph.AccountBlockRef) error {
	b := d.db.NewIndexedBatch()
	defer b.Close()
	h := tip.Height
	bkey := appendAcctBlockKey(nil, c, tip.Hash)
	bv, found, err := lookup(b, bkey, nil)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("block record missing: %w", errCorrupt)
	}
	bi, err := decodeAcctBlockRecord(bv)
	if err != nil {
		return err
	}

	lo := appendLedgerKey(nil, c, h, 0)
	hi := appendLedgerKey(nil, c, h+1, 0)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	e := newAcctEffects()
	var t heistgraph.Transfer
	var key []byte
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
		}
		if err := decodeTransferRecord(it.Value(), &t); err != nil {
			it.Close()
			return err
		}
		k := it.Key()
		seq := int32(binary.BigEndian.Uint32(k[len(k)-4:]))
		fromFlags, toFlags := e.add(&t)
		if toFlags != 0 {
			key = appendAcctEventKey(key[:0], c, t.To, h, seq)
			if err := b.Delete(key, nil); err != nil {
				it.Close()
				return err
			}
		}
		if fromFlags != 0 {
			key = appendAcctEventKey(key[:0], c, t.From, h, seq)
			if err := b.Delete(key, nil); err != nil {
				it.Close()
				return err
			}
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			it.Close()
			return err
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	if n != bi.Transfers {
		return fmt.Errorf("ledger holds %d transfers, the block record says %d: %w", n, bi.Transfers, errCorrupt)
	}
	if err := undoLogs(d.db, b, c, h); err != nil {
		return err
	}
	for _, txh := range bi.TxHashes {
		if err := b.Delete(appendAcctTxKey(key[:0], c, txh), nil); err != nil {
			return err
		}
	}
	if err := writeBalances(b, b, c, e, -1); err != nil {
		return err
	}
	if err := undoSummaries(b, c, e, h); err != nil {
		return err
	}
	if err := addCount(b, b, c, -1); err != nil {
		return err
	}
	if err := b.Delete(appendAcctHeightKey(nil, c, h), nil); err != nil {
		return err
	}
	if err := b.Delete(bkey, nil); err != nil {
		return err
	}
	if err := d.unlinkHeight(b, c, h); err != nil {
		return err
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	defer d.refs.removing()()
	return d.commit(b)
}

// undoSummaries subtracts the effects of the tip block at height h from
// the summaries in b (whose history keys of the block are deleted
// already), deleting the summaries of addresses left without transfers and
// recomputing first and last seen where they were at h.
func undoSummaries(b *pebbledb.Batch, c chainCode, e *acctEffects, h int64) error {
	var key []byte
	for _, a := range e.addrs {
		dl := e.sum[a]
		key = appendSummaryKey(key[:0], c, a)
		v, found, err := lookup(b, key, nil)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("address %s: summary missing: %w", a, errCorrupt)
		}
		rec, err := decodeSummaryRecord(v)
		if err != nil {
			return fmt.Errorf("address %s: %w", a, err)
		}
		rec.TxCount -= dl.txs
		rec.Transfers -= dl.transfers
		if rec.Transfers <= 0 {
			if err := b.Delete(key, nil); err != nil {
				return err
			}
			continue
		}
		if rec.FirstHeight == h || rec.LastHeight == h {
			if err := acctFirstLast(b, c, a, &rec); err != nil {
				return fmt.Errorf("address %s: %w", a, err)
			}
		}
		if err := b.Set(key, appendSummaryRecord(nil, &rec), nil); err != nil {
			return err
		}
	}
	return nil
}

// acctFirstLast sets rec's first and last seen from a's remaining history
// in r.
func acctFirstLast(r pebbledb.Reader, c chainCode, a heistgraph.EVMAddress, rec *summaryRecord) error {
	lo := appendAcctEventPrefix(nil, c, a)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	var first, last int64
	ok := it.First()
	if ok {
		first = eventHeight(it.Key())
		it.Last()
		last = eventHeight(it.Key())
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("summary without history: %w", errCorrupt)
	}
	fh, _, err := acctHeightAt(r, c, first)
	if err != nil {
		return err
	}
	lh, _, err := acctHeightAt(r, c, last)
	if err != nil {
		return err
	}
	rec.FirstHeight, rec.FirstTime = first, fh.Time
	rec.LastHeight, rec.LastTime = last, lh.Time
	return nil
}

// eventHeight reads the height of an account event key (-1 for a key of
// another length).
func eventHeight(k []byte) int64 {
	if len(k) != acctEventKeyLen {
		return -1
	}
	return int64(binary.BigEndian.Uint64(k[acctEventKeyLen-12:]))
}
