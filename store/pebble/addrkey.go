package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cespare/xxhash/v2"
	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The address totals (schema.go, a + chain + id(ord)) are keyed by the
// address's id, and an index (A + chain + hash(be64) + id(ord), empty
// values) finds the id of an address by a short hash of its string. A
// group of blocks gives its new addresses ids above every stored one, so
// their totals, the first operand of each, sort after every stored key of
// the table and go to the bottom level with the group (bulk.go's tail),
// never compacted again; only the operands of addresses stored before
// the group enter level 0. The index is written once an address (no
// merges), when the address gets its id (giveID), and is small (12 to 15
// bytes a key): it is the only part keyed at random. Schema 10 and 11
// kept the totals themselves under the hash (a + chain + hash + id), so
// every group's file of them spanned the whole table and every
// compaction of level 0 rewrote the level below whole, the largest part
// of a bulk load's compactions (docs/benchmarks.md, "The address totals
// keyed by id").
//
// The id in the index key keeps two addresses of one hash apart (each
// has its own entry). A lookup by address reads the index entries under
// its hash, in id order (there is one for nearly every address that has
// totals, none for nearly every other), and takes the one whose id the
// address table (y, addrtable.go) names the address under; its totals
// are then one read by id. An index entry exists exactly when its id's
// totals do: a rewind that deletes an address's totals deletes its index
// entry too.
//
// Nothing that is shown depends on the keys' order: Addresses lists the
// addresses in no particular order, and Digest hashes the totals and the
// events in schema 9's order (by the address's length, then its bytes),
// which digestOrder rebuilds by sorting.

// prefixAddrHash is the index of the address ids by their address's hash.
const prefixAddrHash byte = 'A'

// addrKeyHash is the hash of an address that leads its index key. It is
// written to disk, so it must never change (a new one needs a new schema
// version); a variable only so that a test can force collisions.
//
// XXH64 with seed 0 (xxhash.Sum64String): a published, fixed algorithm,
// already linked in by Pebble, that reads eight bytes a step. FNV-1a
// (hash/fnv, which the PostgreSQL store and the clustering use), one
// multiply a byte, took 2.7% of the CPU of a bulk ingest (once for every
// address of every block, and again for each lookup), xxhash 2–3 times
// less per address. Neither is keyed: the process's maphash seed, which
// the in-memory ids take (addrid.go), changes with each process. Among the
// 1.2 billion addresses of the whole chain about 0.04 pairs are expected
// to share a hash (n²/2⁶⁵); someone who crafted addresses to collide
// would only make the lookups of those addresses read one address table
// entry more each.
var addrKeyHash = xxhash.Sum64String

// addrKeyPrefixLen is the length of the prefix of an index key that the
// address's hash ends (appendAddressPrefix).
const addrKeyPrefixLen = 3 + 8

// appendAddressPrefix appends the prefix of the index keys of the
// addresses whose addrKeyHash is kh.
func appendAddressPrefix(dst []byte, c chainCode, kh uint64) []byte {
	return appendU64(appendTable(dst, prefixAddrHash, c), kh)
}

// appendAddrIndexKey appends the index key of addr, whose id is id.
func appendAddrIndexKey(dst []byte, c chainCode, addr string, id uint64) []byte {
	return appendHashedIndexKey(dst, c, addrKeyHash(addr), id)
}

// appendHashedIndexKey appends the index key of the address whose
// addrKeyHash is kh and whose id is id.
func appendHashedIndexKey(dst []byte, c chainCode, kh, id uint64) []byte {
	return appendOrdered(appendAddressPrefix(dst, c, kh), id)
}

// appendTotalsKey appends the key of the totals of address id id.
func appendTotalsKey(dst []byte, c chainCode, id uint64) []byte {
	return appendOrdered(appendTable(dst, prefixAddress, c), id)
}

// indexKeyID returns the id in the index key k.
func indexKeyID(k []byte) (uint64, error) {
	return keyID(k, addrKeyPrefixLen, "address index")
}

// totalsKeyID returns the id in the totals key k.
func totalsKeyID(k []byte) (uint64, error) {
	return keyID(k, 3, "address totals")
}

// keyID returns the id (appendOrdered) that ends k after its first n
// bytes; what names k's table in errors.
func keyID(k []byte, n int, what string) (uint64, error) {
	if len(k) <= n {
		return 0, fmt.Errorf("%s key %x: %w", what, k, errCorrupt)
	}
	id, w := decodeOrdered(k[n:])
	if w == 0 || n+w != len(k) || id == 0 {
		return 0, fmt.Errorf("%s key %x: %w", what, k, errCorrupt)
	}
	return id, nil
}

