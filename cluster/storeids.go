package cluster

import (
	"context"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
)

// When the store names addresses by dense ids (store.BlockRangeIDs), the
// engine reads the blocks without the addresses' strings: building them
// (the address table's reads and the bech32 or base58 encoding) was most
// of what reading a block back cost. storeIDs remembers the engine's id
// of every store id it has met, in a flat array, so an address the engine
// knows is found by one array read, with neither its string nor a hash;
// only the addresses it meets for the first time since it was loaded (most
// of them new), and those of the transactions of a CoinJoin's shape (whose
// rules compare addresses), are read as strings, a block's together, in id
// order.
//
// It is a cache in front of the address table and never wrong: a store id
// names one address for good, and an address keeps its engine id while
// the engine lives. An address the store gave a second id (after a rewind
// removed its whole history) is found by its string at its first meeting,
// as without the cache.

// storeIDs maps the store's address ids to the engine's.
type storeIDs struct {
	ids []uint32 // ids[s]: the engine's id of the store's address s; 0: unknown
	// dir is where ids is spilled (Options.SpillDir; "": on the heap),
	// made on first use; err is why it could not be, or why it could not
	// grow (it then stops growing: the ids past it are found by string).
	dir string
	err error
	// sp holds ids when it is spilled: the mapping has room for every id,
	// but only the ids sp reserved disk for are in ids (reading or writing
	// a mapped page past the file's end is a SIGBUS).
	sp *spiller
	// need and strs are fillAddresses' buffers, reused.
	need []uint64
	strs []string
}

// newStoreIDs returns an empty map whose array is spilled to dir, if any.
func newStoreIDs(dir string) *storeIDs { return &storeIDs{dir: dir} }

// of returns the engine's id of the store's address s; 0 when unknown.
func (t *storeIDs) of(s uint64) uint32 {
	if s < uint64(len(t.ids)) {
		return t.ids[s]
	}
	return 0
}

// set records that the store's address s has the engine's id. When the
// array cannot be spilled or grown (t.err) it does not (the id is found by
// its string).
func (t *storeIDs) set(s uint64, id uint32) {
	if t.dir != "" && t.sp == nil && t.err == nil {
		sp := &spiller{dir: t.dir}
		if ids, err := array[uint32](sp, 0); err != nil {
			t.err = err
		} else {
			t.sp, t.ids = sp, ids // never moves; grows as sp reserves
			releaseWith(sp, t)
		}
	}
	if t.err != nil || s >= maxAddrIDs {
		return
	}
	if s >= uint64(len(t.ids)) {
		if t.sp != nil {
			if err := t.sp.reserve(int64(s) + 1); err != nil {
				t.err = err
				return
			}
			t.ids = t.ids[:t.sp.reserved]
		} else {
			t.ids = slices.Grow(t.ids, int(s+1)-len(t.ids))
			t.ids = t.ids[:cap(t.ids)]
		}
	}
	t.ids[s] = id
}

// idOfStore is idOf for the output o whose address has the store's id s (0:
// none). o holds the address's string when the engine does not know s
// (fillAddresses); side and k say where it was met (input or output k). A
// store id the engine does not know that comes without its string breaks
// that rule (the store's AddressesByID left it out, or the records' ids
// and outputs disagree): the error wraps heistgraph.ErrConflict and names
// the id, where it was met and what was missing.
func (e *engine) idOfStore(s uint64, o *heistgraph.TxOut, side string, k int) (uint32, error) {
	if s == 0 {
		return 0, nil
	}
	if id := e.sids.of(s); id != 0 {
		return id, nil
	}
	if o == nil || o.Address == "" {
		what := "an empty address"
		if o == nil {
			what = "no output record"
		}
		return 0, fmt.Errorf("%s %d: store address id %d, unknown to the clustering, came with %s (unknown ids come with their strings): %w", side, k, s, what, heistgraph.ErrConflict)
	}
	next := e.m.nextID()
	id := e.idOf(o.Address)
	if id != 0 {
		e.sids.set(s, id)
		if id == next {
			// Given out just now: the batch names it by s
			// (store.ClusterBatch.NewAddressIDs).
			e.bs.newAddrID(id, s)
		}
	}
	return id, nil
}

