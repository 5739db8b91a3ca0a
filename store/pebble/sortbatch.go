package pebble

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// sortedWrites collects a run's writes and hands them to a Pebble batch in
// key order. Pebble inserts a batch into its memtable (a skiplist) one key
// at a time, starting each search from where the previous key went: keys in
// order make each insert a shorter step than a descent from the top of a
// skiplist of a few hundred thousand keys (the memtable inserts were a third
// of ingest's CPU with the writes in the block's order). Several writes to
// one key (a tx record written again when a later tx of the block resolves
// its spend, merge operands) keep their order and their meaning. A batch
// past Pebble's large-batch threshold skips the memtable (it is flushed as
// it is, after Pebble sorts it): sorted, that sort is one pass.
type sortedWrites struct {
	buf []byte
	ops []writeOp
}

// writeOp is one write: buf[key:val] is the key, buf[val:end] the value;
// pre is the key's first 8 bytes, big-endian (zeros past a shorter key),
// which orders most pairs of keys without reading buf.
type writeOp struct {
	pre           uint64
	kind          byte
	key, val, end uint32
}

const (
	opSet byte = iota
	opMerge
	opDelete
)

func (w *sortedWrites) reset() {
	w.buf = w.buf[:0]
	w.ops = w.ops[:0]
}

func (w *sortedWrites) add(kind byte, key, val []byte) {
	o := writeOp{kind: kind, key: uint32(len(w.buf))}
	w.buf = append(w.buf, key...)
	o.val = uint32(len(w.buf))
	w.buf = append(w.buf, val...)
	o.end = uint32(len(w.buf))
	var pre [8]byte
	copy(pre[:], key)
	o.pre = binary.BigEndian.Uint64(pre[:])
	w.ops = append(w.ops, o)
}

// Set, Merge and Delete match the methods of *pebbledb.Batch they stand in
// for; they copy key and value.
func (w *sortedWrites) Set(key, val []byte, _ *pebbledb.WriteOptions) error {
	w.add(opSet, key, val)
	return nil
}

func (w *sortedWrites) Merge(key, val []byte, _ *pebbledb.WriteOptions) error {
	w.add(opMerge, key, val)
	return nil
}

func (w *sortedWrites) Delete(key []byte, _ *pebbledb.WriteOptions) error {
	w.add(opDelete, key, nil)
	return nil
}

// writeTo adds the writes to b in key order (stable) and empties w. When b
// is empty, its contents are set to the writes, encoded in one pass in
// Pebble's batch format (batchrepr: a 12-byte header, then per write its
// kind, the key and, but for a deletion, the value, each after its
// uvarint length), instead of a Set, Merge or Delete call each; otherwise
// each write is added by its call.
func (w *sortedWrites) writeTo(b *pebbledb.Batch) error {
	buf := w.buf
	w.sort()
	if !b.Empty() {
		// b holds other writes (clustering's tables written apart):
		// SetRepr would replace them, so add the writes one by one.
		for _, o := range w.ops {
			k, v := buf[o.key:o.val], buf[o.val:o.end]
			var err error
			switch o.kind {
			case opSet:
				err = b.Set(k, v, nil)
			case opMerge:
				err = b.Merge(k, v, nil)
			default:
				err = b.Delete(k, nil)
			}
			if err != nil {
				return err
			}
		}
		w.reset()
		return nil
	}
	if len(w.ops) > math.MaxUint32 {
		return fmt.Errorf("batch of %d writes: %w", len(w.ops), heistgraph.ErrInvalid)
	}
	n := batchHeaderLen + len(buf) + len(w.ops)*(1+2*binary.MaxVarintLen32)
	repr := make([]byte, batchHeaderLen, n)
	binary.LittleEndian.PutUint32(repr[8:batchHeaderLen], uint32(len(w.ops)))
	for _, o := range w.ops {
		switch o.kind {
		case opSet:
			repr = append(repr, byte(pebbledb.InternalKeyKindSet))
		case opMerge:
			repr = append(repr, byte(pebbledb.InternalKeyKindMerge))
		default:
			repr = append(repr, byte(pebbledb.InternalKeyKindDelete))
		}
		repr = binary.AppendUvarint(repr, uint64(o.val-o.key))
		repr = append(repr, buf[o.key:o.val]...)
		if o.kind != opDelete {
			repr = binary.AppendUvarint(repr, uint64(o.end-o.val))
			repr = append(repr, buf[o.val:o.end]...)
		}
	}
	w.reset()
	return b.SetRepr(repr)
}

// sort puts the writes in key order, writes to one key in the order they
// were made.
func (w *sortedWrites) sort() {
	buf := w.buf
	// Offsets grow with the order of writing: they break ties, which
	// makes the order total and an unstable sort (pdqsort, several times
	// faster than a stable merge sort here) keep writes to one key in order.
	slices.SortFunc(w.ops, func(x, y writeOp) int {
		if x.pre != y.pre {
			return cmp.Compare(x.pre, y.pre)
		}
		if c := bytes.Compare(buf[x.key:x.val], buf[y.key:y.val]); c != 0 {
			return c
		}
		return cmp.Compare(x.key, y.key)
	})
}

// sinkTo hands the writes to t in key order and empties w: a key written
// once goes to t as it is, without a copy or a comparison with the key
// before it (the sort ordered them).
func (w *sortedWrites) sinkTo(t *tableSink) error {
	w.sort()
	buf, ops := w.buf, w.ops
	for i := 0; i < len(ops); {
		o := ops[i]
		key := buf[o.key:o.val]
		j := i + 1
		for j < len(ops) && ops[j].pre == o.pre && bytes.Equal(buf[ops[j].key:ops[j].val], key) {
			j++
		}
		if j == i+1 {
			if err := t.one(o.kind, key, buf[o.val:o.end]); err != nil {
				return err
			}
		} else {
			for _, o := range ops[i:j] {
				if err := t.add(o.kind, buf[o.key:o.val], buf[o.val:o.end]); err != nil {
					return err
				}
			}
		}
		i = j
	}
	w.reset()
	return nil
}

// batchHeaderLen is the length of a Pebble batch's header: the sequence
// number (8 bytes, set on commit) and the count of writes (4 bytes, little
// endian).
const batchHeaderLen = 12