// findTotals returns the totals of addr on chain c in r (found false: the
// address has none): the id found by findAddrID, then its totals.
func findTotals(r pebbledb.Reader, c chainCode, addr string, names *addrCache) (t totals, found bool, err error) {
	id, found, err := findAddrID(r, c, addr, names)
	if err != nil || !found {
		return totals{}, false, err
	}
	return readTotals(r, c, id)
}

// readTotals returns the totals of address id id on chain c in r (found
// false: it has none).
func readTotals(r pebbledb.Reader, c chainCode, id uint64) (t totals, found bool, err error) {
	var kb [3 + 9]byte
	v, closer, err := r.Get(appendTotalsKey(kb[:0], c, id))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return totals{}, false, nil
	}
	if err != nil {
		return totals{}, false, err
	}
	t, err = decodeTotals(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err == nil && t.ID != id {
		err = fmt.Errorf("totals of id %d under id %d: %w", t.ID, id, errCorrupt)
	}
	if err != nil {
		return totals{}, false, fmt.Errorf("address id %d: %w", id, err)
	}
	return t, true, nil
}

// findAddrID returns the id of addr on chain c in r (found false: the
// address has no totals): the index entry under addr's hash whose id the
// address table names addr under, asked of names (the store's cache of
// address table entries, which never change; nil: none) before r.
func findAddrID(r pebbledb.Reader, c chainCode, addr string, names *addrCache) (id uint64, found bool, err error) {
	var bounds [2 * addrKeyPrefixLen]byte
	kh := addrKeyHash(addr)
	lo := appendAddressPrefix(bounds[:0], c, kh)
	hi := append(bounds[addrKeyPrefixLen:addrKeyPrefixLen], lo...)
	for i := len(hi) - 1; i >= 0; i-- { // prefixEnd, without allocating
		if hi[i]++; hi[i] != 0 {
			hi = hi[:i+1]
			break
		}
	}
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, false, err
	}
	ys := addrReader{r: r, c: c}
	id, found, err = seekAddrID(it, &ys, c, addr, kh, names)
	return id, found, errors.Join(err, it.Close())
}

// seekAddrID is findAddrID through it, an iterator over chain c's index
// (or over addr's hash's part of it), asking the address table through
// ys; kh is addr's addrKeyHash.
func seekAddrID(it *pebbledb.Iterator, ys *addrReader, c chainCode, addr string, kh uint64, names *addrCache) (uint64, bool, error) {
	var pb [addrKeyPrefixLen]byte
	prefix := appendAddressPrefix(pb[:0], c, kh)
	var form []byte // addr's stored form (addrcodec.go), made at the first entry
	var formBuf [128]byte
	var prog progBuf
	// prefix is the prefix of the entries' keys (comparer.go): the files
	// whose Bloom filters rule it out are not read.
	for ok := it.SeekPrefixGE(prefix); ok; ok = it.Next() {
		id, err := indexKeyID(it.Key())
		if err != nil {
			return 0, false, err
		}
		if e, ok := names.get(c, id); ok {
			if e.s == addr {
				return id, true, nil
			}
			continue // another address of the same hash
		}
		if form == nil {
			p, packed := packAddrInto(&prog, addr)
			form = appendAddrForm(formBuf[:0], addr, &p, packed)
		}
		ys.key = appendAddrByIDKey(ys.key[:0], c, id)
		y, found, closer, err := ys.lookup()
		if err == nil && !found {
			err = errCorrupt
		}
		if err != nil {
			return 0, false, fmt.Errorf("address id %d of the index: %w", id, err)
		}
		same := bytes.Equal(y, form) // giveID stored it so
		if err := closer.Close(); err != nil {
			return 0, false, err
		}
		if same {
			return id, true, nil
		}
	}
	return 0, false, it.Error()
}

// digestSortBytes bounds the memory digestOrder sorts in; past it, it
// sorts through a scratch Pebble store. A variable so that a test can take
// that path on a small store.
var digestSortBytes = 256 << 20

// digestOrder is chain c's address totals in schema 9's key order: by the
// suffix appendAddr gives the address (its length, then its bytes), each
// with its totals value. It is sorted in memory (ents index arena, each
// entry the suffix and the value, each length-prefixed) or, past
// digestSortBytes, in a scratch Pebble store (spill, in dir on fs).
type digestOrder struct {
	arena []byte
	ents  []int
	spill *pebbledb.DB
	fs    vfs.FS
	dir   string
}

