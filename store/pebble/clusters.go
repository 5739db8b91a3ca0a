package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.Clusters    = (*DB)(nil)
	_ store.ClusterRuns = (*DB)(nil)
)

// Cluster sub-tables: the byte after c + chain (schema.go).
const (
	clusterAddr     byte = 'a' // addr -> id, where not the store's own (clusteraddr.go)
	clusterBlock    byte = 'b' // height -> hash, first address id
	clusterEvidence byte = 'e' // height, tx index, n -> evidence
	clusterID       byte = 'i' // id -> addr
	clusterMember   byte = 'm' // id -> cluster id
	clusterOverride byte = 'o' // seq -> override
	clusterSize     byte = 's' // cluster id -> size
	clusterState    byte = 't' // -> next address id, next override, flags
	clusterPending  byte = 'w' // -> the caller's snapshot of pending work
	clusterIndex    byte = 'x' // id, height, tx index, n -> (empty)
)

func appendClusterTable(dst []byte, c chainCode, sub byte) []byte {
	return append(appendTable(dst, prefixCluster, c), sub)
}

func clusterTableBounds(c chainCode, sub byte) (lo, hi []byte) {
	lo = appendClusterTable(nil, c, sub)
	return lo, prefixEnd(lo)
}

func clusterIDKey(dst []byte, c chainCode, sub byte, id uint64) []byte {
	return appendU64(appendClusterTable(dst, c, sub), id)
}

func clusterAddrKey(dst []byte, c chainCode, addr string) []byte {
	return appendAddr(appendClusterTable(dst, c, clusterAddr), addr)
}

func appendEvidencePos(dst []byte, height int64, txIndex, n uint32) []byte {
	return appendU32(appendU32(appendU64(dst, uint64(height)), txIndex), n)
}

// evidencePosLen is the length of an encoded evidence position.
const evidencePosLen = 8 + 4 + 4

func decodeEvidencePos(b []byte) (height int64, txIndex, n uint32) {
	return int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
}

// clusterState is the value of the state key.
type clusterStateRecord struct {
	nextAddr, nextOverride uint64
	needsRebuild           bool
}

