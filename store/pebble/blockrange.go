package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.BlockRangeTxs = (*DB)(nil)
	_ store.BlockRangeIDs = (*DB)(nil)
)

// rangeSpanTxs is about how many transactions BlockRangeTxs reads under
// one snapshot: enough that their keys fall close together in the tables,
// few enough that a span's records stay small in memory.
const rangeSpanTxs = 8192

// BlockRangeTxs implements store.BlockRangeTxs. It reads the blocks in
// spans of about rangeSpanTxs transactions, one snapshot a span, in block
// order: the transactions' numbers (blockRecs: consecutive numbers from
// the d table, the index only where they are not), records and outputs
// each read with one forward iterator seeking in key order (neighbouring
// seeks reuse the data blocks already loaded).
func (d *DB) BlockRangeTxs(ctx context.Context, chain heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return d.blockRange(ctx, chain, from, to, false)
}

// BlockRangeIDs implements store.BlockRangeIDs: BlockRangeTxs without
// reading the address table.
func (d *DB) BlockRangeIDs(ctx context.Context, chain heistgraph.Chain, from, to int64) iter.Seq2[store.BlockRecords, error] {
	return d.blockRange(ctx, chain, from, to, true)
}

// AddressesByID implements store.BlockRangeIDs.
func (d *DB) AddressesByID(ctx context.Context, chain heistgraph.Chain, ids []uint64, dst []string) ([]string, error) {
	c, err := d.readCode(chain, "addresses by id")
	if err != nil {
		return dst, err
	}
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	addrs := d.addrIter(snap, c)
	defer addrs.Close()
	for _, id := range ids {
		a := ""
		if id != 0 {
			a, err = addrs.addr(id)
		}
		if errors.Is(err, errCorrupt) {
			return dst, fmt.Errorf("address id %d on %s: %w", id, chain, heistgraph.ErrNotFound)
		}
		if err != nil || a == "" {
			return dst, fmt.Errorf("address id %d on %s: %w", id, chain, cmp.Or(err, heistgraph.ErrNotFound))
		}
		dst = append(dst, a)
	}
	return dst, nil
}

// blockRange is BlockRangeTxs, or with ids BlockRangeIDs.
func (d *DB) blockRange(ctx context.Context, chain heistgraph.Chain, from, to int64, ids bool) iter.Seq2[store.BlockRecords, error] {
	return func(yield func(store.BlockRecords, error) bool) {
		c, err := d.readCode(chain, fmt.Sprintf("transactions of blocks %d to %d", from, to))
		if err != nil {
			yield(store.BlockRecords{}, err)
			return
		}
		for h := max(from, 0); h <= to; {
			if err := ctx.Err(); err != nil {
				yield(store.BlockRecords{}, fmt.Errorf("transactions of blocks %d to %d on %s: %w", h, to, chain, err))
				return
			}
			blocks, next, err := d.readSpan(chain, c, h, to, ids)
			if err != nil {
				yield(store.BlockRecords{}, err)
				return
			}
			for _, b := range blocks {
				if !yield(b, nil) {
					return
				}
			}
			h = next
		}
	}
}

// spanRef places one transaction of a span: block b, position i.
type spanRef struct {
	txid heistgraph.Hash
	b, i int
}

// readSpan reads the blocks from height h up to to, stopping after the
// block that brings the span to rangeSpanTxs transactions, and returns
// them with the next height to read. With ids the records are
// BlockRangeIDs's.
func (d *DB) readSpan(chain heistgraph.Chain, c chainCode, h, to int64, ids bool) ([]store.BlockRecords, int64, error) {
	snap := d.db.NewSnapshot()
	defer snap.Close()
	var blocks []store.BlockRecords
	var refs []spanRef
	var times []int64
	for ; h <= to && len(refs) < rangeSpanTxs; h++ {
		hr, found, err := heightAt(snap, c, h)
		if err != nil {
			return nil, 0, fmt.Errorf("transactions of block %d on %s: %w", h, chain, err)
		}
		if !found {
			continue
		}
		bi, err := blockByHash(snap, chain, c, hr.Hash)
		if err != nil {
			return nil, 0, err
		}
		for i, txid := range bi.TxIDs {
			refs = append(refs, spanRef{txid: txid, b: len(blocks), i: i})
		}
		blocks = append(blocks, store.BlockRecords{Block: bi, Txs: make([]heistgraph.TxRecord, len(bi.TxIDs))})
		times = append(times, hr.Time)
	}
	// In block order: the records (and outputs) by number, in order
	// (blockRecs).
	outLo, outHi := tableBounds(prefixOutput, c)
	outIt, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: outLo, UpperBound: outHi})
	if err != nil {
		return nil, 0, err
	}
	defer outIt.Close()
	nums, err := newNumReader(snap, c)
	if err != nil {
		return nil, 0, err
	}
	defer nums.Close()
	recs, err := newBlockRecs(snap, c)
	if err != nil {
		return nil, 0, err
	}
	defer recs.Close()
	addrs := d.addrIter(snap, c)
	defer addrs.Close()
	var key []byte
	var rec txRecord
	// With ids, txIDs[k] are the address ids of refs[k]'s transaction.
	var txIDs [][]uint64
	var arena []uint64
	recAddrs := addrs
	if ids {
		txIDs = make([][]uint64, len(refs))
		recAddrs = nil
	}
	for k, r := range refs {
		b := &blocks[r.b]
		bref := heistgraph.BlockRef{Hash: b.Block.Hash, Height: b.Block.Height, Time: times[r.b]}
		fail := func(err error) error {
			return fmt.Errorf("transactions of block %d on %s: tx %s: %w", bref.Height, chain, r.txid, err)
		}
		num, v, found, err := recs.record(r.txid)
		if err == nil && !found {
			err = errCorrupt
		}
		if err != nil {
			return nil, 0, fail(err)
		}
		if err := decodeTxRecord(v, num, r.txid, &rec, nums.txid, recAddrs); err != nil {
			return nil, 0, fail(err)
		}
		tr := newBlockTxRecord(chain, r.txid, &rec, bref)
		var addrIDs []uint64
		if ids {
			n := len(rec.Inputs) + int(rec.NOut)
			if len(arena) < n {
				arena = make([]uint64, max(n, 1<<14))
			}
			addrIDs, arena = arena[:n:n], arena[n:]
			txIDs[k] = addrIDs
		}
		key = appendOutputsKey(key[:0], c, rec.Num)
		for ok := outIt.SeekGE(key); ok && bytes.HasPrefix(outIt.Key(), key); ok = outIt.Next() {
			k := outIt.Key()
			if len(k) != len(key)+4 {
				return nil, 0, fail(fmt.Errorf("outpoint key: %w", errCorrupt))
			}
			vout := binary.BigEndian.Uint32(k[len(key):])
			if vout >= rec.NOut {
				return nil, 0, fail(fmt.Errorf("output %d of %d: %w", vout, rec.NOut, errCorrupt))
			}
			out, _, id, err := decodeOutput(outIt.Value(), recAddrs)
			if err != nil {
				return nil, 0, fail(err)
			}
			tr.Tx.Outputs[vout] = out
			if ids {
				addrIDs[len(rec.Inputs)+int(vout)] = id
			}
		}
		if err := outIt.Error(); err != nil {
			return nil, 0, fail(err)
		}
		if err := resolveBlockTxInputs(snap, c, recAddrs, &tr, &rec, addrIDs); err != nil {
			return nil, 0, fail(err)
		}
		b.Txs[r.i] = tr
	}
	if ids {
		gatherAddrIDs(blocks, refs, txIDs)
	}
	return blocks, h, nil
}

