package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Transaction numbers (schema.go): ApplyBlock gives each transaction it
// stores a dense number per chain (from 1), in the order it applies them,
// from the chain's counter (m + "txnum/" + chain). The tx record is keyed
// by its number (d: number -> txid + record), and the t table is the
// index from txid to number; event values, spend markers, output keys and
// tx records' prevouts refer to transactions by number. A txid stored
// again (a BIP30 duplicate, a tx mined again) keeps the number it has: its
// index entry stays and its record is overwritten in place (the block's
// undo record keeps both). A number is never given to two txids: a rewind
// removes the numbers of the txs it removes and leaves the counter where it
// is, as it does with address ids.
//
// A group's new transactions have numbers past every stored one, so their
// records, the bulk of the tx bytes, arrive in key order: the bulk path
// ingests them into the bottom level and no compaction rewrites them
// (bulk.go); only the index, txid -> number, is keyed at random.

// prefixTxNum is the table of tx records by number.
const prefixTxNum byte = 'd'

var metaTxNumPrefix = []byte("mtxnum/")

// metaTxNumKey is the key of chain c's next transaction number.
func metaTxNumKey(c chainCode) []byte {
	return append(append([]byte(nil), metaTxNumPrefix...), byte(c>>8), byte(c))
}

// appendTxNumKey builds the key of number num's txid.
func appendTxNumKey(dst []byte, c chainCode, num uint64) []byte {
	return appendU64(appendTable(dst, prefixTxNum, c), num)
}

// txNum returns the number of the tx at index i of the block being built,
// giving it a new one (and writing its index entry) unless its txid is
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
	return num, a.w.Set(a.key2, a.val2, nil)
}

// appendTxEntry appends the value of a tx's d entry: its txid, then its
// record.
func appendTxEntry(dst []byte, txid heistgraph.Hash, rec *txRecord) []byte {
	return appendTxRecord(append(dst, txid[:]...), txid, rec)
}

// splitTxEntry splits the value of number num's d entry into its txid and
// record.
func splitTxEntry(num uint64, v []byte) (heistgraph.Hash, []byte, error) {
	if len(v) < 32 {
		return heistgraph.Hash{}, nil, fmt.Errorf("transaction number %d: %w", num, errCorrupt)
	}
	return heistgraph.Hash(v[:32]), v[32:], nil
}

// lookupTx reads the d entry of txid: its number from the index, then the
// entry under it (found false when the tx is not stored), whose record is
// entry[32:]. The entry is a copy, appended to buf.
func lookupTx(r pebbledb.Reader, c chainCode, txid heistgraph.Hash, buf []byte) (num uint64, entry []byte, found bool, err error) {
	num, found, err = storedTxNum(r, c, txid)
	if err != nil || !found {
		return 0, nil, false, err
	}
	v, found, err := lookup(r, appendTxNumKey(nil, c, num), buf)
	if err != nil {
		return 0, nil, false, err
	}
	if !found {
		return 0, nil, false, fmt.Errorf("tx %s: number %d: record missing: %w", txid, num, errCorrupt)
	}
	id, _, err := splitTxEntry(num, v)
	if err != nil {
		return 0, nil, false, err
	}
	if id != txid {
		return 0, nil, false, fmt.Errorf("tx %s: number %d holds %s: %w", txid, num, id, errCorrupt)
	}
	return num, v, true, nil
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
	num, w := binary.Uvarint(v)
	if err := closer.Close(); err != nil {
		return 0, false, err
	}
	if w <= 0 || num == 0 {
		return 0, false, fmt.Errorf("tx %s: %w", txid, errCorrupt)
	}
	return num, true, nil
}

// numReader resolves transaction numbers of one chain to txids (and
// records) through one iterator over the d table, remembering the last
// txid. Readers that ask in rising order (an address's history) seek
// forward from where they are.
type numReader struct {
	it   *pebbledb.Iterator
	c    chainCode
	key  []byte
	num  uint64
	last heistgraph.Hash
}

func newNumReader(r pebbledb.Reader, c chainCode) (*numReader, error) {
	lo, hi := tableBounds(prefixTxNum, c)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	return &numReader{it: it, c: c}, nil
}

func (n *numReader) Close() error { return n.it.Close() }

// txid returns the txid of number num.
func (n *numReader) txid(num uint64) (heistgraph.Hash, error) {
	if num == n.num && num != 0 {
		return n.last, nil
	}
	txid, _, err := n.entry(num)
	return txid, err
}

// entry returns the txid and the record of number num; the record is valid
// until the next call.
func (n *numReader) entry(num uint64) (heistgraph.Hash, []byte, error) {
	n.key = appendTxNumKey(n.key[:0], n.c, num)
	if !n.it.SeekGE(n.key) || !bytes.Equal(n.it.Key(), n.key) {
		if err := n.it.Error(); err != nil {
			return heistgraph.Hash{}, nil, err
		}
		return heistgraph.Hash{}, nil, fmt.Errorf("transaction number %d: not stored: %w", num, errCorrupt)
	}
	txid, rec, err := splitTxEntry(num, n.it.Value())
	if err != nil {
		return heistgraph.Hash{}, nil, err
	}
	n.num, n.last = num, txid
	return txid, rec, nil
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
