package pebble

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Tip returns the highest block stored for chain. Blocks applied without
// their parents count: with blocks 1-255 and 574200 stored, the tip is
// 574200. It wraps heistgraph.ErrNotFound when no block is stored.
func (d *DB) Tip(ctx context.Context, chain heistgraph.Chain) (heistgraph.BlockRef, error) {
	c, err := d.readCode(chain, "tip")
	if err != nil {
		return heistgraph.BlockRef{}, err
	}
	// A screen asks for the tip every time: it is memoized until the next
	// commit (every write goes through commit, and the store's lock keeps
	// other processes from writing).
	gen := d.writes.Load()
	if m, ok := d.tips.Load(c); ok && m.(*tipMemo).gen == gen {
		return m.(*tipMemo).ref, nil
	}
	ref, found, err := tipOf(d.db, c)
	if err != nil {
		return heistgraph.BlockRef{}, fmt.Errorf("tip on %s: %w", chain, err)
	}
	if !found {
		return heistgraph.BlockRef{}, fmt.Errorf("tip on %s: no block stored: %w", chain, heistgraph.ErrNotFound)
	}
	// gen was read before the tip: a commit in between leaves a memo that
	// no later Tip uses.
	d.tips.Store(c, &tipMemo{gen: gen, ref: ref})
	return ref, nil
}

// tipMemo is a chain's tip as read when the store had seen gen commits.
type tipMemo struct {
	gen uint64
	ref heistgraph.BlockRef
}