// newAddrID records that the store's id of the new address id is s
// (newAddrIDs).
func (bs *blockState) newAddrID(id uint32, s uint64) {
	i := int(id - bs.first)
	if i >= len(bs.newAddrIDs) {
		bs.newAddrIDs = append(bs.newAddrIDs, make([]uint64, i+1-len(bs.newAddrIDs))...)
	}
	bs.newAddrIDs[i] = s
}

// blockIDs clusters the block b read by store.BlockRangeIDs, or fed with
// its addresses' strings as well (bs started).
func (e *engine) blockIDs(ctx context.Context, b *store.BlockRecords, fed bool) error {
	h := b.Block.Height
	if !fed {
		if err := e.fillAddresses(ctx, b); err != nil {
			return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
		}
	}
	ids := b.AddrIDs
	for i := range b.Txs {
		rec := &b.Txs[i]
		if len(ids) < len(rec.Tx.Inputs)+len(rec.Tx.Outputs) {
			return fmt.Errorf("cluster %s: block %d: %d address ids for its transactions: %w", e.chain, h, len(b.AddrIDs), heistgraph.ErrConflict)
		}
		var in, out []uint64
		in, out, ids = store.TxAddrIDs(ids, &rec.Tx)
		if err := e.txRecord(ctx, rec, uint32(i), in, out); err != nil {
			return fmt.Errorf("cluster %s: block %d tx %s: %w", e.chain, h, rec.Tx.TxID, err)
		}
	}
	e.pending.expire(h - e.opts.Change.Window)
	return nil
}

// fillAddresses reads the strings of the addresses of b that the engine
// does not know by their store ids, and of every address of the
// transactions that may be CoinJoins or of the Stonewall shape
// (pattern.MayJoin), and puts them in b's records.
func (e *engine) fillAddresses(ctx context.Context, b *store.BlockRecords) error {
	t := e.sids
	need := t.need[:0]
	e.eachOutput(b, func(s uint64, _ *heistgraph.TxOut, all bool) {
		if s != 0 && (all || t.of(s) == 0) {
			need = append(need, s)
		}
	})
	if len(need) == 0 {
		t.need = need
		return nil
	}
	slices.Sort(need)
	need = slices.Compact(need)
	t.need = need
	strs, err := e.st.(store.BlockRangeIDs).AddressesByID(ctx, e.chain, need, t.strs[:0])
	if err != nil {
		return err
	}
	t.strs = strs
	e.eachOutput(b, func(s uint64, o *heistgraph.TxOut, _ bool) {
		if k, found := slices.BinarySearch(need, s); found && o != nil {
			o.Address = strs[k]
		}
	})
	return nil
}

// eachOutput calls fn for every spent output and output of b's
// transactions with its store address id, in order; all reports that the
// transaction may be joint (its addresses are all needed).
func (e *engine) eachOutput(b *store.BlockRecords, fn func(s uint64, o *heistgraph.TxOut, all bool)) {
	ids := b.AddrIDs
	for i := range b.Txs {
		rec := &b.Txs[i]
		if len(ids) < len(rec.Tx.Inputs)+len(rec.Tx.Outputs) {
			return // blockIDs reports it
		}
		var in, out []uint64
		in, out, ids = store.TxAddrIDs(ids, &rec.Tx)
		all := pattern.MayJoin(&rec.Tx, &e.bs.values)
		for j, s := range in {
			var o *heistgraph.TxOut
			if j < len(rec.Prevouts) {
				o = rec.Prevouts[j]
			}
			fn(s, o, all)
		}
		for j, s := range out {
			fn(s, &rec.Tx.Outputs[j], all)
		}
	}
}