// gatherAddrIDs sets each block's AddrIDs from txIDs, the ids of refs'
// transactions, in block order.
func gatherAddrIDs(blocks []store.BlockRecords, refs []spanRef, txIDs [][]uint64) {
	perTx := make([][][]uint64, len(blocks))
	sizes := make([]int, len(blocks))
	for b := range blocks {
		perTx[b] = make([][]uint64, len(blocks[b].Txs))
	}
	for k, r := range refs {
		perTx[r.b][r.i] = txIDs[k]
		sizes[r.b] += len(txIDs[k])
	}
	for b := range blocks {
		ids := make([]uint64, 0, sizes[b])
		for _, t := range perTx[b] {
			ids = append(ids, t...)
		}
		blocks[b].AddrIDs = ids
	}
}

// newBlockTxRecord returns the record Tx and BlockTxs yield for the stored
// transaction rec with id txid in block ref, its outputs still to fill in
// and its inputs to resolve (resolveBlockTxInputs).
func newBlockTxRecord(chain heistgraph.Chain, txid heistgraph.Hash, rec *txRecord, ref heistgraph.BlockRef) heistgraph.TxRecord {
	return heistgraph.TxRecord{
		Chain: chain,
		Tx: heistgraph.Tx{
			TxID: txid, WTxID: rec.WTxID, Version: rec.Version, LockTime: rec.LockTime,
			Size: rec.Size, Weight: rec.Weight,
			Inputs:  make([]heistgraph.TxIn, len(rec.Inputs)),
			Outputs: make([]heistgraph.TxOut, rec.NOut),
		},
		Block:    ref,
		Index:    int(rec.Index),
		Prevouts: make([]*heistgraph.TxOut, len(rec.Inputs)),
		Fee:      rec.Fee,
		FeeKnown: rec.FeeKnown,
	}
}

// resolveBlockTxInputs fills in tr's inputs and prevouts from rec: the
// prevouts resolved when the block was applied carry only their value,
// type and address; the others are read from r. The fee is set when every
// prevout is known. With addrs nil the prevouts' addresses are left empty
// and their ids put in ids (one per input; nil: not wanted).
func resolveBlockTxInputs(r pebbledb.Reader, c chainCode, addrs *addrReader, tr *heistgraph.TxRecord, rec *txRecord, ids []uint64) error {
	var inSum int64
	allKnown := true
	for j := range rec.Inputs {
		ir := &rec.Inputs[j]
		tr.Tx.Inputs[j] = ir.TxIn
		switch {
		case ir.Coinbase:
			continue
		case ir.Resolved:
			tr.Prevouts[j] = &heistgraph.TxOut{Value: ir.Value, Type: ir.Type, Address: ir.Address}
			if ids != nil {
				ids[j] = ir.AddrID
			}
		default:
			ov, found, err := lookupOutput(r, c, ir.PrevOut)
			if err != nil {
				return err
			}
			if !found {
				allKnown = false
				continue
			}
			out, _, id, err := decodeOutput(ov, addrs)
			if err != nil {
				return fmt.Errorf("output %s: %w", ir.PrevOut, err)
			}
			tr.Prevouts[j] = &out
			if ids != nil {
				ids[j] = id
			}
		}
		inSum += tr.Prevouts[j].Value
	}
	if !tr.FeeKnown && allKnown {
		tr.Fee, tr.FeeKnown = inSum-tr.Tx.OutputSum(), true
	}
	return nil
}
