package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Transaction numbers (schema.go): ApplyBlock gives each transaction it
// stores a dense number per chain (from 1), in the order it applies them,
// from the chain's counter (m + "txnum/" + chain). Three tables hold a tx:
// the index t (txid -> number), the d table (number -> txid) and its
// record, keyed by its number (v); event values, spend markers, output
// keys and tx records' prevouts refer to transactions by number. A txid
// stored again (a BIP30 duplicate, a tx mined again) keeps the number it
// has: its t and d entries stay and its record is overwritten in place
// (the block's undo record keeps all three). A number is never given to
// two txids: a rewind removes the numbers of the txs it removes and leaves
// the counter where it is, as it does with address ids.
//
// A group's new transactions have numbers past every stored one, so their
// records, the bulk of the tx bytes, arrive in key order: the bulk path
// ingests them into the bottom level and no compaction rewrites them
// (bulk.go); only the index, txid -> number, is keyed at random. Numbers
// resolve to txids through d, not v, so that those reads (prevouts,
// spenders, events) touch a table of 32-byte values.

// prefixTxNum is the table of txids by number, prefixTxRec the table of
// tx records by number.
const (
	prefixTxNum byte = 'd'
	prefixTxRec byte = 'v'
)

var metaTxNumPrefix = []byte("mtxnum/")

// metaTxNumKey is the key of chain c's next transaction number.
func metaTxNumKey(c chainCode) []byte {
	return append(append([]byte(nil), metaTxNumPrefix...), byte(c>>8), byte(c))
}

// appendTxNumKey builds the key of number num's txid.
func appendTxNumKey(dst []byte, c chainCode, num uint64) []byte {
	return appendU64(appendTable(dst, prefixTxNum, c), num)
}

// appendTxRecKey builds the key of number num's tx record.
func appendTxRecKey(dst []byte, c chainCode, num uint64) []byte {
	return appendU64(appendTable(dst, prefixTxRec, c), num)
}

// txNum returns the number of the tx at index i of the block being built,
// giving it a new one (and writing its t and d entries) unless its txid is
// stored already (prev, its stored index entry) or was given one earlier
// in the run.
func (a *applier) txNum(db pebbledb.Reader, c chainCode, txid heistgraph.Hash, prev []byte) (uint64, error) {
	if len(prev) > 0 {
		num, w := binary.Uvarint(prev)
		if w <= 0 || num == 0 {
			return 0, fmt.Errorf("stored record of %s: %w", txid, errCorrupt)
		}
		a.grp.txids[txid] = num
		return num, nil
	}
	if num, ok := a.grp.txids[txid]; ok && num != 0 {
		return num, nil
	}
	num, err := a.nums.take(db, c, metaTxNumKey, "transaction number")
	if err != nil {
		return 0, err
	}
	a.grp.txids[txid] = num
	a.key2 = appendTxKey(a.key2[:0], c, txid)
	a.val2 = appendUvarint(a.val2[:0], num)
	if err := a.w.Set(a.key2, a.val2, nil); err != nil {
		return 0, err
	}
	a.key2 = appendTxNumKey(a.key2[:0], c, num)
	return num, a.w.Set(a.key2, txid[:], nil)
}

// readTxRecord decodes the record of txid into rec (as decodeTxRecord,
// with txidOf): its number from the index, then the record under it,
// decoded in place (found false when the tx is not stored).
func readTxRecord(r pebbledb.Reader, c chainCode, txid heistgraph.Hash, rec *txRecord, txidOf func(uint64) (heistgraph.Hash, error)) (found bool, err error) {
	num, found, err := storedTxNum(r, c, txid)
	if err != nil || !found {
		return false, err
	}
	v, closer, err := r.Get(appendTxRecKey(nil, c, num))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return false, fmt.Errorf("tx %s: number %d: record missing: %w", txid, num, errCorrupt)
	}
	if err != nil {
		return false, err
	}
	err = decodeTxRecord(v, num, txid, rec, txidOf, nil)
	return true, errors.Join(err, closer.Close())
}

// writeNums adds the run's number counter to its writes when it gave out
// numbers.
func (a *applier) writeNums() error {
	return a.nums.write(&a.w, metaTxNumKey)
}

// storedTxNum returns the number of txid from the index (found false when
// the tx is not stored).
func storedTxNum(r pebbledb.Reader, c chainCode, txid heistgraph.Hash) (num uint64, found bool, err error) {
	v, closer, err := r.Get(appendTxKey(nil, c, txid))
	if err == pebbledb.ErrNotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	num, err = decodeTxNum(v, txid)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	return num, err == nil, err
}

