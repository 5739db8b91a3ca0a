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

// storeIDs maps the store's address ids to the engine's. The store gives
// its ids in the order it first sees the addresses, as the engine does, so
// the two agree for nearly every address of a chain clustered beside its
// ingest (clusteraddr.go in store/pebble): while every id set is the
// store's own (s == id, each the next), the map is the prefix [1, known)
// and reads no array (no cache miss an input). The first id that breaks
// it freezes known; the ids from known on are kept in the array.
type storeIDs struct {
	known uint64 // the store's ids in [1, known) have the engine id s
	// array reports that the prefix is frozen and ids holds the ids from
	// known on.
	array bool
	ids   []uint32 // ids[s-known]: the engine's id of the store's address s; 0: unknown
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
func newStoreIDs(dir string) *storeIDs { return &storeIDs{dir: dir, known: 1} }

// of returns the engine's id of the store's address s; 0 when unknown.
func (t *storeIDs) of(s uint64) uint32 {
	if s < t.known {
		return uint32(s) // s == 0 only while known is 0: never
	}
	if s -= t.known; s < uint64(len(t.ids)) {
		return t.ids[s]
	}
	return 0
}

// set records that the store's address s, unknown (of(s) == 0; an s
// below known is ignored), has the engine's id (not 0). When the array
// cannot be spilled or grown (t.err) it does not (the id is found by its
// string).
func (t *storeIDs) set(s uint64, id uint32) {
	if s < t.known {
		return
	}
	if !t.array {
		if s == t.known && uint64(id) == s {
			t.known++
			return
		}
		t.array = true
	}
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
	s -= t.known
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
	var id uint32
	if k, ok := e.bs.keyOf(s, side); ok {
		id = e.idOfKey(k, o.Address)
	} else {
		id = e.idOf(o.Address)
	}
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
// its addresses' strings as well (bs started): fillAddresses reads the
// strings it needs that b's records leave out (all of a read block's, a
// fed block's spent outputs' that the store resolved without them).
func (e *engine) blockIDs(ctx context.Context, b *store.BlockRecords) error {
	h := b.Block.Height
	if err := e.fillAddresses(ctx, b); err != nil {
		return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
	}
	if err := e.idsOfRecords(b); err != nil {
		return err
	}
	bs := &e.bs
	var i0, o0 int
	for i := range b.Txs {
		rec := &b.Txs[i]
		i1, o1 := i0+len(rec.Tx.Inputs), o0+len(rec.Tx.Outputs)
		var v txCols
		e.recordValues(rec, &v)
		v.inIDs, v.outIDs = bs.inCol[i0:i1], bs.outCol[o0:o1]
		e.tx(ctx, &v, uint32(i))
		i0, o0 = i1, o1
	}
	e.pending.expire(h - e.opts.Change.Window)
	return nil
}

// idsOfRecords sets bs.inCol and bs.outCol to the engine's ids of the
// addresses of b's inputs and outputs (idOfStore), in the order a
// transaction at a time gave them, and marks the block whole (freshAt):
// the ids are given before any transaction is clustered, which gives no
// transaction an id it could meet before its own. The address table's
// slots of the outputs the engine does not know by their store ids (most
// of them new addresses) are read first, in a loop of independent reads
// (touchNew), so that their cache misses overlap instead of coming one a
// probe.
func (e *engine) idsOfRecords(b *store.BlockRecords) error {
	bs := &e.bs
	nin, nout := 0, 0
	for i := range b.Txs {
		nin += len(b.Txs[i].Tx.Inputs)
		nout += len(b.Txs[i].Tx.Outputs)
	}
	if len(b.AddrIDs) < nin+nout {
		return fmt.Errorf("cluster %s: block %d: %d address ids for its transactions: %w", e.chain, b.Block.Height, len(b.AddrIDs), heistgraph.ErrConflict)
	}
	if err := e.reserve(nin + nout); err != nil {
		return err
	}
	e.touchNew(b)
	ins, outs := resize(bs.inCol, nin), resize(bs.outCol, nout)
	bs.inCol, bs.outCol = ins, outs
	bs.whole, bs.given = true, resize(bs.given, len(b.Txs))
	ids := b.AddrIDs
	var i0, o0 int
	for k := range b.Txs {
		rec := &b.Txs[k]
		bs.given[k] = e.m.nextID()
		var in, out []uint64
		in, out, ids = store.TxAddrIDs(ids, &rec.Tx)
		coinbase := rec.Tx.IsCoinbase()
		for i, s := range in {
			var id uint32
			if !coinbase { // its input spends nothing
				var o *heistgraph.TxOut
				if i < len(rec.Prevouts) {
					o = rec.Prevouts[i]
				}
				var err error
				if id, err = e.idOfStore(s, o, "input", i); err != nil {
					return fmt.Errorf("cluster %s: block %d tx %s: %w", e.chain, b.Block.Height, rec.Tx.TxID, err)
				}
			}
			ins[i0+i] = id
		}
		for j, s := range out {
			id, err := e.idOfStore(s, &rec.Tx.Outputs[j], "output", j)
			if err != nil {
				return fmt.Errorf("cluster %s: block %d tx %s: %w", e.chain, b.Block.Height, rec.Tx.TxID, err)
			}
			outs[o0+j] = id
		}
		i0, o0 = i0+len(in), o0+len(out)
	}
	bs.keys, bs.keyAt = bs.keys[:0], 0
	return nil
}

// storeKey is an address's key (addrTable) computed ahead by touchNew for
// the output whose store id is s.
type storeKey struct {
	s uint64
	k addrKey
}

// touchNew computes the address table's keys of b's outputs whose store
// ids the engine does not know (into bs.keys, in order: idOfStore takes
// them) and reads their slots, a loop of independent loads whose cache
// misses the processor overlaps. Nothing on the graph or while replaying.
func (e *engine) touchNew(b *store.BlockRecords) {
	bs := &e.bs
	bs.keys, bs.keyAt = bs.keys[:0], 0
	if e.g != nil || bs.replay {
		return
	}
	ids := b.AddrIDs
	for i := range b.Txs {
		tx := &b.Txs[i].Tx
		_, out, rest := store.TxAddrIDs(ids, tx)
		ids = rest
		for j, s := range out {
			if a := tx.Outputs[j].Address; s != 0 && a != "" && e.sids.of(s) == 0 {
				bs.keys = append(bs.keys, storeKey{s, e.key(a)})
			}
		}
	}
	t := e.ids
	var sum uint32
	for _, k := range bs.keys {
		i := t.home(k.k.hi)
		sum += uint32(t.tags[i]) + t.slots[i]
	}
	bs.touched = sum
}

// keyOf returns the key touchNew computed for the output (side) whose
// store id is s, if it did (the outputs ask in the order it met them; one
// it listed may not ask, its id given by an earlier input or output).
func (bs *blockState) keyOf(s uint64, side string) (addrKey, bool) {
	if side != "output" {
		return addrKey{}, false
	}
	for ; bs.keyAt < len(bs.keys); bs.keyAt++ {
		if k := bs.keys[bs.keyAt]; k.s == s {
			bs.keyAt++
			return k.k, true
		}
	}
	return addrKey{}, false
}

// fillAddresses reads the strings of the addresses of b that the engine
// does not know by their store ids, and of every address of the
// transactions that may be CoinJoins or of the Stonewall shape
// (pattern.MayJoin), and puts them in b's records: those the records do
// not hold already (a fed block's).
func (e *engine) fillAddresses(ctx context.Context, b *store.BlockRecords) error {
	t := e.sids
	need := t.need[:0]
	e.eachOutput(b, func(s uint64, o *heistgraph.TxOut, all bool) {
		if s != 0 && (o == nil || o.Address == "") && (all || t.of(s) == 0) {
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
