package pebble

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Keys = (*DB)(nil)

// The API key table (schema.go): k + 'i' + id -> key record, and the hash
// index k + 'h' + sha256(32) -> id.
const (
	prefixKeys byte = 'k'
	keysByID   byte = 'i'
	keysByHash byte = 'h'
)

func keyIDKey(id string) []byte    { return append([]byte{prefixKeys, keysByID}, id...) }
func keyHashKey(h [32]byte) []byte { return append([]byte{prefixKeys, keysByHash}, h[:]...) }
func appendKeyRecord(dst []byte, k *store.APIKey) []byte {
	dst = append(dst, k.Hash[:]...)
	dst = appendString(dst, k.Role)
	dst = appendString(dst, k.Entity)
	dst = appendString(dst, k.TLPMax)
	dst = appendVarint(dst, k.Created)
	return appendVarint(dst, k.Revoked)
}

func decodeKeyRecord(id string, v []byte) (store.APIKey, error) {
	r := reader{b: v}
	k := store.APIKey{ID: id}
	k.Hash = r.hash()
	k.Role = r.str()
	k.Entity = r.str()
	k.TLPMax = r.str()
	k.Created = r.varint()
	k.Revoked = r.varint()
	if err := r.done("key record " + id); err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// PutKey implements store.Keys. The key is synced to disk before it
// returns.
func (d *DB) PutKey(ctx context.Context, k store.APIKey) error {
	if k.ID == "" || k.Role == "" || k.Hash == ([32]byte{}) {
		return fmt.Errorf("put key %q: id, role and hash are required: %w", k.ID, heistgraph.ErrInvalid)
	}
	unlock, err := d.lockKeys(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, key := range [][]byte{keyIDKey(k.ID), keyHashKey(k.Hash)} {
		if _, found, err := lookup(d.db, key, nil); err != nil {
			return fmt.Errorf("put key %s: %w", k.ID, err)
		} else if found {
			return fmt.Errorf("put key %s: id or secret already stored: %w", k.ID, heistgraph.ErrConflict)
		}
	}
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.Set(keyIDKey(k.ID), appendKeyRecord(nil, &k), nil); err != nil {
		return err
	}
	if err := b.Set(keyHashKey(k.Hash), []byte(k.ID), nil); err != nil {
		return err
	}
	err = b.Commit(pebbledb.Sync)
	d.forgetKeys()
	if err != nil {
		return fmt.Errorf("put key %s: commit: %w", k.ID, err)
	}
	return nil
}

// lockKeys checks that the store is open and ctx live, and takes the key
// write lock.
func (d *DB) lockKeys(ctx context.Context) (unlock func(), err error) {
	if _, _, err := d.code(""); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.keyMu.Lock()
	return d.keyMu.Unlock, nil
}

// KeyByHash implements store.Keys.
func (d *DB) KeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	if _, _, err := d.code(""); err != nil {
		return store.APIKey{}, err
	}
	// Every authenticated request asks: keys found are memoized until a
	// key write (PutKey, RevokeKey) bumps the generation. Unknown hashes
	// are not kept, so guessed secrets cannot fill the memo.
	d.keyMemo.Lock()
	k, ok := d.keyMemo.m[hash]
	gen := d.keyMemo.gen
	d.keyMemo.Unlock()
	if ok {
		return k, nil
	}
	id, found, err := lookup(d.db, keyHashKey(hash), nil)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("key by hash: %w", err)
	}
	if !found {
		return store.APIKey{}, fmt.Errorf("key by hash: %w", heistgraph.ErrNotFound)
	}
	k, err = d.keyByID(string(id))
	if err != nil {
		return k, err
	}
	d.keyMemo.Lock()
	if d.keyMemo.gen == gen { // no key write since the read began
		if d.keyMemo.m == nil || len(d.keyMemo.m) >= maxKeyMemo {
			d.keyMemo.m = map[[32]byte]store.APIKey{}
		}
		d.keyMemo.m[hash] = k
	}
	d.keyMemo.Unlock()
	return k, nil
}

// maxKeyMemo bounds the memo of KeyByHash; it is emptied when full.
const maxKeyMemo = 1 << 12

// keyMemo is KeyByHash's memo: keys by hash, read at generation gen
// (bumped, and the map emptied, by every key write).
type keyMemo struct {
	sync.Mutex
	gen uint64
	m   map[[32]byte]store.APIKey
}

// forgetKeys drops the memo of KeyByHash after a key write.
func (d *DB) forgetKeys() {
	d.keyMemo.Lock()
	d.keyMemo.gen++
	d.keyMemo.m = nil
	d.keyMemo.Unlock()
}

func (d *DB) keyByID(id string) (store.APIKey, error) {
	v, found, err := lookup(d.db, keyIDKey(id), nil)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("key %s: %w", id, err)
	}
	if !found {
		return store.APIKey{}, fmt.Errorf("key %s: %w", id, heistgraph.ErrNotFound)
	}
	return decodeKeyRecord(id, v)
}

// APIKeys implements store.Keys.
func (d *DB) APIKeys(ctx context.Context) iter.Seq2[store.APIKey, error] {
	return func(yield func(store.APIKey, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(store.APIKey{}, err)
			return
		}
		lo := []byte{prefixKeys, keysByID}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
		if err != nil {
			yield(store.APIKey{}, err)
			return
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				yield(store.APIKey{}, fmt.Errorf("keys: %w", err))
				return
			}
			k, err := decodeKeyRecord(string(it.Key()[2:]), it.Value())
			if !yield(k, err) || err != nil {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(store.APIKey{}, fmt.Errorf("keys: %w", err))
		}
	}
}

// RevokeKey implements store.Keys. The revocation is synced to disk before
// it returns.
func (d *DB) RevokeKey(ctx context.Context, id string, at int64) error {
	unlock, err := d.lockKeys(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	k, err := d.keyByID(id)
	if err != nil {
		if errors.Is(err, heistgraph.ErrNotFound) {
			return fmt.Errorf("revoke key: %w", err)
		}
		return err
	}
	if k.Revoked != 0 {
		return nil
	}
	k.Revoked = at
	err = d.db.Set(keyIDKey(id), appendKeyRecord(nil, &k), pebbledb.Sync)
	d.forgetKeys()
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	return nil
}