func appendClusterState(dst []byte, s clusterStateRecord) []byte {
	dst = appendUvarint(dst, s.nextAddr)
	dst = appendUvarint(dst, s.nextOverride)
	if s.needsRebuild {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func decodeClusterState(v []byte) (clusterStateRecord, error) {
	r := reader{b: v}
	s := clusterStateRecord{nextAddr: r.uvarint(), nextOverride: r.uvarint(), needsRebuild: r.byte() == 1}
	return s, r.done("cluster state")
}

func appendEvidenceRecord(dst []byte, e *heistgraph.ClusterEvidence) []byte {
	dst = append(dst, e.TxID[:]...)
	dst = appendString(dst, e.Heuristic)
	dst = appendUvarint(dst, uint64(len(e.Votes)))
	for _, v := range e.Votes {
		dst = appendString(dst, v)
	}
	flags := byte(0)
	if e.Soft {
		flags = 1
	}
	dst = append(dst, flags, byte(e.Status))
	dst = appendString(dst, e.Reason)
	dst = appendUvarint(dst, uint64(len(e.AddrIDs)))
	for _, id := range e.AddrIDs {
		dst = appendUvarint(dst, id)
	}
	return dst
}

func decodeEvidenceRecord(pos, v []byte) (heistgraph.ClusterEvidence, error) {
	var e heistgraph.ClusterEvidence
	e.Height, e.TxIndex, e.N = decodeEvidencePos(pos)
	r := reader{b: v}
	e.TxID = r.hash()
	e.Heuristic = r.str()
	if n := r.uvarint(); n > uint64(len(r.b)) {
		r.fail()
	} else if n > 0 {
		e.Votes = make([]string, n)
		for i := range e.Votes {
			e.Votes[i] = r.str()
		}
	}
	e.Soft = r.byte() == 1
	e.Status = heistgraph.EvidenceStatus(r.byte())
	e.Reason = r.str()
	if n := r.uvarint(); n <= uint64(len(r.b)) {
		e.AddrIDs = make([]uint64, n)
		for i := range e.AddrIDs {
			e.AddrIDs[i] = r.uvarint()
		}
	} else {
		r.fail()
	}
	return e, r.done("cluster evidence")
}

func appendOverrideRecord(dst []byte, o *heistgraph.ClusterOverride) []byte {
	dst = appendString(dst, o.Kind)
	dst = appendUvarint(dst, uint64(len(o.Addresses)))
	for _, a := range o.Addresses {
		dst = appendString(dst, a)
	}
	dst = appendString(dst, o.By)
	dst = appendString(dst, o.Why)
	dst = appendVarint(dst, o.Time)
	return appendVarint(dst, o.Height)
}

func decodeOverrideRecord(seq uint64, v []byte) (heistgraph.ClusterOverride, error) {
	o := heistgraph.ClusterOverride{Seq: seq}
	r := reader{b: v}
	o.Kind = r.str()
	if n := r.uvarint(); n <= uint64(len(r.b)) {
		o.Addresses = make([]string, n)
		for i := range o.Addresses {
			o.Addresses[i] = r.str()
		}
	} else {
		r.fail()
	}
	o.By, o.Why = r.str(), r.str()
	o.Time, o.Height = r.varint(), r.varint()
	return o, r.done("cluster override")
}

// clusterTipOf reads the state and the last block record of chain code c.
func clusterTipOf(r pebbledb.Reader, c chainCode) (store.ClusterTip, bool, error) {
	v, found, err := lookup(r, appendClusterTable(nil, c, clusterState), nil)
	if err != nil || !found {
		return store.ClusterTip{}, false, err
	}
	st, err := decodeClusterState(v)
	if err != nil {
		return store.ClusterTip{}, false, err
	}
	tip := store.ClusterTip{NextAddr: st.nextAddr, NextOverride: st.nextOverride, NeedsRebuild: st.needsRebuild}
	tip.Block.Height = -1
	lo, hi := clusterTableBounds(c, clusterBlock)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return store.ClusterTip{}, false, err
	}
	defer it.Close()
	if it.Last() {
		b, err := decodeClusterBlock(it.Key()[len(lo):], it.Value())
		if err != nil {
			return store.ClusterTip{}, false, err
		}
		tip.Block = b
	}
	return tip, true, it.Error()
}

func decodeClusterBlock(k, v []byte) (heistgraph.ClusterBlock, error) {
	if len(k) != 8 || len(v) < 33 {
		return heistgraph.ClusterBlock{}, fmt.Errorf("cluster block: %w", errCorrupt)
	}
	b := heistgraph.ClusterBlock{Height: int64(binary.BigEndian.Uint64(k))}
	copy(b.Hash[:], v)
	r := reader{b: v[32:]}
	b.FirstAddr = r.uvarint()
	return b, r.done("cluster block")
}

// ClusterTip implements store.Clusters.
func (d *DB) ClusterTip(ctx context.Context, chain heistgraph.Chain) (store.ClusterTip, error) {
	c, err := d.readCode(chain, "cluster tip")
	if err != nil {
		return store.ClusterTip{}, err
	}
	tip, found, err := clusterTipOf(d.db, c)
	if err != nil {
		return store.ClusterTip{}, fmt.Errorf("cluster tip of %s: %w", chain, err)
	}
	if !found {
		return store.ClusterTip{}, fmt.Errorf("cluster tip of %s: nothing clustered: %w", chain, heistgraph.ErrNotFound)
	}
	return tip, nil
}

// ClusterBlock implements store.Clusters.
func (d *DB) ClusterBlock(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.ClusterBlock, error) {
	c, err := d.readCode(chain, "cluster block")
	if err != nil {
		return heistgraph.ClusterBlock{}, err
	}
	if height < 0 {
		return heistgraph.ClusterBlock{}, fmt.Errorf("cluster block %d of %s: %w", height, chain, heistgraph.ErrNotFound)
	}
	k := clusterIDKey(nil, c, clusterBlock, uint64(height))
	v, found, err := lookup(d.db, k, nil)
	if err != nil {
		return heistgraph.ClusterBlock{}, fmt.Errorf("cluster block %d of %s: %w", height, chain, err)
	}
	if !found {
		return heistgraph.ClusterBlock{}, fmt.Errorf("cluster block %d of %s: %w", height, chain, heistgraph.ErrNotFound)
	}
	return decodeClusterBlock(k[len(k)-8:], v)
}

// WriteClusters implements store.Clusters.
func (d *DB) WriteClusters(ctx context.Context, chain heistgraph.Chain, cb *store.ClusterBatch) error {
	if cb == nil {
		return fmt.Errorf("write clusters of %s: nil batch: %w", chain, heistgraph.ErrInvalid)
	}
	c, err := d.readCode(chain, "write clusters")
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.clusterMu.Lock()
	defer d.clusterMu.Unlock()
	r, err := d.newClusterRun(chain, c)
	if err != nil {
		return err
	}
	if err := r.add(cb); err != nil {
		return err
	}
	return r.commitLocked(ctx)
}

// clusterRun gathers clustering batches into one key-sorted Pebble batch
// (sortbatch.go): WriteClusters commits one, a store.ClusterRun many.
type clusterRun struct {
	d     *DB
	chain heistgraph.Chain
	c     chainCode
	// base is the state at the last commit, st the state with the
	// batches added since; tip the height of the last block added.
	base, st clusterStateRecord
	baseTip  int64
	tip      int64
	found    bool
	w        clusterWrites
	batches  int
	// ingest lets a large commit write sstables and ingest them
	// (clusteringest.go): a store.ClusterRun's commits.
	ingest bool
	// written holds the address ids of the evidence records added since
	// the last commit, by position: a record replaced within the run
	// drops the index entries of the one added before it.
	written posIDs
	// key and val are add's buffers.
	key, val []byte
	// stored is the height of the last evidence record stored (-1: none),
	// known once storedOK: a record above it replaces none stored, so add
	// need not look for one (every record of a run that rebuilds).
	stored   int64
	storedOK bool
}

// lastEvidence returns the height of the chain's last stored evidence
// record, -1 when there is none.
func lastEvidence(r pebbledb.Reader, c chainCode) (int64, error) {
	lo, hi := clusterTableBounds(c, clusterEvidence)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	h := int64(-1)
	if it.Last() {
		if pos := it.Key()[len(lo):]; len(pos) == evidencePosLen {
			h, _, _ = decodeEvidencePos(pos)
		} else {
			h = 1<<63 - 1 // unreadable: look every record up
		}
	}
	return h, errors.Join(it.Error(), it.Close())
}

// newClusterRun starts a run at the chain's stored clustering state.
func (d *DB) newClusterRun(chain heistgraph.Chain, c chainCode) (*clusterRun, error) {
	tip, found, err := clusterTipOf(d.db, c)
	if err != nil {
		return nil, fmt.Errorf("write clusters of %s: %w", chain, err)
	}
	r := &clusterRun{d: d, chain: chain, c: c, found: found, tip: -1}
	r.st = clusterStateRecord{nextAddr: 1, nextOverride: 1}
	if found {
		r.st = clusterStateRecord{nextAddr: tip.NextAddr, nextOverride: tip.NextOverride, needsRebuild: tip.NeedsRebuild}
		r.tip = tip.Block.Height
	}
	r.base, r.baseTip = r.st, r.tip
	return r, nil
}

// add validates cb against the run's state and adds its writes; nothing
// is added when it is malformed.
func (r *clusterRun) add(cb *store.ClusterBatch) error {
	chain, c, st := r.chain, r.c, r.st
	if blk := cb.Block; blk != nil {
		switch {
		case blk.Height < 0:
			return fmt.Errorf("write clusters of %s: block height %d: %w", chain, blk.Height, heistgraph.ErrInvalid)
		case r.tip >= 0 && blk.Height <= r.tip:
			return fmt.Errorf("write clusters of %s: block %d after tip %d: %w", chain, blk.Height, r.tip, heistgraph.ErrConflict)
		case blk.FirstAddr != st.nextAddr:
			return fmt.Errorf("write clusters of %s: block %d gives out address ids from %d, the next is %d: %w", chain, blk.Height, blk.FirstAddr, st.nextAddr, heistgraph.ErrConflict)
		}
	}
	// Validate everything before adding anything.
	next := st.nextAddr
	for _, a := range cb.NewAddresses {
		if a == "" {
			return fmt.Errorf("write clusters of %s: empty address: %w", chain, heistgraph.ErrInvalid)
		}
		next++
	}
	valid := func(id uint64) bool { return id >= 1 && id < next }
	for _, m := range cb.Members {
		if !valid(m.AddrID) || !valid(m.ClusterID) {
			return fmt.Errorf("write clusters of %s: address %d in cluster %d: ids out of range [1, %d): %w", chain, m.AddrID, m.ClusterID, next, heistgraph.ErrInvalid)
		}
	}
	for _, s := range cb.Sizes {
		if !valid(s.ClusterID) || s.Size < 0 {
			return fmt.Errorf("write clusters of %s: size %d of cluster %d: %w", chain, s.Size, s.ClusterID, heistgraph.ErrInvalid)
		}
	}
	for i := range cb.Evidence {
		e := &cb.Evidence[i]
		if e.Height < 0 {
			return fmt.Errorf("write clusters of %s: evidence at height %d: %w", chain, e.Height, heistgraph.ErrInvalid)
		}
		for _, id := range e.AddrIDs {
			if !valid(id) {
				return fmt.Errorf("write clusters of %s: evidence names address %d, not given out: %w", chain, id, heistgraph.ErrInvalid)
			}
		}
	}
	nextOverride := st.nextOverride
	for i := range cb.Overrides {
		o := &cb.Overrides[i]
		if o.Seq != nextOverride {
			return fmt.Errorf("write clusters of %s: override %d, the next is %d: %w", chain, o.Seq, nextOverride, heistgraph.ErrConflict)
		}
		if (o.Kind != heistgraph.OverrideMerge && o.Kind != heistgraph.OverrideSplit) || len(o.Addresses) == 0 {
			return fmt.Errorf("write clusters of %s: override %q of %d addresses: %w", chain, o.Kind, len(o.Addresses), heistgraph.ErrInvalid)
		}
		nextOverride++
	}
	// The replaced evidence records (read before anything is added).
	type replaced struct {
		pos evidencePosKey
		ids []uint64
	}
	var old []replaced
	key, val := r.key[:0], r.val[:0]
	if len(cb.Evidence) > 0 && !r.storedOK {
		h, err := lastEvidence(r.d.db, c)
		if err != nil {
			return err
		}
		r.stored, r.storedOK = h, true
	}
	for i := range cb.Evidence {
		e := &cb.Evidence[i]
		p := evidencePosKey{uint64(e.Height), e.TxIndex, e.N}
		if ids, ok := r.written.get(p); ok {
			old = append(old, replaced{p, ids})
			continue
		}
		if e.Height > r.stored {
			continue // above every stored record
		}
		pos := appendEvidencePos(key[:0], e.Height, e.TxIndex, e.N)
		ek := append(appendClusterTable(val[:0], c, clusterEvidence), pos...)
		v, found, err := lookup(r.d.db, ek, nil)
		if err != nil {
			return err
		}
		if found {
			oe, err := decodeEvidenceRecord(pos, v)
			if err != nil {
				return err
			}
			old = append(old, replaced{p, oe.AddrIDs})
		}
	}

	w := &r.w
	w.take()
	for k, a := range cb.NewAddresses {
		// The caller met the address by the store's id it gets.
		named := k < len(cb.NewAddressIDs) && cb.NewAddressIDs[k] == st.nextAddr
		w.address(st.nextAddr, a, named)
		st.nextAddr++
	}
	w.members = slices.Grow(w.members, len(cb.Members))
	for _, m := range cb.Members {
		w.members.add(m.AddrID, m.ClusterID, false)
	}
	w.sizes = slices.Grow(w.sizes, len(cb.Sizes))
	for _, s := range cb.Sizes {
		w.sizes.add(s.ClusterID, uint64(s.Size), s.Size == 0)
	}
	// A replaced record's index entries go first.
	for _, o := range old {
		for _, id := range o.ids {
			w.index = append(w.index, indexWrite{id: id, pos: o.pos, seq: uint32(len(w.index)), del: true})
		}
	}
	for i := range cb.Evidence {
		e := &cb.Evidence[i]
		key = append(appendClusterTable(key[:0], c, clusterEvidence), 0)
		key = appendEvidencePos(key[:len(key)-1], e.Height, e.TxIndex, e.N)
		val = appendEvidenceRecord(val[:0], e)
		w.low.add(opSet, key, val)
		p := evidencePosKey{uint64(e.Height), e.TxIndex, e.N}
		for _, id := range e.AddrIDs {
			w.index = append(w.index, indexWrite{id: id, pos: p, seq: uint32(len(w.index))})
		}
		r.written.put(p, e.AddrIDs)
	}
	for i := range cb.Overrides {
		o := &cb.Overrides[i]
		st.nextOverride++
		key = clusterIDKey(key[:0], c, clusterOverride, o.Seq)
		val = appendOverrideRecord(val[:0], o)
		w.mid.add(opSet, key, val)
	}
	if blk := cb.Block; blk != nil {
		key = clusterIDKey(key[:0], c, clusterBlock, uint64(blk.Height))
		val = appendUvarint(append(val[:0], blk.Hash[:]...), blk.FirstAddr)
		w.low.add(opSet, key, val)
		r.tip = blk.Height
	}
	if cb.Pending != nil {
		w.high.add(opSet, appendClusterTable(key[:0], c, clusterPending), cb.Pending)
	}
	if cb.Rebuilt {
		st.needsRebuild = false
	}
	if cb.NeedsRebuild {
		st.needsRebuild = true
	}
	r.key, r.val = key, val
	r.st = st
	r.batches++
	return nil
}

// size is about the bytes of the Pebble batch the run makes.
func (r *clusterRun) size() int { return r.w.size() }

// commitLocked writes the batches added since the last commit, and the
// state, in one atomic batch; d.clusterMu is held. The stored state must
// still be the run's: another writer in between wraps ErrConflict.
func (r *clusterRun) commitLocked(ctx context.Context) error {
	if r.batches == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tip, found, err := clusterTipOf(r.d.db, r.c)
	if err != nil {
		return fmt.Errorf("write clusters of %s: %w", r.chain, err)
	}
	now := clusterStateRecord{nextAddr: 1, nextOverride: 1}
	h := int64(-1)
	if found {
		now = clusterStateRecord{nextAddr: tip.NextAddr, nextOverride: tip.NextOverride, needsRebuild: tip.NeedsRebuild}
		h = tip.Block.Height
	}
	if now != r.base || h != r.baseTip {
		return fmt.Errorf("write clusters of %s: the clustering changed under the run: %w", r.chain, heistgraph.ErrConflict)
	}
	r.w.high.add(opSet, appendClusterTable(nil, r.c, clusterState), appendClusterState(nil, r.st))
	fresh, err := r.d.addrKeptFrom(r.c)
	if err != nil {
		return fmt.Errorf("write clusters of %s: %w", r.chain, err)
	}
	if size := r.size(); r.ingest && size >= clusterIngestMin {
		t := r.d.newTableSink()
		if err := r.w.writeTo(t, r.d.db, r.c, fresh); err != nil {
			t.discard()
			return err
		}
		if err := stampClusters(t, r.c); err != nil {
			t.discard()
			return err
		}
		if err := t.ingest(ctx); err != nil {
			return fmt.Errorf("write clusters of %s: ingest: %w", r.chain, err)
		}
	} else {
		pb := r.d.db.NewBatchWithSize(size)
		defer pb.Close()
		if err := r.w.writeTo(pb, r.d.db, r.c, fresh); err != nil {
			return err
		}
		if err := stampClusters(pb, r.c); err != nil {
			return err
		}
		if err := r.d.commit(pb); err != nil {
			return fmt.Errorf("write clusters of %s: commit: %w", r.chain, err)
		}
	}
	r.base, r.baseTip = r.st, r.tip
	r.batches = 0
	r.w.giveBack()
	r.written.reset()
	r.storedOK = false // the records just committed are stored now
	return nil
}

// ClusterRun implements store.ClusterRuns: the run commits when its
// writes pass half a memtable, the size from which Pebble hands a batch
// to the flush as it is instead of inserting its keys into the memtable.
// A commit of at least clusterIngestMin bytes is written as sstables and
// ingested instead (clusteringest.go).
func (d *DB) ClusterRun(ctx context.Context, chain heistgraph.Chain) (store.ClusterRun, error) {
	c, err := d.readCode(chain, "write clusters")
	if err != nil {
		return nil, err
	}
	d.clusterMu.Lock()
	defer d.clusterMu.Unlock()
	r, err := d.newClusterRun(chain, c)
	if err != nil {
		return nil, err
	}
	if err := d.removeIngestLeftovers(ingestPrefix); err != nil {
		return nil, fmt.Errorf("write clusters of %s: %w", chain, err)
	}
	r.ingest = true
	// The buffers grow with the run (a follower's run is a block or two)
	// and are reused after each commit.
	return &pebbleClusterRun{r: r, limit: int(d.opts.MemTableSize/2) + 1<<20}, nil
}

type pebbleClusterRun struct {
	r     *clusterRun
	limit int
}

func (p *pebbleClusterRun) Add(ctx context.Context, cb *store.ClusterBatch) (bool, error) {
	if cb == nil {
		return false, fmt.Errorf("write clusters of %s: nil batch: %w", p.r.chain, heistgraph.ErrInvalid)
	}
	if err := p.r.add(cb); err != nil {
		return false, err
	}
	if p.r.size() < p.limit {
		return false, nil
	}
	return true, p.Commit(ctx)
}

func (p *pebbleClusterRun) Commit(ctx context.Context) error {
	p.r.d.clusterMu.Lock()
	defer p.r.d.clusterMu.Unlock()
	return p.r.commitLocked(ctx)
}

func (p *pebbleClusterRun) Pending() int { return p.r.batches }

// RewindClusters implements store.Clusters.
func (d *DB) RewindClusters(ctx context.Context, chain heistgraph.Chain, height int64) error {
	if height < -1 {
		return fmt.Errorf("rewind clusters of %s to %d: %w", chain, height, heistgraph.ErrInvalid)
	}
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return err
	}
	d.clusterMu.Lock()
	defer d.clusterMu.Unlock()
	tip, found, err := clusterTipOf(d.db, c)
	if err != nil {
		return fmt.Errorf("rewind clusters of %s: %w", chain, err)
	}
	if !found || tip.Block.Height <= height {
		return nil
	}
	// The first block above height gives the first address id to remove.
	blo, bhi := clusterTableBounds(c, clusterBlock)
	first := tip.NextAddr
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: clusterIDKey(nil, c, clusterBlock, uint64(height+1)), UpperBound: bhi})
	if err != nil {
		return err
	}
	if it.First() {
		blk, err := decodeClusterBlock(it.Key()[len(blo):], it.Value())
		if err != nil {
			it.Close()
			return err
		}
		first = blk.FirstAddr
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	// Blocks above height.
	if err := b.DeleteRange(clusterIDKey(nil, c, clusterBlock, uint64(height+1)), bhi, nil); err != nil {
		return err
	}
	// Evidence above height, and its index entries (all of them when
	// every block goes).
	elo, ehi := clusterTableBounds(c, clusterEvidence)
	from := appendU64(append([]byte(nil), elo...), uint64(height+1))
	if height >= 0 {
		if err := d.deleteEvidenceIndex(ctx, b, c, from, ehi); err != nil {
			return err
		}
	} else if err := b.DeleteRange(clusterIDKey(nil, c, clusterIndex, 0), prefixEnd(appendClusterTable(nil, c, clusterIndex)), nil); err != nil {
		return err
	}
	if err := b.DeleteRange(from, ehi, nil); err != nil {
		return err
	}
	// Addresses from first on: their strings, ids, memberships, clusters
	// and index entries.
	if first <= 1 {
		alo, ahi := clusterTableBounds(c, clusterAddr)
		if err := b.DeleteRange(alo, ahi, nil); err != nil {
			return err
		}
	} else {
		_, ihi := clusterTableBounds(c, clusterID)
		it, err = d.db.NewIter(&pebbledb.IterOptions{LowerBound: clusterIDKey(nil, c, clusterID, first), UpperBound: ihi})
		if err != nil {
			return err
		}
		for valid := it.First(); valid; valid = it.Next() {
			if err := b.Delete(clusterAddrKey(nil, c, string(it.Value())), nil); err != nil {
				it.Close()
				return err
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
	}
	for _, sub := range []byte{clusterID, clusterMember, clusterIndex} {
		_, hi := clusterTableBounds(c, sub)
		if err := b.DeleteRange(clusterIDKey(nil, c, sub, first), hi, nil); err != nil {
			return err
		}
	}
	// Every cluster size: the rebuild writes them again.
	slo, shi := clusterTableBounds(c, clusterSize)
	if err := b.DeleteRange(slo, shi, nil); err != nil {
		return err
	}
	if err := b.Delete(appendClusterTable(nil, c, clusterPending), nil); err != nil {
		return err
	}
	st := clusterStateRecord{nextAddr: first, nextOverride: tip.NextOverride, needsRebuild: true}
	if err := b.Set(appendClusterTable(nil, c, clusterState), appendClusterState(nil, st), nil); err != nil {
		return err
	}
	if err := stampClusters(b, c); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.commit(b); err != nil {
		return fmt.Errorf("rewind clusters of %s: commit: %w", chain, err)
	}
	if first <= 1 && height < 0 {
		return d.exciseClusters(ctx, chain, c)
	}
	return nil
}

// exciseClusters removes from the LSM the tables a rewind of everything
// deleted (all but the overrides and the state), now that they hold only
// range deletions and the data those cover. Pebble's Excise drops whole
// files and cuts the ones on the edges into virtual tables: the old
// clustering is never read back, merged or rewritten by the compactions
// of the run that rebuilds it. The deletions are committed already, so
// stopping anywhere here changes nothing anyone reads.
func (d *DB) exciseClusters(ctx context.Context, chain heistgraph.Chain, c chainCode) error {
	spans := [][2]byte{{clusterAddr, clusterOverride}, {clusterSize, clusterState}, {clusterPending, clusterIndex + 1}}
	for _, s := range spans {
		lo := appendClusterTable(nil, c, s[0])
		hi := appendClusterTable(nil, c, s[1])
		err := d.guard(func() error { return d.db.Excise(ctx, pebbledb.KeyRange{Start: lo, End: hi}) })
		d.writes.Add(1)
		if err != nil {
			return fmt.Errorf("rewind clusters of %s: excise: %w", chain, err)
		}
	}
	return nil
}

// deleteEvidenceIndex adds to b the deletion of the index entries of the
// evidence records in [from, to).
func (d *DB) deleteEvidenceIndex(ctx context.Context, b *pebbledb.Batch, c chainCode, from, to []byte) error {
	elo, _ := clusterTableBounds(c, clusterEvidence)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: from, UpperBound: to})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if err := ctx.Err(); err != nil {
			it.Close()
			return err
		}
		pos := it.Key()[len(elo):]
		e, err := decodeEvidenceRecord(pos, it.Value())
		if err != nil {
			it.Close()
			return err
		}
		for _, id := range e.AddrIDs {
			if err := b.Delete(append(clusterIDKey(nil, c, clusterIndex, id), pos...), nil); err != nil {
				it.Close()
				return err
			}
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// AddressCluster implements store.Clusters.
func (d *DB) AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	c, err := d.readCode(chain, "cluster of "+addr)
	if err != nil {
		return store.ClusterMember{}, err
	}
	id, found, err := clusterAddrID(d.db, c, addr, func() (uint64, error) { return d.clusterNext(c) })
	if err != nil {
		return store.ClusterMember{}, fmt.Errorf("cluster of %s on %s: %w", addr, chain, err)
	}
	if !found {
		return store.ClusterMember{}, fmt.Errorf("cluster of %s on %s: %w", addr, chain, heistgraph.ErrNotFound)
	}
	var kb [64]byte
	v, found, err := lookup(d.db, clusterIDKey(kb[:0], c, clusterMember, id), nil)
	if err != nil {
		return store.ClusterMember{}, fmt.Errorf("cluster of %s on %s: %w", addr, chain, err)
	}
	m := store.ClusterMember{AddrID: id, ClusterID: id, Address: addr}
	if found {
		var n int
		if m.ClusterID, n = binary.Uvarint(v); n <= 0 {
			return store.ClusterMember{}, fmt.Errorf("cluster of %s on %s: %w", addr, chain, errCorrupt)
		}
	}
	return m, nil
}

// ClusterAddress implements store.Clusters.
func (d *DB) ClusterAddress(ctx context.Context, chain heistgraph.Chain, id uint64) (string, error) {
	c, err := d.readCode(chain, fmt.Sprintf("address %d", id))
	if err != nil {
		return "", err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	addr, found, err := clusterAddress(snap, c, id)
	if err != nil {
		return "", fmt.Errorf("address %d on %s: %w", id, chain, err)
	}
	if !found {
		return "", fmt.Errorf("address %d on %s: %w", id, chain, heistgraph.ErrNotFound)
	}
	return addr, nil
}

// ClusterSize implements store.Clusters. Clusters of one address have no
// size record: an address that is its own cluster has size 1.
func (d *DB) ClusterSize(ctx context.Context, chain heistgraph.Chain, id uint64) (int64, error) {
	c, err := d.readCode(chain, fmt.Sprintf("cluster %d", id))
	if err != nil {
		return 0, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	v, found, err := lookup(snap, clusterIDKey(nil, c, clusterSize, id), nil)
	if err != nil {
		return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, err)
	}
	if !found {
		_, isAddr, err := lookup(snap, clusterIDKey(nil, c, clusterID, id), nil)
		if err != nil {
			return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, err)
		}
		if !isAddr {
			next, err := clusterNextAddr(snap, c)
			if err != nil {
				return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, err)
			}
			isAddr = id > 0 && id < next
		}
		m, moved, err := lookup(snap, clusterIDKey(nil, c, clusterMember, id), nil)
		if err != nil {
			return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, err)
		}
		if cid, _ := binary.Uvarint(m); isAddr && (!moved || cid == id) {
			return 1, nil
		}
		return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, heistgraph.ErrNotFound)
	}
	n, k := binary.Uvarint(v)
	if k <= 0 {
		return 0, fmt.Errorf("cluster %d on %s: %w", id, chain, errCorrupt)
	}
	return int64(n), nil
}