// BlockByHeight returns the stored block at height, or an error wrapping
// heistgraph.ErrNotFound.
func (d *DB) BlockByHeight(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.BlockInfo, error) {
	c, err := d.readCode(chain, fmt.Sprintf("block at height %d", height))
	if err != nil {
		return heistgraph.BlockInfo{}, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	hash, err := hashAtHeight(snap, chain, c, height)
	if err != nil {
		return heistgraph.BlockInfo{}, err
	}
	return blockByHash(snap, chain, c, hash)
}

// BlockHashAt returns the hash of the chain's block at height, read from
// the height index alone (BlockByHeight reads and decodes the block's
// record too, its txids): what a fed clustering checks before each block.
// An error wraps heistgraph.ErrNotFound when no block is stored there.
func (d *DB) BlockHashAt(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.Hash, error) {
	c, err := d.readCode(chain, fmt.Sprintf("block at height %d", height))
	if err != nil {
		return heistgraph.Hash{}, err
	}
	if err := ctx.Err(); err != nil {
		return heistgraph.Hash{}, err
	}
	return hashAtHeight(d.db, chain, c, height)
}

// hashAtHeight returns the hash of the block the height index of chain
// (code c) names at height, or an error wrapping heistgraph.ErrNotFound.
func hashAtHeight(r pebbledb.Reader, chain heistgraph.Chain, c chainCode, height int64) (heistgraph.Hash, error) {
	if height < 0 {
		return heistgraph.Hash{}, fmt.Errorf("block at height %d on %s: %w", height, chain, heistgraph.ErrNotFound)
	}
	hr, found, err := heightAt(r, c, height)
	if err != nil {
		return heistgraph.Hash{}, fmt.Errorf("block at height %d on %s: %w", height, chain, err)
	}
	if !found {
		return heistgraph.Hash{}, fmt.Errorf("block at height %d on %s: %w", height, chain, heistgraph.ErrNotFound)
	}
	return hr.Hash, nil
}

// BlockByHash returns a stored block, or an error wrapping
// heistgraph.ErrNotFound.
func (d *DB) BlockByHash(ctx context.Context, chain heistgraph.Chain, hash heistgraph.Hash) (heistgraph.BlockInfo, error) {
	c, err := d.readCode(chain, "block "+hash.String())
	if err != nil {
		return heistgraph.BlockInfo{}, err
	}
	return blockByHash(d.db, chain, c, hash)
}

func blockByHash(r pebbledb.Reader, chain heistgraph.Chain, c chainCode, hash heistgraph.Hash) (heistgraph.BlockInfo, error) {
	v, found, err := lookup(r, appendBlockKey(nil, c, hash), nil)
	if err != nil {
		return heistgraph.BlockInfo{}, fmt.Errorf("block %s on %s: %w", hash, chain, err)
	}
	if !found {
		return heistgraph.BlockInfo{}, fmt.Errorf("block %s on %s: %w", hash, chain, heistgraph.ErrNotFound)
	}
	bi, err := decodeBlockRecord(v)
	if err != nil {
		return heistgraph.BlockInfo{}, fmt.Errorf("block %s on %s: %w", hash, chain, err)
	}
	bi.Chain, bi.Hash = chain, hash
	return bi, nil
}

// Tx returns a stored transaction. Prevouts[i] is the stored output input i
// spends (value, script, type, address, keys), looked up when the tx is
// read, so an output applied after the tx still resolves; it is nil for a
// coinbase input and for an output not stored. The fee is known when every
// input resolves. SpentBy[n] is the stored spender of output n (with
// conflicting data holding two spenders, the one with the lower txid). An
// unknown txid wraps heistgraph.ErrNotFound.
func (d *DB) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error) {
	c, err := d.readCode(chain, "tx "+txid.String())
	if err != nil {
		return heistgraph.TxRecord{}, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	addrs := d.addrIter(snap, c)
	defer addrs.Close()
	tr, err := readTx(snap, chain, c, txid, addrs)
	if err != nil {
		return heistgraph.TxRecord{}, fmt.Errorf("tx %s on %s: %w", txid, chain, err)
	}
	return tr, nil
}

func readTx(r pebbledb.Reader, chain heistgraph.Chain, c chainCode, txid heistgraph.Hash, addrs *addrReader) (heistgraph.TxRecord, error) {
	var rec txRecord
	found, err := readTxRecord(r, c, txid, &rec, pointTxids(r, c))
	if err != nil {
		return heistgraph.TxRecord{}, err
	}
	if !found {
		return heistgraph.TxRecord{}, heistgraph.ErrNotFound
	}
	hr, _, err := heightAt(r, c, rec.Height)
	if err != nil {
		return heistgraph.TxRecord{}, err
	}
	tr := newBlockTxRecord(chain, txid, &rec, heistgraph.BlockRef{Hash: hr.Hash, Height: rec.Height, Time: hr.Time})
	tr.SpentBy = make([]*heistgraph.Inpoint, rec.NOut)
	it, err := r.NewIter(nil)
	if err != nil {
		return heistgraph.TxRecord{}, err
	}
	defer it.Close()
	if err := scanOutputs(it, c, rec.Num, func(vout uint32, v []byte) error {
		if vout >= rec.NOut {
			return fmt.Errorf("output %d of %d: %w", vout, rec.NOut, errCorrupt)
		}
		out, _, err := decodeOutputRecord(v, addrs)
		tr.Tx.Outputs[vout] = out
		return err
	}); err != nil {
		return heistgraph.TxRecord{}, err
	}
	if err := scanSpends(r, it, c, rec.Num, func(vout uint32, in heistgraph.Inpoint) {
		if vout < rec.NOut && (tr.SpentBy[vout] == nil || compareInpoints(in, *tr.SpentBy[vout]) < 0) {
			tr.SpentBy[vout] = &in
		}
	}); err != nil {
		return heistgraph.TxRecord{}, err
	}
	var inSum int64
	allKnown := true
	var key []byte
	for i := range rec.Inputs {
		ir := &rec.Inputs[i]
		tr.Tx.Inputs[i] = ir.TxIn
		if ir.Coinbase {
			continue
		}
		// A resolved input names its prevout's tx by number already.
		var ov []byte
		if ir.Resolved && ir.PrevNum != 0 {
			ov, found, err = lookup(r, appendOutputKey(key[:0], c, ir.PrevNum, ir.PrevOut.Vout), nil)
		} else {
			ov, found, err = lookupOutput(r, c, ir.PrevOut)
		}
		if err != nil {
			return heistgraph.TxRecord{}, err
		}
		switch {
		case found:
			out, _, err := decodeOutputRecord(ov, addrs)
			if err != nil {
				return heistgraph.TxRecord{}, fmt.Errorf("output %s: %w", ir.PrevOut, err)
			}
			tr.Prevouts[i] = &out
		case ir.Resolved:
			a, err := addrs.addr(ir.AddrID)
			if err != nil {
				return heistgraph.TxRecord{}, fmt.Errorf("input %d: %w", i, err)
			}
			tr.Prevouts[i] = &heistgraph.TxOut{Value: ir.Value, Type: ir.Type, Address: a}
		default:
			allKnown = false
			continue
		}
		inSum += tr.Prevouts[i].Value
	}
	if !tr.FeeKnown && allKnown {
		tr.Fee, tr.FeeKnown = inSum-tr.Tx.OutputSum(), true
	}
	return tr, nil
}

// scanOutputs calls fn with the vout and value of each output of the tx
// with number num, in vout order, repositioning it.
func scanOutputs(it *pebbledb.Iterator, c chainCode, num uint64, fn func(vout uint32, v []byte) error) error {
	lo := appendOutputsKey(nil, c, num)
	it.SetBounds(lo, prefixEnd(lo))
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+4 {
			return fmt.Errorf("outpoint key: %w", errCorrupt)
		}
		if err := fn(binary.BigEndian.Uint32(k[len(lo):]), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// scanSpends calls fn with each spend marker of the outputs of the tx with
// number num, by vout, repositioning it; r resolves the spenders' numbers.
func scanSpends(r pebbledb.Reader, it *pebbledb.Iterator, c chainCode, num uint64, fn func(vout uint32, in heistgraph.Inpoint)) error {
	lo := appendSpendsOfKey(nil, c, num, 0, false)
	it.SetBounds(lo, prefixEnd(lo))
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) < len(lo)+4 {
			return fmt.Errorf("spend key %x: %w", k, errCorrupt)
		}
		sp, ok := decodeSpender(k[len(lo)+4:])
		if !ok {
			return fmt.Errorf("spend key %x: %w", k, errCorrupt)
		}
		txid, err := txidOf(r, c, sp.Num)
		if err != nil {
			return err
		}
		fn(binary.BigEndian.Uint32(k[len(lo):]), heistgraph.Inpoint{TxID: txid, Vin: sp.Vin})
	}
	return it.Error()
}

// Output returns one stored output with its block and spender (nil while
// unspent). An output not stored wraps heistgraph.ErrNotFound, even when a
// stored block spends it.
func (d *DB) Output(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) (heistgraph.Output, error) {
	c, err := d.readCode(chain, "output "+op.String())
	if err != nil {
		return heistgraph.Output{}, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	addrs := d.addrIter(snap, c)
	defer addrs.Close()
	o, err := readOutput(snap, chain, c, op, addrs)
	if err != nil {
		return heistgraph.Output{}, fmt.Errorf("output %s on %s: %w", op, chain, err)
	}
	return o, nil
}

func readOutput(r pebbledb.Reader, chain heistgraph.Chain, c chainCode, op heistgraph.Outpoint, addrs *addrReader) (heistgraph.Output, error) {
	num, found, err := storedTxNum(r, c, op.TxID)
	if err != nil {
		return heistgraph.Output{}, err
	}
	if !found {
		return heistgraph.Output{}, heistgraph.ErrNotFound
	}
	v, found, err := lookup(r, appendOutputKey(nil, c, num, op.Vout), nil)
	if err != nil {
		return heistgraph.Output{}, err
	}
	if !found {
		return heistgraph.Output{}, heistgraph.ErrNotFound
	}
	out, height, err := decodeOutputRecord(v, addrs)
	if err != nil {
		return heistgraph.Output{}, err
	}
	hr, _, err := heightAt(r, c, height)
	if err != nil {
		return heistgraph.Output{}, err
	}
	o := heistgraph.Output{Chain: chain, Outpoint: op, TxOut: out, Block: heistgraph.BlockRef{Hash: hr.Hash, Height: height, Time: hr.Time}}
	sps, err := spendersOfNum(r, c, num, op.Vout)
	if err != nil {
		return heistgraph.Output{}, err
	}
	spenders, err := inpoints(sps, func(n uint64) (heistgraph.Hash, error) { return txidOf(r, c, n) })
	if err != nil {
		return heistgraph.Output{}, err
	}
	if len(spenders) > 0 {
		o.SpentBy = &spenders[0]
	}
	return o, nil
}

// Address returns the totals of addr. An address without events wraps
// heistgraph.ErrNotFound.
func (d *DB) Address(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.AddressSummary, error) {
	c, err := d.readCode(chain, fmt.Sprintf("address %q", addr))
	if err != nil {
		return heistgraph.AddressSummary{}, err
	}
	t, found, err := findTotals(d.db, c, addr, &d.addrCache)
	if err != nil {
		return heistgraph.AddressSummary{}, fmt.Errorf("address %q on %s: %w", addr, chain, err)
	}
	if !found {
		return heistgraph.AddressSummary{}, fmt.Errorf("address %q on %s: %w", addr, chain, heistgraph.ErrNotFound)
	}
	return heistgraph.AddressSummary{
		Chain: chain, Address: addr,
		Received: t.Received, Sent: t.Sent,
		TxCount: t.TxCount, OutputCount: t.OutputCount, SpendCount: t.SpendCount,
		FirstSeen: t.FirstTime, LastSeen: t.LastTime,
		FirstHeight: t.FirstHeight, LastHeight: t.LastHeight,
	}, nil
}

// AddressHistory yields addr's events in chain order, streaming from one
// iterator over a consistent snapshot. An address (or chain) without events
// yields nothing. Negative heights in opts yield one error wrapping
// heistgraph.ErrInvalid. When ctx is cancelled the sequence ends with an
// error wrapping ctx.Err().
func (d *DB) AddressHistory(ctx context.Context, chain heistgraph.Chain, addr string, opts store.HistoryOptions) iter.Seq2[heistgraph.AddressEvent, error] {
	return func(yield func(heistgraph.AddressEvent, error) bool) {
		fail := func(err error) {
			yield(heistgraph.AddressEvent{}, fmt.Errorf("history of address %q on %s: %w", addr, chain, err))
		}
		if opts.FromHeight < 0 || opts.ToHeight < 0 {
			fail(fmt.Errorf("heights %d..%d: %w", opts.FromHeight, opts.ToHeight, heistgraph.ErrInvalid))
			return
		}
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok || opts.ToHeight != 0 && opts.ToHeight < opts.FromHeight {
			return
		}
		snap := d.db.NewSnapshot()
		defer snap.Close()
		id, found, err := storedAddrID(snap, c, addr)
		if err != nil {
			fail(err)
			return
		}
		if !found {
			return
		}
		prefix := appendEventPrefix(nil, c, id)
		lo, hi := heightBounds(prefix, opts.FromHeight, opts.ToHeight)
		it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		// Two readers of numbers: the events' own txs come in rising
		// order, the outpoints of spends do not.
		own, err := newNumReader(snap, c)
		if err != nil {
			fail(err)
			return
		}
		defer own.Close()
		outs, err := newNumReader(snap, c)
		if err != nil {
			fail(err)
			return
		}
		defer outs.Close()
		ref := heistgraph.BlockRef{Height: -1}
		for valid := it.First(); valid; valid = it.Next() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			pos, ok := decodeEventPos(it.Key())
			if !ok || len(it.Key()) != len(prefix)+eventPosLen {
				fail(fmt.Errorf("event key: %w", errCorrupt))
				return
			}
			ev, err := decodeEvent(it.Value(), pos, own, outs)
			if err != nil {
				fail(err)
				return
			}
			if pos.Height != ref.Height {
				hr, _, err := heightAt(snap, c, pos.Height)
				if err != nil {
					fail(err)
					return
				}
				ref = heistgraph.BlockRef{Hash: hr.Hash, Height: pos.Height, Time: hr.Time}
			}
			ev.Block = ref
			if !yield(ev, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}

// heightBounds returns the key range of the keys under prefix whose next
// eight bytes are a height from..to (to 0: no upper end).
func heightBounds(prefix []byte, from, to int64) (lo, hi []byte) {
	lo = appendU64(append([]byte(nil), prefix...), uint64(from))
	hi = prefixEnd(prefix)
	if to != 0 {
		hi = appendU64(append([]byte(nil), prefix...), uint64(to)+1)
	}
	return lo, hi
}

// Digest returns a SHA-256 over the logical content of chain: the address,
// block, event, height, output, pending, spend and tx tables in key order
// (the address totals and the events by address string, as schema 9 keyed
// the totals: digestOrder), each key without its chain code, each key and
// value length-prefixed,
// output records in the form schema 2 stored them (every script, the
// address as a string) and tx records in schema 3's (addresses as strings). Undo
// records and the chain code table are left out, so the digest depends only
// on the blocks stored (see schema.go for the exceptions). A chain with
// nothing stored has the digest of empty content.
func (d *DB) Digest(ctx context.Context, chain heistgraph.Chain) (heistgraph.Hash, error) {
	c, ok, err := d.code(chain)
	if err != nil {
		return heistgraph.Hash{}, err
	}
	h := sha256.New()
	if ok {
		snap := d.db.NewSnapshot()
		defer snap.Close()
		nums, err := newNumReader(snap, c)
		if err != nil {
			return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
		}
		defer nums.Close()
		recs, err := newRecReader(snap, c)
		if err != nil {
			return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
		}
		defer recs.Close()
		addrs := newAddrIter(snap, c)
		defer addrs.Close()
		order, err := d.newDigestOrder(ctx, snap, c)
		if err != nil {
			return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
		}
		defer order.Close()
		var buf, val []byte
		var rec txRecord
		for _, p := range logicalPrefixes {
			if p == prefixAddress {
				if err := digestTotals(ctx, order, h); err != nil {
					return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
				}
				continue
			}
			if p == prefixEvent {
				if err := digestEvents(ctx, snap, c, order, h); err != nil {
					return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
				}
				continue
			}
			if p == prefixSpend {
				if err := digestSpends(ctx, snap, c, h); err != nil {
					return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
				}
				continue
			}
			if p == prefixOutput {
				if err := digestOutputs(ctx, snap, c, h); err != nil {
					return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
				}
				continue
			}
			lo, hi := tableBounds(p, c)
			it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
			if err != nil {
				return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
			}
			n := 0
			for valid := it.First(); valid; valid = it.Next() {
				if n++; n&1023 == 0 {
					if err := ctx.Err(); err != nil {
						it.Close()
						return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
					}
				}
				k, v := it.Key(), it.Value()
				if p == prefixAccount && len(k) > len(lo) && k[len(lo)] == acctTokenKey {
					continue // token metadata is no block's content
				}
				if p == prefixTx {
					// The record the index entry names, in schema 3's
					// form: the digest does not depend on how the inputs'
					// addresses are stored, nor on where the record is.
					num, w := binary.Uvarint(v)
					if len(k) != len(lo)+32 || w <= 0 || num == 0 {
						it.Close()
						return heistgraph.Hash{}, fmt.Errorf("digest of %s: tx key: %w", chain, errCorrupt)
					}
					txid := heistgraph.Hash(k[len(lo):])
					rv, err := recs.record(num)
					if err == nil {
						err = decodeTxRecord(rv, num, txid, &rec, nums.txid, addrs)
					}
					if err != nil {
						it.Close()
						return heistgraph.Hash{}, fmt.Errorf("digest of %s: tx %s: %w", chain, txid, err)
					}
					val = appendTxRecordV3(val[:0], txid, &rec)
					v = val
				}
				buf = append(buf[:0], p)
				buf = appendBytes(buf, k[len(lo):])
				buf = appendBytes(buf, v)
				h.Write(buf)
			}
			if err := errors.Join(it.Error(), it.Close()); err != nil {
				return heistgraph.Hash{}, fmt.Errorf("digest of %s: %w", chain, err)
			}
		}
	}
	var out heistgraph.Hash
	h.Sum(out[:0])
	return out, nil
}

// digestTotals hashes the address totals into h as Digest does, in the
// order and form schema 9 stored them in: keyed by the address string
// (appendAddr), in that key's order (order), without the address id (it
// depends on the order addresses were first seen in).
func digestTotals(ctx context.Context, order *digestOrder, h hash.Hash) error {
	var buf []byte
	return order.each(ctx, func(suffix, v []byte) error {
		_, w := binary.Uvarint(v)
		if w <= 0 {
			return fmt.Errorf("address totals: %w", errCorrupt)
		}
		buf = append(buf[:0], prefixAddress)
		buf = appendBytes(buf, suffix)
		buf = appendBytes(buf, v[w:])
		h.Write(buf)
		return nil
	})
}

// digestEvents hashes chain c's address events into h as Digest does, in
// the order and form schema 4 stored them in (txids, not numbers) keyed by
// address string: for each
// address of the totals table (in schema 9's key order: order), its events, each key
// with the address in place of its id. So the digest does not depend on
// the ids, which depend on the order addresses were first seen in.
func digestEvents(ctx context.Context, r pebbledb.Reader, c chainCode, order *digestOrder, h hash.Hash) error {
	elo, ehi := tableBounds(prefixEvent, c)
	evs, err := r.NewIter(&pebbledb.IterOptions{LowerBound: elo, UpperBound: ehi})
	if err != nil {
		return err
	}
	defer evs.Close()
	own, err := newNumReader(r, c)
	if err != nil {
		return err
	}
	defer own.Close()
	outs, err := newNumReader(r, c)
	if err != nil {
		return err
	}
	defer outs.Close()
	var buf, prefix, key, val []byte
	return order.each(ctx, func(addr, v []byte) error {
		t, err := decodeTotals(v)
		if err != nil {
			return fmt.Errorf("address totals %x: %w", addr, err)
		}
		prefix = appendEventPrefix(prefix[:0], c, t.ID)
		for ok := evs.SeekGE(prefix); ok && bytes.HasPrefix(evs.Key(), prefix); ok = evs.Next() {
			pos, ok := decodeEventPos(evs.Key())
			if !ok || len(evs.Key()) != len(prefix)+eventPosLen {
				return fmt.Errorf("event key %x: %w", evs.Key(), errCorrupt)
			}
			ev, err := decodeEvent(evs.Value(), pos, own, outs)
			if err != nil {
				return fmt.Errorf("event %x: %w", evs.Key(), err)
			}
			val = appendEventV4(val[:0], &ev)
			key = append(append(key[:0], addr...), evs.Key()[len(prefix):]...)
			buf = append(buf[:0], prefixEvent)
			buf = appendBytes(buf, key)
			buf = appendBytes(buf, val)
			h.Write(buf)
		}
		return evs.Error()
	})
}

// decodeEvent decodes the event record v at position p, resolving the
// number of its own tx with own and that of a spent outpoint with outs
// (Block is the caller's).
func decodeEvent(v []byte, p eventPos, own, outs *numReader) (heistgraph.AddressEvent, error) {
	e, err := decodeEventRecord(v, p.Kind)
	if err != nil {
		return heistgraph.AddressEvent{}, err
	}
	id, err := own.txid(e.TxNum)
	if err != nil {
		return heistgraph.AddressEvent{}, err
	}
	ev := heistgraph.AddressEvent{Kind: p.Kind, Index: p.Index, TxID: id, Amount: e.Amount}
	ev.Outpoint = heistgraph.Outpoint{TxID: id, Vout: p.Index}
	if p.Kind == heistgraph.Spent {
		if ev.Outpoint.TxID, err = outs.txid(e.OutNum); err != nil {
			return heistgraph.AddressEvent{}, err
		}
		ev.Outpoint.Vout = e.Vout
	}
	return ev, nil
}
