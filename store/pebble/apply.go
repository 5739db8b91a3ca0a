package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ApplyBlock writes b and everything derived from it in one atomic batch:
// the block record, the height index entry, a tx record per transaction,
// each output, a spend marker per non-coinbase input (also when the spent
// output is not stored: such an input stays unresolved, its tx's fee
// unknown, and a pending marker remembers it), the address events and
// address totals. An input whose output is stored, or was created earlier in
// b, is resolved. When b creates an output that a stored block already
// spends, that spend is resolved now.
//
// Applying the block already stored at b.Height (same hash) is a no-op.
// Another block at that height, or b's hash stored at another height, wraps
// heistgraph.ErrConflict. A nil block, an empty chain or a negative height
// wraps heistgraph.ErrInvalid. If ctx is cancelled before the batch is
// committed, nothing is written.
func (d *DB) ApplyBlock(ctx context.Context, b *heistgraph.Block) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	_, err := d.applyGroup(ctx, []*heistgraph.Block{b})
	return err
}

// ApplyBlocks applies bs in order with the meaning of ApplyBlock called on
// each in turn, but commits runs of consecutive blocks in one batch each
// (up to Options.GroupBytes of writes), which is much cheaper than a batch a
// block when blocks are small. Each batch is atomic: a crash or a
// cancelled ctx leaves a prefix of bs applied, each block whole. It
// returns how many of bs are stored when it returns (already stored blocks
// count); a non-nil error concerns bs[n], reported exactly as ApplyBlock
// would report it. A block that must read what the blocks before it in the
// run wrote beyond their outputs (it resolves a spend stored earlier
// without its output, or repeats a stored txid) starts a run of its own, so
// that every read it makes sees a committed store.
func (d *DB) ApplyBlocks(ctx context.Context, bs []*heistgraph.Block) (int, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	n := 0
	for n < len(bs) {
		k, err := d.applyGroup(ctx, bs[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// applyGroup applies a prefix of bs (at least one block unless it fails) in
// one batch and returns its length. The caller holds writeMu.
func (d *DB) applyGroup(ctx context.Context, bs []*heistgraph.Block) (int, error) {
	a := &d.ap
	a.startGroup(d.opts.UTXOCacheSize, d.opts.FilterBytes)
	if err := a.growFilters(d.db); err != nil {
		return 0, fmt.Errorf("grow the ingest's filters: %w", err)
	}
	per := a.bytesPerItem
	if per == 0 {
		per = defaultBytesPerItem
	}
	n, outs, blocks := groupBytes(bs, per, int(d.opts.GroupBytes))
	a.w.reserve(n)
	a.size(outs)
	a.prep.start(bs[:blocks], a.hashSeed())
	defer a.prep.stop()
	a.run, a.queuedTo = bs[:blocks], -1
	defer a.closeReads() // on the paths that return early; closed twice is a no-op
	var feed func(store.BlockRecords)
	if bs[0] != nil { // a nil block is refused below
		feed = d.feeds[bs[0].Chain]
	}
	a.feed.reset(feed != nil)
	var first chainCode
	newChain := false
	taken, written, items := 0, 0, 0
	for k, b := range bs {
		if k > 0 && len(a.w.buf) >= int(d.opts.GroupBytes) {
			break
		}
		code, known, stored, err := d.checkBlock(ctx, b)
		if err != nil {
			if k == 0 {
				return 0, err
			}
			break // reported when the block is applied alone
		}
		if k > 0 && (!known || code != first) {
			break
		}
		first = code
		if stored {
			taken++
			continue
		}
		if !known {
			newChain = true
			if err := a.w.Set(metaChainKey(b.Chain), binary.BigEndian.AppendUint16(nil, uint16(code)), nil); err != nil {
				return 0, err
			}
		}
		a.runK = k
		ok, err := a.build(ctx, d.db, b, a.outPreps(k, b), code, known, k > 0)
		if err != nil {
			a.prep.stop()
			a.dropGroup()
			if cerr := a.closeReads(); cerr != nil {
				return 0, errors.Join(err, cerr)
			}
			if k > 0 {
				// Apply the blocks before it one by one; b reports its own
				// error (or, if that was ctx, nothing is written).
				return d.applyEach(ctx, bs[:k+1])
			}
			return 0, fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
		}
		if !ok {
			break // b starts the next run
		}
		a.grp.add(b)
		taken++
		written++
		n, _ := groupItems(b)
		items += n
	}
	a.prep.stop()
	if err := a.closeReads(); err != nil {
		a.dropGroup()
		return 0, err
	}
	if written == 0 {
		return taken, nil
	}
	last := bs[taken-1]
	if err := errors.Join(a.writeIDs(), a.writeNums(), a.writeUnspent()); err != nil {
		a.dropGroup()
		return 0, err
	}
	a.learnItems(len(a.w.buf), items)
	write := d.commitBatch
	if d.opts.BulkLoad && len(a.w.buf) >= bulkMin {
		write = d.ingestGroup
	}
	// The caches take the run's outputs and ids while its writes go to
	// Pebble (write reads only a.w): a run that fails to commit empties
	// them (a miss only costs a lookup).
	cached := make(chan struct{})
	go func() {
		defer close(cached)
		a.cacheGroup()
	}()
	err := write(ctx, bs[0], last)
	<-cached
	if err != nil {
		a.utxo.clear()
		a.idCache.clear()
		a.dropGroup()
		return 0, err
	}
	a.commitGroup()
	d.blocks.follow(d.db)
	if newChain {
		d.register(bs[0].Chain, first)
	}
	for _, r := range a.feed.blocks {
		feed(r)
	}
	a.feed.reset(false)
	return taken, nil
}

// applyEach applies bs one block a batch, stopping at the first error.
func (d *DB) applyEach(ctx context.Context, bs []*heistgraph.Block) (int, error) {
	for i := range bs {
		if _, err := d.applyGroup(ctx, bs[i:i+1]); err != nil {
			return i, err
		}
	}
	return len(bs), nil
}

// checkBlock validates b and checks it against the store and the blocks of
// the run being built: its chain's code (known false for a chain with
// nothing stored yet), and stored true when b is stored already at its
// height (applying it again is a no-op).
func (d *DB) checkBlock(ctx context.Context, b *heistgraph.Block) (code chainCode, known, stored bool, err error) {
	if b == nil {
		return 0, false, false, fmt.Errorf("apply block: nil block: %w", heistgraph.ErrInvalid)
	}
	if b.Chain == "" || b.Height < 0 {
		return 0, false, false, fmt.Errorf("apply block %s at height %d on %q: want a chain and a height >= 0: %w", b.Hash, b.Height, b.Chain, heistgraph.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return 0, false, false, fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	code, known, err = d.code(b.Chain)
	if err != nil {
		return 0, false, false, err
	}
	if !known {
		d.mu.RLock()
		code = d.nextCode
		d.mu.RUnlock()
		if code == 0 {
			return 0, false, false, fmt.Errorf("apply block %d on %s: no chain code left: %w", b.Height, b.Chain, heistgraph.ErrInvalid)
		}
		return code, false, false, nil
	}
	g := &d.ap.grp
	hash, found := g.heights[b.Height]
	if !found {
		hr, ok, err := heightAt(d.db, code, b.Height)
		if err != nil {
			return 0, false, false, fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
		}
		hash, found = hr.Hash, ok
	}
	if found {
		if hash == b.Hash {
			return code, true, true, nil
		}
		return 0, false, false, fmt.Errorf("apply block %s at height %d on %s: the height holds block %s (rewind first): %w",
			b.Hash, b.Height, b.Chain, hash, heistgraph.ErrConflict)
	}
	h, found := g.hashes[b.Hash]
	if !found {
		v, ok, err := lookup(d.db, appendBlockKey(nil, code, b.Hash), nil)
		if err != nil {
			return 0, false, false, fmt.Errorf("apply block %d %s on %s: %w", b.Height, b.Hash, b.Chain, err)
		}
		if found = ok; found {
			h = -1
			if bi, err := decodeBlockRecord(v); err == nil {
				h = bi.Height
			}
		}
	}
	if found {
		return 0, false, false, fmt.Errorf("apply block %s at height %d on %s: the block is stored at height %d: %w",
			b.Hash, b.Height, b.Chain, h, heistgraph.ErrConflict)
	}
	return code, true, false, nil
}

// register records the code of a chain whose first write just committed.
func (d *DB) register(chain heistgraph.Chain, code chainCode) {
	d.mu.Lock()
	d.chains[chain] = code
	d.nextCode++
	d.mu.Unlock()
}

// addrDelta accumulates what one block changes in one address's totals.
type addrDelta struct {
	// id is the address's id, with its string the key of the delta.
	id                   uint64
	received, sent       int64
	txs, outputs, spends int64
	// lastTx is the index of the last of the block's own txs counted in
	// txs (-1 for none); own reports events at the block's height.
	lastTx int64
	own    bool
	// minH..maxH bound the heights of events at other heights (spends
	// resolved late, or un-resolved on rewind), with their blocks' times;
	// minH is -1 when there are none.
	minH, minT, maxH, maxT int64
	// kh is the address's addrKeyHash when hashed (an output's
	// preparation made it).
	kh     uint64
	hashed bool
}

// ownTx counts the block's tx at index i as touching the address.
func (dl *addrDelta) ownTx(i uint32) {
	dl.own = true
	if dl.lastTx != int64(i) {
		dl.lastTx = int64(i)
		dl.txs++
	}
}

// other records an event at another block's height.
func (dl *addrDelta) other(height, time int64) {
	if dl.minH < 0 || height < dl.minH {
		dl.minH, dl.minT = height, time
	}
	if height > dl.maxH {
		dl.maxH, dl.maxT = height, time
	}
}

// deltas maps addresses to their addrDelta, in first-touched order. Every
// get knows the address's id, and the table is probed by it (an
// open-addressed table of indexes into ds, cleared each block) instead of
// hashing the string: an address's id and string go together, so the
// entries are the same as by the string alone. A spend resolved from the
// unspent outputs (unspent.go) knows the id and the address's hash but
// not its string (its totals' key needs only the hash): it gets with an
// empty string, which joins the id's entry, and an entry made so takes
// the string of the first get that gives one.
type deltas struct {
	slots []int32 // 1 + an index into ds (0: empty); a power of two long
	addrs []string
	ds    []addrDelta
}

// get returns the delta of the address addr with id id; the pointer is
// valid until the next get.
func (s *deltas) get(id uint64, addr string) *addrDelta {
	if 2*(len(s.ds)+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := slotOf(id) & mask; ; i = (i + 1) & mask {
		j := s.slots[i]
		if j == 0 {
			s.slots[i] = int32(len(s.ds) + 1)
			s.addrs = append(s.addrs, addr)
			s.ds = append(s.ds, addrDelta{id: id, lastTx: -1, minH: -1, maxH: -1})
			return &s.ds[len(s.ds)-1]
		}
		if dl := &s.ds[j-1]; dl.id == id {
			switch had := s.addrs[j-1]; {
			case had == addr || addr == "":
				return dl
			case had == "":
				s.addrs[j-1] = addr
				return dl
			}
		}
	}
}

// slotOf spreads the bits of an id (ids are given out in order) over a
// table's slots (Fibonacci hashing).
func slotOf(id uint64) uint64 { return id * 0x9e3779b97f4a7c15 >> 32 }

// grow doubles the table (at least 256 slots) and places the entries
// again.
func (s *deltas) grow() {
	s.slots = make([]int32, max(256, 2*len(s.slots)))
	mask := uint64(len(s.slots) - 1)
	for j := range s.ds {
		i := slotOf(s.ds[j].id) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = int32(j + 1)
	}
}

func (s *deltas) reset() {
	clear(s.slots)
	clear(s.addrs)
	s.addrs = s.addrs[:0]
	s.ds = s.ds[:0]
}

// touchKey names the txs of one block position an address has events at.
type touchKey struct {
	addr    string
	height  int64
	txIndex uint32
}

// applier builds a run's batch. It is reused from run to run (under
// DB.writeMu) so that its buffers and maps are allocated once.
type applier struct {
	key, key2, val, val2 []byte
	deltas               deltas
	undo                 []undoEntry
	spenders             map[heistgraph.Hash]*txRecord
	touched              map[touchKey]bool
	rec                  txRecord
	// collided holds, per tx of the block, its stored record when its
	// txid is stored already (nil otherwise).
	collided [][]byte
	// w collects the run's writes to hand them to the batch in key order.
	w sortedWrites
	// grp is what the run wrote that later blocks of it read; utxo the
	// outputs of committed runs (utxo.go).
	grp  group
	utxo utxoCache
	// ids are the address ids the run read or gave out, idCache those of
	// committed runs (addrid.go); idKey is addrID's key buffer.
	ids     runIDs
	idCache addrIDCache
	// idMark is ids.next when the block being built started (0: not read
	// yet): the ids from it on are the block's own (writeTotals).
	idMark  uint64
	idKey   []byte
	idVal   []byte
	form    []byte // formOf's
	filters map[chainCode]*addrFilter
	// txids are the chains' filters of txids (nil: none).
	txids map[chainCode]*txidFilter
	// counts are the lookups the caches and filters let through
	// (memstats.go).
	counts lookupCounts
	// filterBytes bounds the filters as they grow (Options.FilterBytes,
	// ingestfilter.go).
	filterBytes int64
	// idBase is the address ids cache's own share of the memory
	// (idCacheBytes of the output cache's); the cache also borrows what
	// the filters do not hold of filterBytes (filterSpare).
	idBase int64
	// addrs resolves the address ids of stored outputs (addrtable.go);
	// given is the address last packed (givenOK false: it does not
	// pack), by giveID or packedOf, with its hash or program in givenBuf.
	addrs    *addrReader
	reads    runReads
	given    string
	givenP   packedAddr
	givenBuf progBuf
	givenOK  bool
	// nums is the run's transaction number counter (txnum.go).
	nums runCounter
	// feed builds the run's blocks' records for a feed (feed.go).
	feed feeder
	// outIDs are the address ids of the outputs of the tx applyTx
	// applies, for the feed.
	outIDs []uint64
	// prep prepares the run's outputs ahead of build (outprep.go), spare
	// those of a block past them; outs is the preparation of the block's
	// outputs, outAt the index in it of the tx's first output.
	prep  runPrep
	spare runPrep
	outs  []outPrep
	outAt int
	// spends is the block's inputs' look-ups ahead of its txs
	// (prespend), spendAt the index in it of the tx's first input.
	spends  []spendPrep
	spendAt int
	// staged is the block's outputs' addresses looked up ahead of its txs
	// (stageAddrs, addrstage.go), heldAt and heldAddr its list of those the
	// filter held; dirty the filter's blocks added to since.
	staged   []addrStage
	heldAt   []int32
	heldAddr []string
	dirty    dirtyBlocks
	// ahead reads the run's spent outputs ahead (spendread.go); run are
	// the blocks it may queue, runK the place in bs of the block built,
	// queuedTo the place of the last block queued (-1: none), aheadTxs
	// the txids of the block built and the next (readAhead).
	ahead    readAhead
	run      []*heistgraph.Block
	runK     int
	queuedTo int
	aheadTxs map[heistgraph.Hash]struct{}
	// spendReads and spendInputs count the run's inputs read from the
	// store and all its inputs; aheadOn is whether the run reads ahead
	// (the last run's counts: aheadWorth).
	spendReads, spendInputs int
	aheadOn                 bool
	// noAhead turns the read-ahead off, aheadServed counts the inputs it
	// resolved and aheadRuns the runs it started in (tests).
	noAhead     bool
	aheadServed int
	aheadRuns   int
	// seed is addrHash's (seeded: made).
	seed   maphash.Seed
	seeded bool
	// bytesPerItem is what the last run built wrote for each of its
	// transactions, inputs and outputs (0: no run yet), which sizes the
	// next run's buffer (groupsize.go); sizedFor is the number of outputs
	// and addresses the run's maps have room for (size).
	bytesPerItem int
	sizedFor     int
}

// reset prepares the applier for the next block of a run.
func (a *applier) reset() {
	if a.spenders == nil {
		a.spenders = map[heistgraph.Hash]*txRecord{}
		a.touched = map[touchKey]bool{}
	}
	clear(a.spenders)
	clear(a.touched)
	a.deltas.reset()
	a.undo = nil
}

// startGroup empties the run's state; cacheBytes bounds the output cache,
// and the address ids cache takes idCacheBytes of it again, and what the
// filters do not hold of filterBytes (Options.FilterBytes) borrowed.
func (a *applier) startGroup(cacheBytes, filterBytes int64) {
	a.w.reset()
	a.w.chunk = applySortChunk
	if len(a.w.lanes) == 0 {
		a.w.setLanes(laneTables...)
	}
	a.grp.reset()
	a.ids.reset()
	a.nums = runCounter{}
	a.utxo.limit(aheadCacheBytes(cacheBytes))
	a.aheadOn = aheadWorth(a.spendReads, a.spendInputs)
	a.spendReads, a.spendInputs = 0, 0
	a.filterBytes = filterBytes
	a.idBase = max(idCacheBytes(cacheBytes), 0)
	a.idCache.limit(a.idBase + a.filterSpare(0))
}

// dropGroup forgets a run that was not committed.
func (a *applier) dropGroup() {
	a.feed.reset(false)
	a.w.reset()
	a.grp.reset()
	a.ids.reset()
	a.nums = runCounter{}
}

// cacheGroup moves the run's unspent outputs and its address ids into
// the caches, for the runs after it once its batch is committed.
func (a *applier) cacheGroup() {
	a.utxo.putOuts(a.grp.outList)
	a.cacheIDs()
}

// commitGroup empties the run's state once its batch is committed (and
// cacheGroup cached what it keeps).
func (a *applier) commitGroup() {
	a.grp.reset()
	a.ids.reset()
	a.nums = runCounter{}
}

// keep records the previous value of a key the block overwrites.
func (a *applier) keep(key, prev []byte, present bool) {
	a.undo = append(a.undo, undoEntry{Key: append([]byte(nil), key...), Prev: prev, Present: present})
}

// build adds block b of chain code c to the run's writes. known is false
// for a chain with nothing stored yet. In a run that holds blocks already
// (later true), a block that would read the store beyond outputs (a stored
// spend waiting for its output, a txid stored already) is not built: build
// reports false and the block starts the next run.
func (a *applier) build(ctx context.Context, db *pebbledb.DB, b *heistgraph.Block, outs []outPrep, c chainCode, known, later bool) (bool, error) {
	a.reset()
	a.idMark = a.ids.next
	batch := &a.w
	pending := a.grp.pending
	if known && !pending {
		var err error
		if pending, err = hasKeys(db, prefixPending, c); err != nil {
			return false, err
		}
	}
	if later && pending {
		return false, nil
	}
	if !known && a.txids[c] == nil {
		a.newTxidFilter(c)
	}
	collided, err := a.findCollisions(db, b, c)
	if err != nil {
		return false, err
	}
	if later && collided {
		return false, nil
	}
	a.grp.collided = a.grp.collided || collided
	a.outs = outs
	if err := a.stageAddrs(db, b, c); err != nil {
		return false, err
	}
	a.outAt = 0
	a.prespend(b, c)
	a.spendAt = 0
	a.readAhead(db, b, c)
	a.feed.startBlock(b)
	for i := range b.Txs {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		if err := a.applyTx(db, batch, b, c, uint32(i), pending); err != nil {
			return false, fmt.Errorf("tx %d %s: %w", i, b.Txs[i].TxID, err)
		}
	}
	for txid, rec := range a.spenders {
		rec.setFee(rec.OutSum)
		a.key = appendTxRecKey(a.key[:0], c, rec.Num)
		a.val = appendTxRecord(a.val[:0], txid, rec)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return false, err
		}
	}
	if err := a.writeTotals(batch, c, b.Height, b.Time); err != nil {
		return false, err
	}
	a.key = appendHeightKey(a.key[:0], c, b.Height)
	a.val = appendHeightRecord(a.val[:0], heightRecord{Hash: b.Hash, Time: b.Time})
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return false, err
	}
	a.key = appendBlockKey(a.key[:0], c, b.Hash)
	a.val = appendBlockRecord(a.val[:0], b)
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return false, err
	}
	if len(a.undo) > 0 {
		a.key = appendUndoKey(a.key[:0], c, b.Height)
		a.val = appendUndoRecord(a.val[:0], a.undo)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return false, err
		}
	}
	a.feed.endBlock()
	return true, nil
}

// findCollisions reads, for each tx of b, whether its txid is stored
// already, in the store or earlier in the run (a.collided), and reports
// whether any is. A txid repeated within b is not a collision: its records
// are simply written twice, as one batch.
func (a *applier) findCollisions(db *pebbledb.DB, b *heistgraph.Block, c chainCode) (bool, error) {
	a.collided = slices.Grow(a.collided[:0], len(b.Txs))[:len(b.Txs)]
	hit := false
	f := a.txids[c]
	for i := range b.Txs {
		txid := b.Txs[i].TxID
		a.collided[i] = nil
		if _, ok := a.grp.txids[txid]; ok {
			a.collided[i] = []byte{} // never read: a run never holds a collision
			hit = true
			continue
		}
		if f != nil && !f.probe(txid, false) {
			f.add(txid)
			continue
		}
		a.key = appendTxKey(a.key[:0], c, txid)
		prev, found, err := lookup(db, a.key, nil)
		if err != nil {
			return false, fmt.Errorf("tx %d %s: %w", i, txid, err)
		}
		a.counts.txidLookups.Add(1)
		if found {
			a.counts.txidFound.Add(1)
			if prev == nil {
				prev = []byte{}
			}
			a.collided[i] = prev
			hit = true
		}
	}
	return hit, nil
}

// A txidFilter is a Bloom filter of the txids of one chain that this
// process applied, made when the process first applies a block of a chain
// with nothing stored: a txid it does not hold is not stored, without a
// lookup. A txid enters it before its run is committed, and a rewind only
// removes txs, which leaves the filter a superset: what it holds is looked
// up as before. Its probes are the txid's own bits (a double SHA-256), all
// in one block of 512 bits (a cache line: one miss a txid, where bits
// spread over the whole filter cost a miss each, as addrFilter's).
// It grows with the chain as addrFilter does (ingestfilter.go): n is the
// txids added since it was made or rebuilt.
type txidFilter struct {
	bits []uint64
	n    int
}

// add sets txid's bits.
func (f *txidFilter) add(txid heistgraph.Hash) {
	f.n++
	f.probe(txid, true)
}

// probe reports whether txid's bits are all set, or sets them.
func (f *txidFilter) probe(txid heistgraph.Hash, set bool) bool {
	blocks := uint64(len(f.bits) / 8)
	w := (binary.LittleEndian.Uint64(txid[:8]) >> 32) * blocks >> 32 * 8
	h := binary.LittleEndian.Uint64(txid[8:16])
	for i := range uint64(txidFilterProbes) {
		b := h >> (9 * i) & 511
		word, mask := w+b/64, uint64(1)<<(b%64)
		if set {
			f.bits[word] |= mask
		} else if f.bits[word]&mask == 0 {
			return false
		}
	}
	return true
}

// txidFilterProbes is the number of bits a txid sets. Four, not seven: at
// the five bits a txid the full chain's filter gets under --memory 24GiB
// (docs/scaling.md, "Branch mainnetmem") seven make about 17% of new txids
// false positives, four 11%; at the sixteen bits a filter grows at
// (filterBits) four hold 0.2%.
const txidFilterProbes = 4

// newTxidFilter gives chain c a filter of an eighth of the address ids
// cache's bytes (4 MiB by default: under 1% false positives up to about 3
// million txids, 0.9% measured at that load by TestTxidFilter), at most
// its part of Options.FilterBytes, or none when that cache is off. It
// grows with the chain (ingestfilter.go).
func (a *applier) newTxidFilter(c chainCode) {
	words := a.idBase / addrIDEntryBytes * txidFilterBytesPerID / 8
	if words <= 0 {
		return
	}
	if a.txids == nil {
		a.txids = map[chainCode]*txidFilter{}
	}
	_, most := filterWords(a.filterBytes)
	a.txids[c] = &txidFilter{bits: make([]uint64, firstWords(words, most))}
	a.counts.txidFilter.Add(8 * int64(len(a.txids[c].bits)))
}

// applyTx adds the tx at index i of b to batch.
func (a *applier) applyTx(db *pebbledb.DB, batch *sortedWrites, b *heistgraph.Block, c chainCode, i uint32, pending bool) error {
	tx := &b.Txs[i]
	h := b.Height
	if len(tx.Outputs) > 1<<31 || len(tx.Inputs) > 1<<31 {
		return fmt.Errorf("too many inputs or outputs: %w", heistgraph.ErrInvalid)
	}
	rec := &a.rec
	rec.WTxID, rec.Version, rec.LockTime = tx.WTxID, tx.Version, tx.LockTime
	rec.Size, rec.Weight, rec.Height, rec.Index = tx.Size, tx.Weight, h, i
	rec.NOut = uint32(len(tx.Outputs))
	rec.Inputs = rec.Inputs[:0]

	prev := a.collided[i]
	collided := prev != nil
	if collided {
		a.key = appendTxKey(a.key[:0], c, tx.TxID)
		a.keep(a.key, prev, true)
	}
	num, err := a.txNum(db, c, tx.TxID, prev)
	if err != nil {
		return err
	}
	rec.Num = num
	if collided {
		// The txid keeps its number: its d entry stays, and its record is
		// overwritten in place.
		a.key = appendTxNumKey(a.key[:0], c, num)
		if err := a.keepCurrent(db, a.key); err != nil {
			return err
		}
		a.key = appendTxRecKey(a.key[:0], c, num)
		if err := a.keepCurrent(db, a.key); err != nil {
			return err
		}
	}

	for vin := range tx.Inputs {
		in := &tx.Inputs[vin]
		ir := inputRecord{TxIn: *in}
		if !in.Coinbase {
			if err := a.applyInput(db, batch, c, h, i, tx.TxID, num, uint32(vin), &ir, collided); err != nil {
				return err
			}
		}
		rec.Inputs = append(rec.Inputs, ir)
	}

	var outSum int64
	outIDs := a.outIDs[:0]
	for n := range tx.Outputs {
		out := &tx.Outputs[n]
		op := heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)}
		outSum += out.Value
		var id uint64
		var p *packedAddr
		var pr *outPrep
		if out.Address != "" {
			pr = &a.outs[a.outAt+n]
			var err error
			if id, err = a.hashedAddrID(db, c, out.Address, pr, &a.staged[a.outAt+n]); err != nil {
				return err
			}
			p = a.packedOut(pr, out.Address)
		}
		outIDs = append(outIDs, id)
		a.key = appendOutputKey(a.key[:0], c, num, uint32(n))
		if collided {
			if err := a.keepCurrent(db, a.key); err != nil {
				return err
			}
		}
		a.val = appendOutputRecord(a.val[:0], out, h, id, p)
		if err := batch.Set(a.key, a.val, nil); err != nil {
			return err
		}
		u := utxo{Value: out.Value, Type: out.Type, Address: out.Address, ID: id, Num: num}
		if pr != nil {
			u.KH = pr.kh
		}
		a.grp.putOut(utxoKey{c, op}, u)
		if collided {
			// The stored output this one overwrites may be spent: its
			// spend markers stay, and so it gets no entry in the unspent
			// outputs (writeUnspent), as the table is built from the
			// markers (buildUnspent).
			spenders, err := spendersOfNum(db, c, num, uint32(n))
			if err != nil {
				return err
			}
			if len(spenders) > 0 {
				a.grp.out(utxoKey{c, op}).spent = true
			}
		}
		if out.Address != "" {
			a.key = appendEventKey(a.key[:0], c, id, eventPos{Height: h, TxIndex: i, Kind: heistgraph.Received, Index: uint32(n)})
			a.val = appendReceivedEvent(a.val[:0], num, out.Value)
			if err := batch.Set(a.key, a.val, nil); err != nil {
				return err
			}
			dl := a.deltas.get(id, out.Address)
			dl.kh, dl.hashed = pr.kh, true
			dl.received += out.Value
			dl.outputs++
			dl.ownTx(i)
		}
		if pending {
			a.key = appendOutpointKey(a.key[:0], prefixPending, c, op)
			_, found, err := lookup(db, a.key, nil)
			if err != nil {
				return err
			}
			if found {
				if err := a.backfill(db, batch, c, op, num, out); err != nil {
					return fmt.Errorf("resolve earlier spend of %s: %w", op, err)
				}
				// Spent by a stored block: it gets no entry in the
				// unspent outputs (writeUnspent).
				a.grp.out(utxoKey{c, op}).spent = true
			}
		}
	}
	rec.setFee(outSum)
	a.outAt += len(tx.Outputs)
	a.spendAt += len(tx.Inputs)
	a.outIDs = outIDs
	a.feed.tx(b, i, rec, collided, outIDs)
	a.key = appendTxRecKey(a.key[:0], c, num)
	a.val = appendTxRecord(a.val[:0], tx.TxID, rec)
	return batch.Set(a.key, a.val, nil)
}

// applyInput resolves a non-coinbase input (one point lookup unless its
// output was created earlier in the block) and writes its spend marker,
// pending marker or address event. collided reports that the tx is stored
// already (so its markers may exist).
func (a *applier) applyInput(db *pebbledb.DB, batch *sortedWrites, c chainCode, h int64, i uint32, txid heistgraph.Hash, num uint64, vin uint32, ir *inputRecord, collided bool) error {
	op := ir.PrevOut
	uk := utxoKey{c, op}
	sp := &a.spends[a.spendAt+int(vin)]
	a.spendInputs++
	// kh is the address's addrKeyHash when an output of the run or the
	// cache resolves the input (they carry it).
	var id, outNum, kh uint64
	cached := -1 // the place of the input's output in the cache, when the run cannot hold it
	if !a.grp.collided {
		cached = a.utxo.held(sp.place, &uk)
	}
	// unspent reports that the output has an entry in the unspent
	// outputs, which the spend deletes (unspent.go): an output of an
	// earlier run (the cache's, or the store's with an entry), or, when
	// the run repeats a stored txid, one of the run's (its key may name
	// the stored output's entry).
	unspent := false
	if lo, ok := a.utxo.takeAt(cached); ok {
		ir.Resolved, ir.Value, ir.Type, ir.Address, id, outNum, kh = true, lo.Value, lo.Type, lo.Address, lo.ID, lo.Num, lo.KH
		unspent = true
	} else if lo := a.grp.outHashed(sp.h, &uk); lo != nil {
		ir.Resolved, ir.Value, ir.Type, ir.Address, id, outNum, kh = true, lo.Value, lo.Type, lo.Address, lo.ID, lo.Num, lo.KH
		lo.spent = true
		unspent = a.grp.collided
	} else if lo, ok := a.utxo.takeAt(a.utxo.held(sp.place, &uk)); ok {
		ir.Resolved, ir.Value, ir.Type, ir.Address, id, outNum, kh = true, lo.Value, lo.Type, lo.Address, lo.ID, lo.Num, lo.KH
		unspent = true
	} else {
		a.spendReads++
		r, ok := a.ahead.take(spendSeq(a.runK, a.spendAt+int(vin)))
		if ok {
			a.aheadServed++
		} else {
			r = readSpent(db, &a.reads, a.addrReader(db, c), c, op)
		}
		if r.err != nil {
			return r.err
		}
		if r.txFound {
			outNum = r.num
		}
		if r.outFound {
			ir.Resolved, ir.Value, ir.Type, id, ir.Address = true, r.head.Value, r.head.Type, r.head.AddrID, r.addr
		}
		if r.unspent {
			kh, unspent = r.kh, true
			a.counts.unspentHits.Add(1)
		} else {
			a.counts.unspentMisses.Add(1)
		}
	}
	if unspent {
		if err := a.spendUnspent(batch, c, op); err != nil {
			return err
		}
	}

	if ir.Resolved && outNum == 0 {
		n, found, err := a.reads.txNum(db, c, op.TxID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("output %s stored without its tx: %w", op, errCorrupt)
		}
		outNum = n
	}
	if ir.Resolved {
		ir.PrevNum = outNum
		a.key = appendSpendsOfKey(a.key[:0], c, outNum, op.Vout, true)
	} else {
		a.key = appendPendingSpendsOfKey(a.key[:0], c, op)
	}
	a.key = appendSpender(a.key, num, vin)
	if collided {
		if err := a.keepCurrent(db, a.key); err != nil {
			return err
		}
	}
	if err := batch.Set(a.key, nil, nil); err != nil {
		return err
	}
	if !ir.Resolved {
		a.grp.pending = true
		a.key = appendOutpointKey(a.key[:0], prefixPending, c, op)
		if collided {
			if err := a.keepCurrent(db, a.key); err != nil {
				return err
			}
		}
		return batch.Set(a.key, nil, nil)
	}
	if ir.Address == "" && id == 0 {
		return nil
	}
	hashed := id != 0 && kh != 0
	if id == 0 {
		var err error
		if id, err = a.addrID(db, c, ir.Address); err != nil {
			return err
		}
	}
	if !hashed && ir.Address == "" {
		// An entry of the unspent outputs whose address hashes to 0: its
		// totals' key is made from the string.
		var err error
		if ir.Address, err = a.addrReader(db, c).addr(id); err != nil {
			return err
		}
	}
	ir.AddrID = id
	a.key = appendEventKey(a.key[:0], c, id, eventPos{Height: h, TxIndex: i, Kind: heistgraph.Spent, Index: vin})
	a.val = appendSpentEvent(a.val[:0], num, outNum, op.Vout, ir.Value)
	if err := batch.Set(a.key, a.val, nil); err != nil {
		return err
	}
	dl := a.deltas.get(id, ir.Address)
	if hashed {
		dl.kh, dl.hashed = kh, true
	}
	dl.sent += ir.Value
	dl.spends++
	dl.ownTx(i)
	return nil
}

// keepCurrent records key's current value (or absence) for the undo record.
func (a *applier) keepCurrent(db *pebbledb.DB, key []byte) error {
	prev, found, err := lookup(db, key, nil)
	if err != nil {
		return err
	}
	if found && prev == nil {
		prev = []byte{}
	}
	a.keep(key, prev, found)
	return nil
}

// backfill resolves the stored spends of op, an output the block creates
// that blocks applied earlier already spend.
func (a *applier) backfill(db *pebbledb.DB, batch *sortedWrites, c chainCode, op heistgraph.Outpoint, outNum uint64, out *heistgraph.TxOut) error {
	a.key2 = appendOutpointKey(a.key2[:0], prefixPending, c, op)
	if err := batch.Delete(a.key2, nil); err != nil {
		return err
	}
	spenders, err := pendingSpendersOf(db, c, op)
	if err != nil {
		return err
	}
	for _, sp := range spenders {
		// The output is stored now: the marker moves to the numbered form.
		a.key2 = appendSpender(appendPendingSpendsOfKey(a.key2[:0], c, op), sp.Num, sp.Vin)
		if err := batch.Delete(a.key2, nil); err != nil {
			return err
		}
		a.key2 = appendSpender(appendSpendsOfKey(a.key2[:0], c, outNum, op.Vout, true), sp.Num, sp.Vin)
		if err := batch.Set(a.key2, nil, nil); err != nil {
			return err
		}
		txid, err := txidOf(db, c, sp.Num)
		if err != nil {
			return err
		}
		if err := a.backfillSpend(db, batch, c, op, outNum, out, heistgraph.Inpoint{TxID: txid, Vin: sp.Vin}); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) backfillSpend(db *pebbledb.DB, batch *sortedWrites, c chainCode, op heistgraph.Outpoint, outNum uint64, out *heistgraph.TxOut, sp heistgraph.Inpoint) error {
	rec, err := loadSpender(db, a.spenders, c, sp.TxID, pointTxids(db, c))
	if err != nil {
		return err
	}
	if int(sp.Vin) >= len(rec.Inputs) {
		return fmt.Errorf("spender %s has no input %d: %w", sp.TxID, sp.Vin, errCorrupt)
	}
	ir := &rec.Inputs[sp.Vin]
	if ir.Resolved {
		return nil
	}
	ir.Resolved, ir.PrevNum, ir.Value, ir.Type, ir.Address = true, outNum, out.Value, out.Type, out.Address
	if out.Address == "" {
		return nil
	}
	id, err := a.addrID(db, c, out.Address)
	if err != nil {
		return err
	}
	ir.AddrID = id
	a.key2 = appendEventKey(a.key2[:0], c, id, eventPos{Height: rec.Height, TxIndex: rec.Index, Kind: heistgraph.Spent, Index: sp.Vin})
	a.val2 = appendSpentEvent(a.val2[:0], rec.Num, outNum, op.Vout, out.Value)
	if err := batch.Set(a.key2, a.val2, nil); err != nil {
		return err
	}
	hr, _, err := heightAt(db, c, rec.Height)
	if err != nil {
		return err
	}
	tk := touchKey{addr: out.Address, height: rec.Height, txIndex: rec.Index}
	newTx := false
	if !a.touched[tk] {
		a.touched[tk] = true
		has, err := hasEventsAt(db, c, id, rec.Height, rec.Index)
		if err != nil {
			return err
		}
		newTx = !has
	}
	dl := a.deltas.get(id, out.Address)
	dl.sent += out.Value
	dl.spends++
	if newTx {
		dl.txs++
	}
	dl.other(rec.Height, hr.Time)
	return nil
}

// loadSpender returns the tx record of txid from recs, reading it from r
// on first use.
func loadSpender(r pebbledb.Reader, recs map[heistgraph.Hash]*txRecord, c chainCode, txid heistgraph.Hash, txidOf func(uint64) (heistgraph.Hash, error)) (*txRecord, error) {
	if rec, ok := recs[txid]; ok {
		return rec, nil
	}
	rec := &txRecord{}
	found, err := readTxRecord(r, c, txid, rec, txidOf)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("spender %s not stored: %w", txid, errCorrupt)
	}
	recs[txid] = rec
	return rec, nil
}

// writeTotals merges the block's delta into each address's totals. The
// totals of an address the block gave its id to are its first: they are
// Set, not merged, which means the same (no key of a new id is stored,
// and the merge of one operand over none is that operand) and spares the
// compactions the merge operator: Pebble calls it for every merge operand
// a compaction meets until the compaction into the bottom level turns the
// key into a Set, once in each level for an address seen once, while a
// later block's operand over the Set becomes a Set in the first
// compaction that takes both.
func (a *applier) writeTotals(batch *sortedWrites, c chainCode, h, time int64) error {
	fresh := a.ids.givenFrom(c, a.idMark)
	for j, addr := range a.deltas.addrs {
		dl := &a.deltas.ds[j]
		t := totals{Received: dl.received, Sent: dl.sent, TxCount: dl.txs, OutputCount: dl.outputs, SpendCount: dl.spends}
		seen := false
		if dl.own {
			t.see(&seen, h, time)
		}
		if dl.minH >= 0 {
			t.see(&seen, dl.minH, dl.minT)
			t.see(&seen, dl.maxH, dl.maxT)
		}
		if dl.id == 0 {
			return fmt.Errorf("address %q: no id: %w", addr, errCorrupt)
		}
		t.ID = dl.id
		if dl.hashed {
			a.key = appendHashedAddressKey(a.key[:0], c, dl.kh, dl.id)
		} else {
			a.key = appendAddressKey(a.key[:0], c, addr, dl.id)
		}
		a.val = appendTotals(a.val[:0], &t)
		write := batch.Merge
		if dl.id >= fresh {
			write = batch.Set
		}
		if err := write(a.key, a.val, nil); err != nil {
			return err
		}
	}
	return nil
}

// see widens t's first and last seen to an event at height (block time
// tm). seen is false for totals without events yet.
func (t *totals) see(seen *bool, height, tm int64) {
	if !*seen {
		t.FirstHeight, t.FirstTime, t.LastHeight, t.LastTime = height, tm, height, tm
		*seen = true
		return
	}
	if height < t.FirstHeight {
		t.FirstHeight, t.FirstTime = height, tm
	}
	if height > t.LastHeight {
		t.LastHeight, t.LastTime = height, tm
	}
}

// hasKeys reports whether one table of chain c holds any key.
func hasKeys(r pebbledb.Reader, prefix byte, c chainCode) (bool, error) {
	lo, hi := tableBounds(prefix, c)
	return hasRange(r, lo, hi)
}

// hasEventsAt reports whether the address with id id has events in the tx
// at (height, txIndex).
func hasEventsAt(r pebbledb.Reader, c chainCode, id uint64, height int64, txIndex uint32) (bool, error) {
	lo := appendU32(appendU64(appendEventPrefix(nil, c, id), uint64(height)), txIndex)
	return hasRange(r, lo, prefixEnd(lo))
}

func hasRange(r pebbledb.Reader, lo, hi []byte) (bool, error) {
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return false, err
	}
	ok := it.First()
	if err := it.Error(); err != nil {
		it.Close()
		return false, err
	}
	return ok, it.Close()
}