// Memberships implements store.Clusters. An address without a membership
// record is its own cluster.
func (d *DB) Memberships(ctx context.Context, chain heistgraph.Chain) iter.Seq2[store.ClusterMember, error] {
	return func(yield func(store.ClusterMember, error) bool) {
		fail := func(err error) { yield(store.ClusterMember{}, fmt.Errorf("memberships of %s: %w", chain, err)) }
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			return
		}
		snap := d.db.NewSnapshot()
		defer snap.Close()
		ilo, ihi := clusterTableBounds(c, clusterID)
		mlo, mhi := clusterTableBounds(c, clusterMember)
		ids, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: ilo, UpperBound: ihi})
		if err != nil {
			fail(err)
			return
		}
		defer ids.Close()
		mem, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: mlo, UpperBound: mhi})
		if err != nil {
			fail(err)
			return
		}
		defer mem.Close()
		// The ids the id table leaves out are named by the store's
		// address table (clusteraddr.go).
		next, err := clusterNextAddr(snap, c)
		if err != nil {
			fail(err)
			return
		}
		ylo, yhi := tableBounds(prefixAddrByID, c)
		ys, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: ylo, UpperBound: yhi})
		if err != nil {
			fail(err)
			return
		}
		defer ys.Close()
		mok := mem.First()
		iok := ids.First()
		var ykey []byte
		for id := uint64(1); id < next; id++ {
			if id&1023 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			m := store.ClusterMember{AddrID: id, ClusterID: id}
			if iok && len(ids.Key()) != len(ilo)+8 {
				fail(errCorrupt)
				return
			}
			if iok && binary.BigEndian.Uint64(ids.Key()[len(ilo):]) == id {
				m.Address = string(ids.Value())
				iok = ids.Next()
			} else {
				ykey = appendAddrByIDKey(ykey[:0], c, id)
				if !seekForward(ys, ykey) || !bytes.Equal(ys.Key(), ykey) {
					fail(errors.Join(ys.Error(), fmt.Errorf("address id %d: in neither the cluster id table nor the address table: %w", id, errCorrupt)))
					return
				}
				e, err := decodeAddrEntry(ys.Value())
				if err != nil {
					fail(fmt.Errorf("address id %d: %w", id, err))
					return
				}
				m.Address = e.s
			}
			for mok && binary.BigEndian.Uint64(mem.Key()[len(mlo):]) < m.AddrID {
				mok = mem.Next()
			}
			if mok && binary.BigEndian.Uint64(mem.Key()[len(mlo):]) == m.AddrID {
				cid, k := binary.Uvarint(mem.Value())
				if k <= 0 {
					fail(errCorrupt)
					return
				}
				m.ClusterID = cid
			}
			if !yield(m, nil) {
				return
			}
		}
		if iok {
			fail(fmt.Errorf("cluster id table: entries at and past the next id %d: %w", next, errCorrupt))
			return
		}
		if err := errors.Join(ids.Error(), mem.Error()); err != nil {
			fail(err)
		}
	}
}

