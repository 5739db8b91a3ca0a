package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// The unspent outputs table (U, schema 12), the store's chainstate:
//
//	U + chain + txid(32) + vout(be32) -> uvarint(tx number) varint(value) script type
//	                                     uvarint(address id) [be64 addrKeyHash, with an id]
//
// one entry for each stored output that no stored input spends, holding
// what resolving a spend of it needs (applyInput): the number of its tx,
// its value, script type, address id and the addrKeyHash of its address
// (the key of the address's totals, addrkey.go). A spend the output cache
// and the run cannot resolve reads it in one point lookup, keyed by what
// the input names (its outpoint), instead of three into the big tables
// (the txid index, the outputs and the address table: readSpent). Only
// the UTXO set is kept (the full chain's is about a seventh of its
// outputs), so its blocks stay in the block cache far better than the
// txid index's or the outputs'.
//
// It is derived state, never shown: Digest and Dump leave it out, and
// every path that changes the outputs or their spends keeps it in step.
// A run writes the outputs that survive it (those one of its own inputs
// spends never reach the table: writeUnspent) and deletes the outputs of
// earlier runs its inputs spend, in its own batch or ingested tables
// (whose point tombstones Pebble applies as a batch's); a tx whose txid is
// stored already (the collided path) keeps its outputs' entries in the
// block's undo record; a rewind deletes the entries of the outputs a
// removed block made and puts back those of the outputs it spent that no
// other stored input spends (rewind.go); a store of schema 11 gets the
// table built from its outputs and spend markers when it is opened
// (migrateUnspent). An input whose output the table does not hold (one
// not stored, or spent already: conflicting data) is resolved by the
// three reads as before, so the table's content never changes what a
// block means, only what resolving it costs.
const prefixUnspent byte = 'U'

// appendUnspentKey appends the key of op's entry.
func appendUnspentKey(dst []byte, c chainCode, op heistgraph.Outpoint) []byte {
	return appendOutpointKey(dst, prefixUnspent, c, op)
}

// appendUnspent appends the entry of the output u.
func appendUnspent(dst []byte, u *utxo) []byte {
	dst = appendUvarint(dst, u.Num)
	dst = appendVarint(dst, u.Value)
	dst = appendScriptType(dst, u.Type)
	dst = appendUvarint(dst, u.ID)
	if u.ID != 0 {
		dst = binary.BigEndian.AppendUint64(dst, u.KH)
	}
	return dst
}

// decodeUnspent decodes an entry (the address string left empty).
func decodeUnspent(v []byte) (utxo, error) {
	r := reader{b: v}
	u := utxo{Num: r.uvarint(), Value: r.varint(), Type: r.scriptType(), ID: r.uvarint()}
	if u.ID != 0 {
		if len(r.b) != 8 {
			return utxo{}, fmt.Errorf("unspent output entry: %w", errCorrupt)
		}
		u.KH = binary.BigEndian.Uint64(r.b)
		r.b = nil
	}
	if err := r.done("unspent output entry"); err != nil {
		return utxo{}, err
	}
	return u, nil
}

// unspentOf is the entry of the output with number num and index vout of
// txid, whose record is v: the address's string is read through ys for
// its hash.
func unspentOf(v []byte, num uint64, ys *addrReader) (utxo, error) {
	head, err := decodeOutputHead(v)
	if err != nil {
		return utxo{}, err
	}
	u := utxo{Num: num, Value: head.Value, Type: head.Type, ID: head.AddrID}
	if u.ID != 0 {
		addr, err := ys.addr(u.ID)
		if err != nil {
			return utxo{}, err
		}
		u.KH = addrKeyHash(addr)
	}
	return u, nil
}

// unspent returns the entry of op (found false: none), as the run's
// reads see the table.
func (r *runReads) unspent(db pebbledb.Reader, c chainCode, op heistgraph.Outpoint) (u utxo, found bool, err error) {
	it, err := r.iter(db, c, prefixUnspent, &r.unspents)
	if err != nil {
		return utxo{}, false, err
	}
	// The key is its own prefix (splitKey): the seek finds it or nothing,
	// and skips the files whose Bloom filters rule it out.
	r.key = appendUnspentKey(r.key[:0], c, op)
	if !it.SeekPrefixGE(r.key) {
		return utxo{}, false, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return utxo{}, false, err
	}
	if u, err = decodeUnspent(v); err != nil {
		return utxo{}, false, fmt.Errorf("output %s: %w", op, err)
	}
	return u, true, nil
}

// writeUnspent writes the entries of the run's outputs that none of its
// inputs spent (they stay unspent when the run is committed).
func (a *applier) writeUnspent() error {
	for i := range a.grp.outList {
		o := &a.grp.outList[i]
		if o.o.spent {
			continue
		}
		a.key = appendUnspentKey(a.key[:0], o.k.c, o.k.op)
		a.val = appendUnspent(a.val[:0], &o.o)
		if err := a.w.Set(a.key, a.val, nil); err != nil {
			return err
		}
	}
	return nil
}

// spendUnspent deletes the entry of op, spent by an input of the run.
func (a *applier) spendUnspent(batch *sortedWrites, c chainCode, op heistgraph.Outpoint) error {
	a.key = appendUnspentKey(a.key[:0], c, op)
	return batch.Delete(a.key, nil)
}