// decodeTxNum decodes the txid index's value v, the number of txid.
func decodeTxNum(v []byte, txid heistgraph.Hash) (uint64, error) {
	num, w := binary.Uvarint(v)
	if w <= 0 || num == 0 {
		return 0, fmt.Errorf("tx %s: %w", txid, errCorrupt)
	}
	return num, nil
}

// numReader resolves transaction numbers of one chain to txids through one
// iterator over the d table (or to tx records, over the v table:
// newRecReader), remembering the last one. Readers that ask in rising
// order (an address's history) seek forward from where they are.
type numReader struct {
	it     *pebbledb.Iterator
	c      chainCode
	prefix byte
	key    []byte
	num    uint64
	last   heistgraph.Hash
}

func newNumReader(r pebbledb.Reader, c chainCode) (*numReader, error) {
	return newTableReader(r, c, prefixTxNum)
}

// newRecReader returns a reader of chain c's tx records by number (record).
func newRecReader(r pebbledb.Reader, c chainCode) (*numReader, error) {
	return newTableReader(r, c, prefixTxRec)
}

func newTableReader(r pebbledb.Reader, c chainCode, prefix byte) (*numReader, error) {
	lo, hi := tableBounds(prefix, c)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	return &numReader{it: it, c: c, prefix: prefix}, nil
}

func (n *numReader) Close() error { return n.it.Close() }

// txid returns the txid of number num.
func (n *numReader) txid(num uint64) (heistgraph.Hash, error) {
	if num == n.num && num != 0 {
		return n.last, nil
	}
	v, err := n.value(num)
	if err != nil {
		return heistgraph.Hash{}, err
	}
	if len(v) != 32 {
		return heistgraph.Hash{}, fmt.Errorf("transaction number %d: %w", num, errCorrupt)
	}
	n.num = num
	copy(n.last[:], v)
	return n.last, nil
}

// record returns the tx record of number num (a reader of newRecReader),
// valid until the next call.
func (n *numReader) record(num uint64) ([]byte, error) { return n.value(num) }

// value returns the value of number num's key in the reader's table.
func (n *numReader) value(num uint64) ([]byte, error) {
	v, found, err := n.find(num)
	if err == nil && !found {
		err = fmt.Errorf("transaction number %d: not stored: %w", num, errCorrupt)
	}
	return v, err
}

// find returns the value of number num's key (found false when there is
// none), valid until the next call.
func (n *numReader) find(num uint64) ([]byte, bool, error) {
	n.key = appendU64(appendTable(n.key[:0], n.prefix, n.c), num)
	if !n.it.SeekGE(n.key) || !bytes.Equal(n.it.Key(), n.key) {
		return nil, false, n.it.Error()
	}
	return n.it.Value(), true, nil
}

// blockRecs reads the records of a block's txs, asked in block order. A
// tx applied right after the one before it in the block has the next
// number, which the d table confirms by an in-order read; any other (the
// block's first, a txid stored again, which keeps its older number) is
// looked up in the index. The records are read in order too.
type blockRecs struct {
	r    pebbledb.Reader
	d, v *numReader
	next uint64
}

func newBlockRecs(r pebbledb.Reader, c chainCode) (*blockRecs, error) {
	d, err := newNumReader(r, c)
	if err != nil {
		return nil, err
	}
	v, err := newRecReader(r, c)
	if err != nil {
		d.Close()
		return nil, err
	}
	return &blockRecs{r: r, d: d, v: v}, nil
}

func (b *blockRecs) Close() error { return errors.Join(b.d.Close(), b.v.Close()) }

// record returns the number and the record of txid (found false when it
// is not stored); the record is valid until the next call.
func (b *blockRecs) record(txid heistgraph.Hash) (num uint64, rec []byte, found bool, err error) {
	if b.next != 0 {
		v, ok, err := b.d.find(b.next)
		if err != nil {
			return 0, nil, false, err
		}
		if ok && bytes.Equal(v, txid[:]) {
			num = b.next
		}
	}
	if num == 0 {
		if num, found, err = storedTxNum(b.r, b.d.c, txid); err != nil || !found {
			return 0, nil, false, err
		}
	}
	b.next = num + 1
	rec, err = b.v.record(num)
	return num, rec, err == nil, err
}

// lookupOutput reads the output record of op: its tx's number from the
// index, then the output (found false when either is not stored).
func lookupOutput(r pebbledb.Reader, c chainCode, op heistgraph.Outpoint) (v []byte, found bool, err error) {
	num, found, err := storedTxNum(r, c, op.TxID)
	if err != nil || !found {
		return nil, false, err
	}
	return lookup(r, appendOutputKey(nil, c, num, op.Vout), nil)
}
