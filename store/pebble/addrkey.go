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

// The address totals (schema.go, a + chain + hash(be64) + id(ord)) are keyed
// by a short hash of the address and the address's id, not by the address
// string: the key is 12 to 15 bytes instead of about 49, and the totals
// table is the largest randomly keyed table, the one bulk ingest's
// compactions rewrite most. The id in the key keeps two addresses of one
// hash apart (each has its own entry, merged and rewound on its own), and
// a writer always knows the id. A lookup by address reads the entries
// under its hash, in id order (there is one for nearly every address that
// has totals, none for nearly every other), and takes the one whose id
// the address table (y, addrtable.go) names the address under.
//
// Nothing that is shown depends on the key's order: Addresses lists the
// addresses in no particular order, and Digest hashes the totals and the
// events in schema 9's order (by the address's length, then its bytes),
// which digestOrder rebuilds by sorting.

// addrKeyHash is the hash of an address that leads its totals key. It is
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

// addrKeyPrefixLen is the length of the prefix of a totals key that the
// address's hash ends (appendAddressPrefix).
const addrKeyPrefixLen = 3 + 8

// appendAddressPrefix appends the prefix of the totals keys of the
// addresses whose addrKeyHash is kh.
func appendAddressPrefix(dst []byte, c chainCode, kh uint64) []byte {
	return appendU64(appendTable(dst, prefixAddress, c), kh)
}

// appendAddressKey appends the key of the totals of addr, whose id is id.
func appendAddressKey(dst []byte, c chainCode, addr string, id uint64) []byte {
	return appendHashedAddressKey(dst, c, addrKeyHash(addr), id)
}

// appendHashedAddressKey appends the key of the totals of the address
// whose addrKeyHash is kh and whose id is id.
func appendHashedAddressKey(dst []byte, c chainCode, kh, id uint64) []byte {
	return appendOrdered(appendU64(appendTable(dst, prefixAddress, c), kh), id)
}

// addressKeyID returns the id in the totals key k.
func addressKeyID(k []byte) (uint64, error) {
	if len(k) <= addrKeyPrefixLen {
		return 0, fmt.Errorf("address totals key %x: %w", k, errCorrupt)
	}
	id, w := decodeOrdered(k[addrKeyPrefixLen:])
	if w == 0 || addrKeyPrefixLen+w != len(k) || id == 0 {
		return 0, fmt.Errorf("address totals key %x: %w", k, errCorrupt)
	}
	return id, nil
}

// findTotals returns the totals of addr on chain c in r (found false: the
// address has none): the entry under addr's hash whose id the address
// table names addr under, asked of names (the store's cache of address
// table entries, which never change; nil: none) before r.
func findTotals(r pebbledb.Reader, c chainCode, addr string, names *addrCache) (t totals, found bool, err error) {
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
		return totals{}, false, err
	}
	ys := addrReader{r: r, c: c}
	t, found, err = seekTotals(it, &ys, c, addr, kh, names)
	return t, found, errors.Join(err, it.Close())
}

// seekTotals is findTotals through it, an iterator over chain c's totals
// (or over addr's hash's part of them), asking the address table through
// ys; kh is addr's addrKeyHash.
func seekTotals(it *pebbledb.Iterator, ys *addrReader, c chainCode, addr string, kh uint64, names *addrCache) (t totals, found bool, err error) {
	var pb [addrKeyPrefixLen]byte
	prefix := appendAddressPrefix(pb[:0], c, kh)
	var form []byte // addr's stored form (addrcodec.go), made at the first entry
	var formBuf [128]byte
	var prog progBuf
	// prefix is the prefix of the entries' keys (comparer.go): the files
	// whose Bloom filters rule it out are not read.
	for ok := it.SeekPrefixGE(prefix); ok; ok = it.Next() {
		id, err := addressKeyID(it.Key())
		if err != nil {
			return totals{}, false, err
		}
		same, cached := false, false
		if e, ok := names.get(c, id); ok {
			same, cached = e.s == addr, true
		}
		if !cached {
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
				return totals{}, false, fmt.Errorf("address id %d of totals: %w", id, err)
			}
			same = bytes.Equal(y, form) // giveID stored it so
			if err := closer.Close(); err != nil {
				return totals{}, false, err
			}
		}
		if !same {
			continue // another address of the same hash
		}
		v, err := it.ValueAndErr()
		if err == nil {
			t, err = decodeTotals(v)
		}
		if err == nil && t.ID != id {
			err = fmt.Errorf("totals of id %d under id %d: %w", t.ID, id, errCorrupt)
		}
		if err != nil {
			return totals{}, false, fmt.Errorf("address %q: %w", addr, err)
		}
		return t, true, nil
	}
	return totals{}, false, it.Error()
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
// through the address table.
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
		id, err := addressKeyID(it.Key())
		if err != nil {
			return nil, err
		}
		addr, err := names.addr(id)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(appendAddressKey(key[:0], c, addr, id), it.Key()) {
			return nil, fmt.Errorf("address totals key %x: not the key of %q: %w", it.Key(), addr, errCorrupt)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
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
