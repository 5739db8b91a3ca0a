package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// Clustering gives an address its id in the order it first sees the
// address, block by block; ApplyBlock gives the store's own address ids
// (addrid.go) in the same order when blocks are ingested in chain order,
// so the two agree for nearly every address (for all 350,873 of the
// medium synthetic world). The clustering's address table (c + chain + a:
// address -> id) keeps only the addresses whose clustering id is not
// their id in the store: an address without an entry there has the id of
// its totals, if the clustering gave it that id (below). The
// exceptions are the addresses of account chains (no totals), of blocks
// ingested out of order or again after a rewind, and an address the
// clustering gave a second id.

// addrExceptions decides, for a commit's new addresses in key order, which
// the address table keeps: it looks up the store's address totals (by
// their hash and the id: addrkey.go) and walks the address table with
// seeks in key order. The totals are not read for an address the commit
// knows to keep its own id (addrKeptFrom).
type addrExceptions struct {
	db    pebbledb.Reader
	c     chainCode
	table *pebbledb.Iterator // the address table; nil while unopened or empty
	// tableOpened reports that table was opened (nil then: empty).
	tableOpened bool
	key, val    []byte
	form        []byte // an address's stored form (addrcodec.go)
}

func newAddrExceptions(db pebbledb.Reader, c chainCode) *addrExceptions {
	return &addrExceptions{db: db, c: c}
}

// check reports whether id is the store's own id of the address whose key
// suffix (appendAddr) is suffix, and then whether the address table holds
// an entry for it (an earlier id, which the new one replaces). Calls of
// check and stored come in key order.
func (a *addrExceptions) check(suffix []byte, id uint64) (own, stored bool, err error) {
	n, w := binary.Uvarint(suffix)
	if w <= 0 || uint64(len(suffix)-w) != n {
		return false, false, fmt.Errorf("address key %x: %w", suffix, errCorrupt)
	}
	addr := string(suffix[w:])
	// The totals of id, if any, are those of the address the address
	// table names under id, keyed by its hash: addr's when the table
	// names addr.
	var found bool
	a.key = appendAddrByIDKey(a.key[:0], a.c, id)
	if a.val, found, err = lookup(a.db, a.key, a.val[:0]); err != nil || !found {
		return false, false, err
	}
	if a.form = appendAddrValue(a.form[:0], addr); !bytes.Equal(a.val, a.form) {
		return false, false, nil
	}
	a.key = appendAddressKey(a.key[:0], a.c, addr, id)
	if a.val, found, err = lookup(a.db, a.key, a.val[:0]); err != nil || !found {
		return false, false, err
	}
	stored, err = a.stored(suffix)
	return true, stored, err
}

// tableEmpty reports whether the address table holds no entry.
func (a *addrExceptions) tableEmpty() (bool, error) {
	if !a.tableOpened {
		a.tableOpened = true
		lo, hi := clusterTableBounds(a.c, clusterAddr)
		it, err := a.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return false, err
		}
		if !it.First() {
			return true, errors.Join(it.Error(), it.Close()) // no entry: none to delete
		}
		a.table = it
	}
	return a.table == nil, nil
}

// stored reports whether the address table holds an entry for the address
// whose key suffix is suffix.
func (a *addrExceptions) stored(suffix []byte) (bool, error) {
	if empty, err := a.tableEmpty(); empty || err != nil {
		return false, err
	}
	a.key = append(appendClusterTable(a.key[:0], a.c, clusterAddr), suffix...)
	stored := seekForward(a.table, a.key) && bytes.Equal(a.table.Key(), a.key)
	return stored, a.table.Error()
}

// seekNexts is how many keys seekForward steps over before it seeks.
const seekNexts = 8

// seekForward positions it at the first key at or after key, which is not
// before its current key when it is valid: stepping when key is near (a
// commit's addresses are a dense share of the store's in a rebuild: a
// step costs a fraction of a seek), seeking otherwise.
func seekForward(it *pebbledb.Iterator, key []byte) bool {
	if it.Valid() {
		for range seekNexts {
			if bytes.Compare(it.Key(), key) >= 0 {
				return true
			}
			if !it.Next() {
				return false
			}
		}
	}
	return it.SeekGE(key)
}

// close closes the iterators; it may be called again.
func (a *addrExceptions) close() error {
	var err error
	if a.table != nil {
		err = a.table.Close()
		a.table = nil
	}
	return err
}

// A commit need not read the totals of a new address the batch names by the
// store's id it gets (store.ClusterBatch.NewAddressIDs: the block records
// the clustering read named it so) when no rewind can have replaced that
// id since. An address's totals lose their id only when a rewind removes
// all of its history (it gets a new id if it comes back, and an id is
// never given twice), so every rewind first stores the chain's next
// address id (m + "addrkept/" + chain): the ids from it on were given out
// after the last rewind and name, in the store's totals, the addresses
// they were given to. A chain never rewound has no such key: all of its
// ids are kept. A rewind that comes between the clustering's read of the
// records and the commit stores its key first, so the commit reads the
// totals; the blocks it clustered are then off the chain, and the
// clustering rewinds them at its next update, as without the key.