// Evidence implements store.Clusters.
func (d *DB) Evidence(ctx context.Context, chain heistgraph.Chain, q store.EvidenceQuery) iter.Seq2[heistgraph.ClusterEvidence, error] {
	return func(yield func(heistgraph.ClusterEvidence, error) bool) {
		fail := func(err error) { yield(heistgraph.ClusterEvidence{}, fmt.Errorf("evidence of %s: %w", chain, err)) }
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			return
		}
		from := max(q.FromHeight, 0)
		elo, _ := clusterTableBounds(c, clusterEvidence)
		var lo, hi []byte
		if q.Addr == 0 {
			lo, hi = clusterTableBounds(c, clusterEvidence)
		} else {
			lo = clusterIDKey(nil, c, clusterIndex, q.Addr)
			hi = prefixEnd(lo)
		}
		plen := len(lo)
		lo = appendU64(append([]byte(nil), lo...), uint64(from))
		snap := d.db.NewSnapshot()
		defer snap.Close()
		it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		var kb, vb []byte
		n := 0
		for valid := it.First(); valid; valid = it.Next() {
			if n++; n&255 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			pos := it.Key()[plen:]
			if len(pos) != evidencePosLen {
				fail(errCorrupt)
				return
			}
			v := it.Value()
			if q.Addr != 0 {
				kb = append(append(kb[:0], elo...), pos...)
				var found bool
				if vb, found, err = lookup(snap, kb, vb[:0]); err != nil {
					fail(err)
					return
				} else if !found {
					fail(errCorrupt)
					return
				}
				v = vb
			}
			e, err := decodeEvidenceRecord(pos, v)
			if err != nil {
				fail(err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}

// Overrides implements store.Clusters.
func (d *DB) Overrides(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.ClusterOverride, error] {
	return func(yield func(heistgraph.ClusterOverride, error) bool) {
		fail := func(err error) { yield(heistgraph.ClusterOverride{}, fmt.Errorf("overrides of %s: %w", chain, err)) }
		c, ok, err := d.code(chain)
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			return
		}
		lo, hi := clusterTableBounds(c, clusterOverride)
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		for valid := it.First(); valid; valid = it.Next() {
			k := it.Key()[len(lo):]
			if len(k) != 8 {
				fail(errCorrupt)
				return
			}
			o, err := decodeOverrideRecord(binary.BigEndian.Uint64(k), it.Value())
			if err != nil {
				fail(err)
				return
			}
			if !yield(o, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}

// ClusterPending implements store.Clusters.
func (d *DB) ClusterPending(ctx context.Context, chain heistgraph.Chain) ([]byte, error) {
	c, err := d.readCode(chain, "pending clustering")
	if err != nil {
		return nil, err
	}
	v, found, err := lookup(d.db, appendClusterTable(nil, c, clusterPending), nil)
	if err != nil {
		return nil, fmt.Errorf("pending clustering of %s: %w", chain, err)
	}
	if !found {
		return nil, fmt.Errorf("pending clustering of %s: %w", chain, heistgraph.ErrNotFound)
	}
	return v, nil
}

// evidencePosKey is an evidence position as its key orders it.
type evidencePosKey struct {
	height     uint64
	txIndex, n uint32
}

func (p evidencePosKey) compare(q evidencePosKey) int {
	if c := cmp.Compare(p.height, q.height); c != 0 {
		return c
	}
	if c := cmp.Compare(p.txIndex, q.txIndex); c != 0 {
		return c
	}
	return cmp.Compare(p.n, q.n)
}

// posIDs maps evidence positions to address ids, as a map would, kept as
// a list in position order: a run adds its records in position order
// (block after block, a block's in order), so an add appends and a lookup
// of a new record's position (above the last) is one comparison; a
// position below the last (a record replaced, rare) is found by a binary
// search.
type posIDs struct {
	pos []evidencePosKey
	ids [][]uint64
}

// get returns the ids put at p; false when none were.
func (w *posIDs) get(p evidencePosKey) ([]uint64, bool) {
	if n := len(w.pos); n == 0 || w.pos[n-1].compare(p) < 0 {
		return nil, false
	}
	if i, found := slices.BinarySearchFunc(w.pos, p, evidencePosKey.compare); found {
		return w.ids[i], true
	}
	return nil, false
}

// put sets the ids at p, replacing any put before.
func (w *posIDs) put(p evidencePosKey, ids []uint64) {
	if n := len(w.pos); n == 0 || w.pos[n-1].compare(p) < 0 {
		w.pos, w.ids = append(w.pos, p), append(w.ids, ids)
		return
	}
	i, found := slices.BinarySearchFunc(w.pos, p, evidencePosKey.compare)
	if found {
		w.ids[i] = ids
		return
	}
	w.pos, w.ids = slices.Insert(w.pos, i, p), slices.Insert(w.ids, i, ids)
}

// reset removes every position.
func (w *posIDs) reset() {
	clear(w.ids)
	w.pos, w.ids = w.pos[:0], w.ids[:0]
}

// clusterWrites holds a run's writes table by table until the commit, which
// hands them to a Pebble batch in key order: the tables a run writes most
// (addresses both ways, memberships, sizes, the evidence index) are kept as
// values and put in order by sorts of their own (ids and positions compared
// as integers; the address table by the encoded keys), the others
// (blocks, evidence records, overrides, state, pending work) as encoded
// writes sorted by key (sortedWrites). Several writes to one key keep
// only the last, which is what the batch would leave.
type clusterWrites struct {
	// addrs holds the new addresses' key suffixes (appendAddr) back to
	// back, addrAt where each suffix and its address start and addrEnd
	// where each ends; the i-th has id firstAddr+i. named[i] reports that
	// the block records the caller clustered named the i-th by the store's
	// id firstAddr+i (store.ClusterBatch.NewAddressIDs).
	addrs     []byte
	addrAt    [][2]uint32
	addrEnd   []uint32
	named     []bool
	firstAddr uint64
	members   idWrites // clusterMember: address id -> cluster id
	sizes     idWrites // clusterSize: cluster id -> size, or deleted
	index     []indexWrite
	// low holds the tables between the address table and the id table
	// (blocks, evidence), mid the overrides, high state and pending work.
	low, mid, high sortedWrites
	// order is writeTo's buffer for sorting the addresses; own its
	// answers of which new ids are the store's own (clusteraddr.go).
	order []addrOrder
	own   []bool
	keys  []uint64 // idOrder's buffer, reused
	bytes int
}

// writeOverhead is what size counts for a write besides its key and value.
const writeOverhead = 16

// idKeyLen is the length of a cluster key ending in an id (clusterIDKey).
const idKeyLen = 3 + 1 + 8

// address adds the new address addr with id; named reports that the
// caller met it by the store's id id.
func (w *clusterWrites) address(id uint64, addr string, named bool) {
	if len(w.addrEnd) == 0 {
		w.firstAddr = id
	}
	n := len(w.addrs)
	w.addrs = appendAddr(w.addrs, addr)
	w.addrAt = append(w.addrAt, [2]uint32{uint32(n), uint32(len(w.addrs) - len(addr))})
	w.addrEnd = append(w.addrEnd, uint32(len(w.addrs)))
	w.named = append(w.named, named)
	w.bytes += 2*(len(w.addrs)-n+writeOverhead) + idKeyLen + 3 + 3
}

// addr returns the key suffix of the i-th new address and the address.
func (w *clusterWrites) addr(i int) (suffix, addr []byte) {
	at, end := w.addrAt[i], w.addrEnd[i]
	return w.addrs[at[0]:end], w.addrs[at[1]:end]
}

// addrOrder sorts the new addresses by their keys: the first 16 bytes of
// the suffix as integers, then the rest.
type addrOrder struct {
	hi, lo uint64
	i      uint32
}

type idWrite struct {
	id, v uint64
	seq   uint32
	del   bool
}

// idWrites are the writes of a table keyed by an id, in the order given.
type idWrites []idWrite

func (w *idWrites) add(id, v uint64, del bool) {
	*w = append(*w, idWrite{id: id, v: v, seq: uint32(len(*w)), del: del})
}

// sorted sorts w by id, keeping the order given among the writes of one
// id, and returns the last write of each id.
func (w idWrites) sorted() idWrites {
	slices.SortFunc(w, func(a, b idWrite) int {
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := w[:0]
	for i := range w {
		if i+1 < len(w) && w[i+1].id == w[i].id {
			continue
		}
		out = append(out, w[i])
	}
	return out
}

// idOrder sorts the n writes whose ids id gives, the order given kept among
// one id's writes, as the integers id<<32 | i (w.keys, reused): a sort of
// integers, cheaper than sorting the writes by a comparison of their
// fields. false when an id or n does not fit in 32 bits (the caller sorts
// the writes).
func (w *clusterWrites) idOrder(n int, id func(i int) uint64) ([]uint64, bool) {
	keys := w.keys[:0]
	defer func() { w.keys = keys[:0] }()
	if n >= 1<<32 {
		return keys, false
	}
	for i := range n {
		x := id(i)
		if x >= 1<<32 {
			return keys, false
		}
		keys = append(keys, x<<32|uint64(i))
	}
	slices.Sort(keys)
	return keys, true
}

// sortedIndex sorts the index writes by id, position and seq (the order
// given) and returns them. They come in position order but for a replaced
// record's deletions, so they are sorted by id and seq as integers
// (idOrder), and only an id whose writes are then out of position order
// is sorted again by position.
func (w *clusterWrites) sortedIndex() []indexWrite {
	byFields := func(a, b indexWrite) int {
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		if c := a.pos.compare(b.pos); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	}
	out := w.index
	order, ok := w.idOrder(len(out), func(i int) uint64 { return out[i].id })
	if !ok {
		slices.SortFunc(out, byFields)
		return out
	}
	permute(out, order)
	for i := 0; i < len(out); {
		j, inOrder := i+1, true
		for ; j < len(out) && out[j].id == out[i].id; j++ {
			inOrder = inOrder && out[j-1].pos.compare(out[j].pos) <= 0
		}
		if !inOrder {
			slices.SortFunc(out[i:j], byFields)
		}
		i = j
	}
	return out
}

// permute puts a[uint32(order[k])] at a[k] for every k, in place, following
// the permutation's cycles; it leaves order's low 32 bits k.
func permute[T any](a []T, order []uint64) {
	const low = 1<<32 - 1
	for i := range order {
		if int(order[i]&low) == i {
			continue
		}
		tmp, j := a[i], i
		for {
			src := int(order[j] & low)
			order[j] = order[j]&^low | uint64(j)
			if src == i {
				a[j] = tmp
				break
			}
			a[j] = a[src]
			j = src
		}
	}
}

// indexWrite is a write of the evidence index: address id, position.
type indexWrite struct {
	id  uint64
	pos evidencePosKey
	seq uint32
	del bool
}

func (w *clusterWrites) size() int {
	return w.bytes + (len(w.members)+len(w.sizes))*(idKeyLen+3+writeOverhead) +
		len(w.index)*(idKeyLen+evidencePosLen+writeOverhead) +
		len(w.low.buf) + len(w.mid.buf) + len(w.high.buf) +
		writeOverhead*(len(w.low.ops)+len(w.mid.ops)+len(w.high.ops))
}

// writeTo adds the writes to b in key order, chain code c's tables, and
// empties w; db is the store the writes go to (its address ids decide
// which addresses the address table keeps), and every id from fresh on
// still names in db's totals the address it was given to (addrKeptFrom):
// a new address named by its id is its own without reading them.
func (w *clusterWrites) writeTo(b kvSink, db pebbledb.Reader, c chainCode, fresh uint64) error {
	var key []byte
	if err := w.addressesTo(b, db, c, fresh); err != nil {
		return err
	}
	if err := writeSorted(b, &w.low); err != nil {
		return err
	}
	// id -> addr, in id order already, where the store's address table
	// does not name the address under the id (clusteraddr.go).
	for i := range w.addrEnd {
		if w.own[i] {
			continue
		}
		_, addr := w.addr(i)
		if err := b.Set(clusterIDKey(key[:0], c, clusterID, w.firstAddr+uint64(i)), addr, nil); err != nil {
			return err
		}
	}
	if err := w.writeIDs(b, c, clusterMember, w.members); err != nil {
		return err
	}
	if err := writeSorted(b, &w.mid); err != nil {
		return err
	}
	if err := w.writeIDs(b, c, clusterSize, w.sizes); err != nil {
		return err
	}
	if err := writeSorted(b, &w.high); err != nil {
		return err
	}
	index := w.sortedIndex()
	for i, x := range index {
		if i+1 < len(index) && index[i+1].id == x.id && index[i+1].pos == x.pos {
			continue
		}
		key = appendU32(appendU32(appendU64(clusterIDKey(key[:0], c, clusterIndex, x.id), x.pos.height), x.pos.txIndex), x.pos.n)
		var err error
		if x.del {
			err = b.Delete(key, nil)
		} else {
			err = b.Set(key, nil, nil)
		}
		if err != nil {
			return err
		}
	}
	w.reset()
	return nil
}

// addressesTo adds the writes of the address table (addr -> id where the
// id is not the store's own: addrExceptions) to b in key order, and sets
// w.own; ids from fresh on are kept (addrKeptFrom).
func (w *clusterWrites) addressesTo(b kvSink, db pebbledb.Reader, c chainCode, fresh uint64) error {
	if len(w.addrEnd) == 0 {
		return nil
	}
	var key, val []byte
	ax := newAddrExceptions(db, c)
	defer ax.close()
	w.own = slices.Grow(w.own[:0], len(w.addrEnd))[:len(w.addrEnd)]
	if w.ownAll(fresh) {
		// Every new address keeps its own id: the address table is
		// written only to delete earlier ids, and an empty one has none.
		empty, err := ax.tableEmpty()
		if err != nil || empty {
			for i := range w.own {
				w.own[i] = true
			}
			return errors.Join(err, ax.close())
		}
	}
	order := w.order[:0]
	for i := range w.addrEnd {
		suffix, _ := w.addr(i)
		var pad [16]byte
		copy(pad[:], suffix)
		order = append(order, addrOrder{binary.BigEndian.Uint64(pad[:8]), binary.BigEndian.Uint64(pad[8:]), uint32(i)})
	}
	slices.SortFunc(order, func(x, y addrOrder) int {
		if c := cmp.Compare(x.hi, y.hi); c != 0 {
			return c
		}
		if c := cmp.Compare(x.lo, y.lo); c != 0 {
			return c
		}
		sx, _ := w.addr(int(x.i))
		sy, _ := w.addr(int(y.i))
		if c := bytes.Compare(sx, sy); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	w.order = order
	for k, o := range order {
		suffix, _ := w.addr(int(o.i))
		id := w.firstAddr + uint64(o.i)
		var own, stored bool
		var err error
		if w.named[o.i] && id >= fresh {
			own = true
			stored, err = ax.stored(suffix)
		} else {
			own, stored, err = ax.check(suffix, id)
		}
		if err != nil {
			return err
		}
		w.own[o.i] = own
		if k+1 < len(order) && order[k+1].hi == o.hi && order[k+1].lo == o.lo {
			if next, _ := w.addr(int(order[k+1].i)); bytes.Equal(next, suffix) {
				continue // the same address given again: the last id stands
			}
		}
		key = append(appendClusterTable(key[:0], c, clusterAddr), suffix...)
		switch {
		case !own:
			err = b.Set(key, appendUvarint(val[:0], id), nil)
		case stored:
			err = b.Delete(key, nil) // an earlier id of the address
		}
		if err != nil {
			return err
		}
	}
	return ax.close()
}

// ownAll reports whether every new address is named by its own id, one
// kept from fresh on.
func (w *clusterWrites) ownAll(fresh uint64) bool {
	for i, named := range w.named {
		if !named || w.firstAddr+uint64(i) < fresh {
			return false
		}
	}
	return true
}

// writeSorted adds the writes of s to b in key order and empties s. When b
// is not a batch (a tableSink, which keeps the last of the writes of one
// key) they are handed to it as sorted (stably: the writes of one key in
// the order made), without a batch of their own to sort and read back.
func writeSorted(b kvSink, s *sortedWrites) error {
	if pb, ok := b.(*pebbledb.Batch); ok {
		return s.writeTo(pb)
	}
	defer s.reset()
	buf := s.buf
	for _, o := range s.sort() {
		k, v := buf[o.key:o.val], buf[o.val:o.end]
		var err error
		switch o.kind {
		case opSet:
			err = b.Set(k, v, nil)
		case opDelete:
			err = b.Delete(k, nil)
		default:
			err = fmt.Errorf("cluster write of kind %d: %w", o.kind, errCorrupt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeIDs adds the last write of each id of ws (idWrites.sorted) to b, in
// id order, as table sub's.
func (w *clusterWrites) writeIDs(b kvSink, c chainCode, sub byte, ws idWrites) error {
	var key, val []byte
	order, ok := w.idOrder(len(ws), func(i int) uint64 { return ws[i].id })
	if !ok {
		ws = ws.sorted()
		order = order[:0]
		for i := range ws {
			order = append(order, uint64(i))
		}
	}
	for k, o := range order {
		if k+1 < len(order) && order[k+1]>>32 == o>>32 && ok {
			continue // a later write of the same id
		}
		x := &ws[uint32(o)]
		key = clusterIDKey(key[:0], c, sub, x.id)
		var err error
		if x.del {
			err = b.Delete(key, nil)
		} else {
			err = b.Set(key, appendUvarint(val[:0], x.v), nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// spareWrites holds the emptied buffers of the last committed run's
// writes, which the next run to add takes (take) instead of growing its
// own from nothing: a clustering beside an ingest starts a run at every
// catch-up, and each grew its slices to a commit's size by doubling them,
// copying what they held at every step. One run's buffers at most are
// kept (half a memtable and 1 MiB, which Options.Memory counts).
var spareWrites struct {
	sync.Mutex
	w clusterWrites
}

// take swaps w, when it holds no writes, with the spare buffers when
// they have more room.
func (w *clusterWrites) take() {
	if !w.empty() {
		return
	}
	spareWrites.Lock()
	if cap(spareWrites.w.addrs) > cap(w.addrs) {
		*w, spareWrites.w = spareWrites.w, *w
	}
	spareWrites.Unlock()
}

// empty reports whether w holds no writes.
func (w *clusterWrites) empty() bool {
	return len(w.addrEnd)+len(w.members)+len(w.sizes)+len(w.index)+
		len(w.low.ops)+len(w.low.runs)+len(w.mid.ops)+len(w.mid.runs)+len(w.high.ops)+len(w.high.runs) == 0
}

// giveBack leaves w's buffers, emptied, to the next run that takes them.
func (w *clusterWrites) giveBack() {
	w.reset()
	spareWrites.Lock()
	spareWrites.w, *w = *w, clusterWrites{}
	spareWrites.Unlock()
}

func (w *clusterWrites) reset() {
	w.addrs, w.addrAt, w.addrEnd, w.named = w.addrs[:0], w.addrAt[:0], w.addrEnd[:0], w.named[:0]
	w.members, w.sizes, w.index = w.members[:0], w.sizes[:0], w.index[:0]
	w.low.reset()
	w.mid.reset()
	w.high.reset()
	w.bytes = 0
}