// newDigestOrder reads chain c's totals from snap, naming each address
// through the address table (in id order, as the totals are).
func (d *DB) newDigestOrder(ctx context.Context, snap pebbledb.Reader, c chainCode) (_ *digestOrder, err error) {
	o := &digestOrder{}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	lo, hi := tableBounds(prefixAddress, c)
	it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	names := d.addrIter(snap, c)
	defer names.Close()
	// Room for every id given out (most have totals), at about 80 bytes
	// an entry, within the bound: the arena is not copied as it grows.
	next, err := nextAddrID(snap, c)
	if err != nil {
		return nil, err
	}
	if n := int(min(next-1, uint64(digestSortBytes/88))); n > 0 {
		o.ents = make([]int, 0, n)
		o.arena = make([]byte, 0, 80*n)
	}
	var b *pebbledb.Batch
	var key []byte
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		id, err := totalsKeyID(it.Key())
		if err != nil {
			return nil, err
		}
		addr, err := names.addr(id)
		if err != nil {
			return nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if vid, w := binary.Uvarint(v); w <= 0 || vid != id {
			return nil, fmt.Errorf("address totals key %x: value of another id: %w", it.Key(), errCorrupt)
		}
		key = appendAddr(key[:0], addr)
		if o.spill == nil && len(o.arena)+len(key)+len(v)+8*len(o.ents) > digestSortBytes {
			if err := o.startSpill(d.opts.FS); err != nil {
				return nil, err
			}
		}
		if o.spill == nil {
			o.ents = append(o.ents, len(o.arena))
			o.arena = appendBytes(appendBytes(o.arena, key), v)
			continue
		}
		if b == nil {
			b = o.spill.NewBatch()
		}
		if err := b.Set(key, v, nil); err != nil {
			return nil, err
		}
		if b.Len() > 4<<20 {
			if err := b.Commit(pebbledb.NoSync); err != nil {
				return nil, err
			}
			b = nil
		}
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if b != nil {
		if err := b.Commit(pebbledb.NoSync); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(o.ents, func(x, y int) int { return bytes.Compare(o.suffix(x), o.suffix(y)) })
	return o, nil
}

// startSpill moves what o holds into a scratch Pebble store: in a
// temporary directory of the operating system's, or in memory when the
// store is not on disk (fs not nil: a test's).
func (o *digestOrder) startSpill(fs vfs.FS) error {
	o.fs, o.dir = vfs.NewMem(), "digest"
	if fs == nil {
		dir, err := os.MkdirTemp("", "heistgraph-digest-")
		if err != nil {
			return err
		}
		o.fs, o.dir = vfs.Default, dir
	}
	db, err := pebbledb.Open(o.dir, &pebbledb.Options{FS: o.fs, DisableWAL: true})
	if err != nil {
		return err
	}
	o.spill = db
	b := db.NewBatch()
	for _, e := range o.ents {
		r := reader{b: o.arena[e:]}
		k := r.raw()
		if err := b.Set(k, r.raw(), nil); err != nil {
			b.Close()
			return err
		}
	}
	o.arena, o.ents = nil, nil
	return b.Commit(pebbledb.NoSync)
}

// suffix is the address suffix of the entry at e of the arena.
func (o *digestOrder) suffix(e int) []byte {
	n, w := binary.Uvarint(o.arena[e:])
	return o.arena[e+w : e+w+int(n)]
}

// each calls fn with each address's suffix (appendAddr) and totals value,
// in order; they are valid until fn returns.
func (o *digestOrder) each(ctx context.Context, fn func(suffix, v []byte) error) error {
	if o.spill == nil {
		for i, e := range o.ents {
			if i&1023 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r := reader{b: o.arena[e:]}
			suffix := r.raw()
			if err := fn(suffix, r.raw()); err != nil {
				return err
			}
		}
		return nil
	}
	it, err := o.spill.NewIter(nil)
	if err != nil {
		return err
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
		}
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// Close removes the scratch store, if any.
func (o *digestOrder) Close() error {
	if o.spill == nil {
		return nil
	}
	err := o.spill.Close()
	o.spill = nil
	if o.fs == vfs.Default {
		err = errors.Join(err, os.RemoveAll(o.dir))
	}
	return err
}
