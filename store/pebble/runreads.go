package pebble

import (
	"bytes"
	"errors"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// A run's reads of the store. While applyGroup builds a run, the store's
// block tables do not change under it (the run's own writes wait in the
// applier until it is committed, and nothing else writes those tables),
// so the applier reads each table it looks up through one iterator for the
// whole run, opened at the run's first lookup of the table and closed when
// the build ends, instead of one iterator or one Get per lookup: an
// address's totals (findTotals), a spent output's entry in the unspent
// outputs (unspent.go) and, without one, its tx number (the txid index)
// and its output. A lookup then seeks the open iterator: Pebble
// keeps each level's file open between seeks (a Get, or a new iterator,
// finds and opens each level's file again, and builds its iterators over
// the memtables and the levels), and a data block loaded while the next
// seek lands in it.
type runReads struct {
	c                                chainCode
	totals, txids, outputs, unspents *pebbledb.Iterator
	key                              []byte
}

// iter returns the run's iterator *it over table prefix of chain c,
// opening it on first use.
func (r *runReads) iter(db pebbledb.Reader, c chainCode, prefix byte, it **pebbledb.Iterator) (*pebbledb.Iterator, error) {
	if r.c != c {
		if err := r.close(); err != nil {
			return nil, err
		}
		r.c = c
	}
	if *it != nil {
		return *it, nil
	}
	lo, hi := tableBounds(prefix, c)
	i, err := db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	*it = i
	return i, nil
}

// close closes the run's iterators (at the end of its build).
func (r *runReads) close() error {
	var errs []error
	for _, it := range []**pebbledb.Iterator{&r.totals, &r.txids, &r.outputs, &r.unspents} {
		if *it != nil {
			errs = append(errs, (*it).Close())
			*it = nil
		}
	}
	return errors.Join(errs...)
}

// totalsIter returns the run's iterator over chain c's address totals.
func (r *runReads) totalsIter(db pebbledb.Reader, c chainCode) (*pebbledb.Iterator, error) {
	return r.iter(db, c, prefixAddress, &r.totals)
}

// txNum returns the number of txid from the index, as storedTxNum.
func (r *runReads) txNum(db pebbledb.Reader, c chainCode, txid heistgraph.Hash) (num uint64, found bool, err error) {
	it, err := r.iter(db, c, prefixTx, &r.txids)
	if err != nil {
		return 0, false, err
	}
	// A txid key is its own prefix (comparer.go): the seek finds it or
	// nothing, and skips the files whose filters rule it out.
	r.key = appendTxKey(r.key[:0], c, txid)
	if !it.SeekPrefixGE(r.key) {
		return 0, false, it.Error()
	}
	v, err := it.ValueAndErr()
	if err == nil {
		num, err = decodeTxNum(v, txid)
	}
	return num, err == nil, err
}

// output returns the record of output vout of the tx numbered num (found
// false when it is not stored), valid until the run's next read.
func (r *runReads) output(db pebbledb.Reader, c chainCode, num uint64, vout uint32) (v []byte, found bool, err error) {
	it, err := r.iter(db, c, prefixOutput, &r.outputs)
	if err != nil {
		return nil, false, err
	}
	r.key = appendOutputKey(r.key[:0], c, num, vout)
	if !it.SeekGE(r.key) || !bytes.Equal(it.Key(), r.key) {
		return nil, false, it.Error()
	}
	v, err = it.ValueAndErr()
	return v, err == nil, err
}