// buildUnspent calls emit with the key and value of every entry the
// unspent outputs of chain c should hold, as r's outputs and spend
// markers say: each stored output without a spend marker. The entries
// come in the outputs' order (by tx number), not the table's.
func buildUnspent(r pebbledb.Reader, c chainCode, emit func(k, v []byte) error) (err error) {
	var its [3]*pebbledb.Iterator
	defer func() {
		for _, it := range its {
			if it != nil {
				err = errors.Join(err, it.Close())
			}
		}
	}()
	for i, p := range []byte{prefixOutput, prefixTxNum, prefixSpend} {
		lo, hi := tableBounds(p, c)
		if its[i], err = r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
			return err
		}
	}
	outs, nums, spends := its[0], its[1], its[2]
	ys := newAddrIter(r, c)
	defer func() { err = errors.Join(err, ys.Close()) }()
	var (
		num     uint64
		txid    heistgraph.Hash
		haveNum bool
		key, sk []byte
		val     []byte
	)
	for ok := outs.First(); ok; ok = outs.Next() {
		k := outs.Key()
		n, w := decodeOrdered(k[3:])
		if w == 0 || len(k) != 3+w+4 {
			return fmt.Errorf("output key %x: %w", k, errCorrupt)
		}
		vout := binary.BigEndian.Uint32(k[3+w:])
		if !haveNum || n != num {
			num, haveNum = n, true
			key = appendTxNumKey(key[:0], c, n)
			if !nums.SeekGE(key) || !bytes.Equal(nums.Key(), key) || len(nums.Value()) != 32 {
				return errors.Join(fmt.Errorf("output of tx number %d: no txid: %w", n, errCorrupt), nums.Error())
			}
			copy(txid[:], nums.Value())
		}
		sk = appendSpendsOfKey(sk[:0], c, n, vout, true)
		if spends.SeekGE(sk) && bytes.HasPrefix(spends.Key(), sk) {
			continue // spent
		}
		if err := spends.Error(); err != nil {
			return err
		}
		v, err := outs.ValueAndErr()
		if err != nil {
			return err
		}
		e, err := unspentOf(v, n, ys)
		if err != nil {
			return fmt.Errorf("output %d:%d: %w", n, vout, err)
		}
		key = appendUnspentKey(key[:0], c, heistgraph.Outpoint{TxID: txid, Vout: vout})
		val = appendUnspent(val[:0], &e)
		if err := emit(key, val); err != nil {
			return err
		}
	}
	return outs.Error()
}

// unspentFrom is the schema version whose stores Open migrates to this
// one by building the unspent outputs (migrateUnspent).
const unspentFrom = 11

// migrateUnspent builds the unspent outputs of every chain of a store of
// schema unspentFrom and then sets its version to this one. The table is
// emptied first and the version written last (synced), so that a process
// killed in between leaves a store of the older version, which the next
// open migrates again.
func (d *DB) migrateUnspent() error {
	b := d.db.NewBatch()
	defer func() { b.Close() }()
	if err := b.DeleteRange([]byte{prefixUnspent}, []byte{prefixUnspent + 1}, nil); err != nil {
		return err
	}
	for _, c := range d.chains {
		err := buildUnspent(d.db, c, func(k, v []byte) error {
			if err := b.Set(k, v, nil); err != nil {
				return err
			}
			if b.Len() < migrateBatchBytes {
				return nil
			}
			if err := b.Commit(pebbledb.NoSync); err != nil {
				return err
			}
			b.Close()
			b = d.db.NewBatch()
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate to schema %d: build the unspent outputs: %w", schemaVersion, err)
		}
	}
	if err := b.Set(metaVersionKey, appendUvarint(nil, schemaVersion), nil); err != nil {
		return err
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("migrate to schema %d: %w", schemaVersion, err)
	}
	d.migratedFrom = unspentFrom
	return nil
}

// migrateBatchBytes is the size of the batches migrateUnspent commits.
const migrateBatchBytes = 4 << 20

// MigratedFrom returns the schema version the store had before Open
// migrated it (0: none was needed).
func (d *DB) MigratedFrom() int { return d.migratedFrom }

// verifyUnspent checks that chain c's unspent outputs in r are what its
// outputs and spend markers say (buildUnspent): every entry they call for
// is there with its value, and there are no others. It reads every
// output, and the table once per entry (Check).
func verifyUnspent(r pebbledb.Reader, c chainCode) error {
	var want int64
	var got []byte
	err := buildUnspent(r, c, func(k, v []byte) error {
		want++
		var found bool
		var err error
		if got, found, err = lookup(r, k, got[:0]); err != nil {
			return err
		}
		if !found || !bytes.Equal(got, v) {
			return fmt.Errorf("unspent outputs: entry %x is %x (found %v), want %x: %w", k, got, found, v, errCorrupt)
		}
		return nil
	})
	if err != nil {
		return err
	}
	lo, hi := tableBounds(prefixUnspent, c)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("unspent outputs: %d entries, the outputs and spend markers call for %d: %w", n, want, errCorrupt)
	}
	return nil
}