// addrKeptFrom returns the first address id of chain code c that no rewind
// can have replaced, memoized in d.addrKept.
func (d *DB) addrKeptFrom(c chainCode) (uint64, error) {
	if v, ok := d.addrKept.Load(c); ok {
		return v.(uint64), nil
	}
	from, err := readCounter(d.db, metaAddrKeptKey(c), "kept address ids") // 1 when never rewound
	if err != nil {
		return 0, err
	}
	// A rewind stores its own in between: it stands.
	v, _ := d.addrKept.LoadOrStore(c, from)
	return v.(uint64), nil
}

// keepAddrIDsFrom stores chain code c's next address id as the first one no
// rewind can have replaced, before a rewind removes anything; meanwhile
// commits trust no id. The caller holds writeMu.
func (d *DB) keepAddrIDsFrom(c chainCode) error {
	next, err := readCounter(d.db, metaAddrIDKey(c), "address id counter")
	if err != nil {
		return err
	}
	d.addrKept.Store(c, uint64(math.MaxUint64))
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.Set(metaAddrKeptKey(c), appendUvarint(nil, next), nil); err != nil {
		return err
	}
	if err := d.commit(b); err != nil {
		return err
	}
	d.addrKept.Store(c, next)
	return nil
}

// The clustering's id table (c + chain + i: id -> address) likewise keeps
// only the ids whose address is not the one the store's address table
// (addrtable.go) names under the id: the clustering gives its ids densely
// from 1, so an id below its next one without an entry there is the
// store's, whose address table entry never changes. A commit leaves out
// exactly the ids the address table's own check finds the store's
// (addrExceptions.check: the store's totals of the address hold the id,
// and the store wrote the address table entry when it gave the id out).

// clusterNextAddr reads the clustering's next address id on chain c (1
// when it has given none).
func clusterNextAddr(r pebbledb.Reader, c chainCode) (uint64, error) {
	var kb [8]byte
	v, found, err := lookup(r, appendClusterTable(kb[:0], c, clusterState), nil)
	if err != nil || !found {
		return 1, err
	}
	st, err := decodeClusterState(v)
	if err != nil {
		return 0, err
	}
	return st.nextAddr, nil
}

// clusterAddress returns the address the clustering gave id on chain c
// (found false: it gave id to none).
func clusterAddress(r pebbledb.Reader, c chainCode, id uint64) (addr string, found bool, err error) {
	var kb [64]byte
	v, found, err := lookup(r, clusterIDKey(kb[:0], c, clusterID, id), nil)
	if err != nil || found {
		return string(v), found, err
	}
	next, err := clusterNextAddr(r, c)
	if err != nil || id == 0 || id >= next {
		return "", false, err
	}
	v, found, err = lookup(r, appendAddrByIDKey(kb[:0], c, id), nil)
	if err != nil {
		return "", false, err
	}
	if !found {
		return "", false, fmt.Errorf("address id %d: in neither the cluster id table nor the address table: %w", id, errCorrupt)
	}
	e, err := decodeAddrEntry(v)
	if err != nil {
		return "", false, fmt.Errorf("address id %d: %w", id, err)
	}
	return e.s, true, nil
}

// clusterAddrID returns the clustering's id of addr on chain c: its entry
// in the address table, or else its id in the store when the clustering
// gave addr that id (found false: the clustering has no such address);
// next reads the clustering's next address id.
func clusterAddrID(r pebbledb.Reader, c chainCode, addr string, next func() (uint64, error)) (id uint64, found bool, err error) {
	var kb [64]byte
	v, found, err := lookup(r, clusterAddrKey(kb[:0], c, addr), nil)
	if err != nil {
		return 0, false, err
	}
	if found {
		id, n := binary.Uvarint(v)
		if n <= 0 || n != len(v) {
			return 0, false, errCorrupt
		}
		return id, true, nil
	}
	id, found, err = storedAddrID(r, c, addr)
	if err != nil || !found {
		return 0, false, err
	}
	v, found, err = lookup(r, clusterIDKey(kb[:0], c, clusterID, id), v)
	if err != nil {
		return 0, false, err
	}
	if found {
		return id, string(v) == addr, nil
	}
	// The store's address table names addr under id: the clustering gave
	// id to addr if it gave id out at all.
	n, err := next()
	return id, err == nil && id < n, err
}

// nextAddrMemo is a chain's clustering next address id as read when the
// store had seen gen commits.
type nextAddrMemo struct {
	gen, next uint64
}

// clusterNext returns clusterNextAddr of chain code c in d, memoized until
// the next commit (a screen asks for the clusters of many addresses).
func (d *DB) clusterNext(c chainCode) (uint64, error) {
	gen := d.writes.Load()
	if m, ok := d.clusterNexts.Load(c); ok && m.(*nextAddrMemo).gen == gen {
		return m.(*nextAddrMemo).next, nil
	}
	next, err := clusterNextAddr(d.db, c)
	if err != nil {
		return 0, err
	}
	// gen was read before the state: a commit in between leaves a memo
	// that no later call uses.
	d.clusterNexts.Store(c, &nextAddrMemo{gen: gen, next: next})
	return next, nil
}
