package pebble

import (
	"bytes"
	"cmp"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"
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

// writeOp is one write: buf[key:val] is the key, buf[val:end] the value.
type writeOp struct {
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

// writeTo adds the writes to b in key order (stable) and empties w.
func (w *sortedWrites) writeTo(b *pebbledb.Batch) error {
	buf := w.buf
	// Offsets grow with the order of writing: they break ties, which
	// makes the order total and an unstable sort (pdqsort, several times
	// faster than a stable merge sort here) keep writes to one key in order.
	slices.SortFunc(w.ops, func(x, y writeOp) int {
		if c := bytes.Compare(buf[x.key:x.val], buf[y.key:y.val]); c != 0 {
			return c
		}
		return cmp.Compare(x.key, y.key)
	})
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
