package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Sharing = (*DB)(nil)

// The sharing tables (schema.go):
//
//	f d + feed id                                  -> feed record
//	f o + collection + 0x00 + object id + 0x00 + version(be64) -> added(varint), key id, raw JSON
//	f s + status id                                -> status JSON
//
// Feed ids are checked by store.ValidateFeedID, so key order is id order.
// Collections and object ids hold no 0x00 (they are checked), so the
// object keys of one collection sort by id, then version.
const (
	prefixSharing byte = 'f'
	sharingFeed   byte = 'd'
	sharingObject byte = 'o'
	sharingStatus byte = 's'
)

func feedKey(id string) []byte { return append([]byte{prefixSharing, sharingFeed}, id...) }

func sharedPrefix(collection string) []byte {
	return append(append([]byte{prefixSharing, sharingObject}, collection...), 0)
}

func sharedKey(collection, id string, version int64) []byte {
	k := append(append(sharedPrefix(collection), id...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(version)^(1<<63))
}

func statusKey(id string) []byte { return append([]byte{prefixSharing, sharingStatus}, id...) }

func appendFeedRecord(dst []byte, f *store.Feed) []byte {
	for _, s := range []string{f.URL, f.Collection, f.Key, f.TLPMax, f.LastError} {
		dst = appendString(dst, s)
	}
	asWatches := int64(0)
	if f.AsWatches {
		asWatches = 1
	}
	for _, v := range []int64{asWatches, f.Created, f.LastPull, int64(f.Objects), int64(f.Labels), int64(f.Watches)} {
		dst = appendVarint(dst, v)
	}
	return appendString(dst, f.AddedLast)
}

func decodeFeedRecord(id string, v []byte) (store.Feed, error) {
	r := reader{b: v}
	f := store.Feed{ID: id}
	f.URL, f.Collection, f.Key, f.TLPMax, f.LastError = r.str(), r.str(), r.str(), r.str(), r.str()
	f.AsWatches = r.varint() == 1
	f.Created, f.LastPull = r.varint(), r.varint()
	f.Objects, f.Labels, f.Watches = int(r.varint()), int(r.varint()), int(r.varint())
	if len(r.b) > 0 { // records written before incremental pulls end here
		f.AddedLast = r.str()
	}
	if err := r.done("feed record " + id); err != nil {
		return store.Feed{}, err
	}
	return f, nil
}

// PutFeed implements store.Sharing: synced before it returns.
func (d *DB) PutFeed(ctx context.Context, f store.Feed) error {
	if err := store.CheckFeed(f); err != nil {
		return fmt.Errorf("put feed: %w", err)
	}
	if err := d.ready(ctx); err != nil {
		return err
	}
	if err := d.db.Set(feedKey(f.ID), appendFeedRecord(nil, &f), pebbledb.Sync); err != nil {
		return fmt.Errorf("put feed %s: %w", f.ID, err)
	}
	return nil
}

// ready checks that the store is open and ctx alive.
func (d *DB) ready(ctx context.Context) error {
	if _, _, err := d.code(""); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sharing: %w", err)
	}
	return nil
}

// Feed implements store.Sharing.
func (d *DB) Feed(ctx context.Context, id string) (store.Feed, error) {
	if err := d.ready(ctx); err != nil {
		return store.Feed{}, err
	}
	if store.ValidateFeedID(id) != nil {
		return store.Feed{}, fmt.Errorf("feed %.70q: %w", id, heistgraph.ErrNotFound)
	}
	v, found, err := lookup(d.db, feedKey(id), nil)
	if err != nil {
		return store.Feed{}, fmt.Errorf("feed %s: %w", id, err)
	}
	if !found {
		return store.Feed{}, fmt.Errorf("feed %s: %w", id, heistgraph.ErrNotFound)
	}
	return decodeFeedRecord(id, v)
}

// FeedList implements store.Sharing.
func (d *DB) FeedList(ctx context.Context) iter.Seq2[store.Feed, error] {
	lo := []byte{prefixSharing, sharingFeed}
	return scanPrefix(ctx, d, lo, "feeds", func(k, v []byte) (store.Feed, error) {
		return decodeFeedRecord(string(k[len(lo):]), v)
	})
}

// scanPrefix yields decode of every key and value under lo, in key order.
func scanPrefix[T any](ctx context.Context, d *DB, lo []byte, what string, decode func(k, v []byte) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := d.ready(ctx); err != nil {
			yield(zero, err)
			return
		}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
		if err != nil {
			yield(zero, err)
			return
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				yield(zero, fmt.Errorf("%s: %w", what, err))
				return
			}
			x, err := decode(it.Key(), it.Value())
			if err != nil {
				yield(zero, err)
				return
			}
			if !yield(x, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(zero, fmt.Errorf("%s: %w", what, err))
		}
	}
}

// DeleteFeed implements store.Sharing: synced before it returns.
func (d *DB) DeleteFeed(ctx context.Context, id string) error {
	if _, err := d.Feed(ctx, id); err != nil {
		return fmt.Errorf("delete %w", err)
	}
	if err := d.db.Delete(feedKey(id), pebbledb.Sync); err != nil {
		return fmt.Errorf("delete feed %s: %w", id, err)
	}
	return nil
}

// PutSharedObjects implements store.Sharing: one synced batch.
func (d *DB) PutSharedObjects(ctx context.Context, collection string, objs []store.SharedObject) error {
	if err := store.ValidateShareName("collection", collection); err != nil {
		return fmt.Errorf("put shared objects: %w", err)
	}
	for _, o := range objs {
		if err := store.ValidateShareName("object id", o.ID); err != nil {
			return fmt.Errorf("put shared objects: %w", err)
		}
		if len(o.Raw) == 0 {
			return fmt.Errorf("put shared object %s: no JSON: %w", o.ID, heistgraph.ErrInvalid)
		}
	}
	if err := d.ready(ctx); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	for _, o := range objs {
		v := appendVarint(nil, o.DateAdded)
		v = appendString(v, o.KeyID)
		v = append(v, o.Raw...)
		if err := b.Set(sharedKey(collection, o.ID, o.Version), v, nil); err != nil {
			return fmt.Errorf("put shared objects: %w", err)
		}
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("put shared objects: %w", err)
	}
	return nil
}

// SharedObjects implements store.Sharing.
func (d *DB) SharedObjects(ctx context.Context, collection string) iter.Seq2[store.SharedObject, error] {
	lo := sharedPrefix(collection)
	return scanPrefix(ctx, d, lo, "shared objects", func(k, v []byte) (store.SharedObject, error) {
		rest := k[len(lo):]
		if len(rest) < 10 || rest[len(rest)-9] != 0 {
			return store.SharedObject{}, fmt.Errorf("shared object key %x: %w", k, heistgraph.ErrConflict)
		}
		o := store.SharedObject{ID: string(rest[:len(rest)-9]), Version: int64(binary.BigEndian.Uint64(rest[len(rest)-8:]) ^ (1 << 63))}
		r := reader{b: v}
		o.DateAdded = r.varint()
		o.KeyID = r.str()
		if r.bad {
			return store.SharedObject{}, fmt.Errorf("shared object %s: corrupt record: %w", o.ID, heistgraph.ErrConflict)
		}
		o.Raw = append([]byte(nil), r.b...)
		return o, nil
	})
}

// DeleteSharedObjects implements store.Sharing: one synced batch.
func (d *DB) DeleteSharedObjects(ctx context.Context, collection string, vs []store.SharedVersion) error {
	if err := store.ValidateShareName("collection", collection); err != nil {
		return fmt.Errorf("delete shared objects: %w", err)
	}
	for _, v := range vs {
		if err := store.ValidateShareName("object id", v.ID); err != nil {
			return fmt.Errorf("delete shared objects: %w", err)
		}
	}
	if err := d.ready(ctx); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	for _, v := range vs {
		if err := b.Delete(sharedKey(collection, v.ID, v.Version), nil); err != nil {
			return fmt.Errorf("delete shared objects: %w", err)
		}
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("delete shared objects: %w", err)
	}
	return nil
}

// PutShareStatus implements store.Sharing: synced before it returns.
func (d *DB) PutShareStatus(ctx context.Context, id string, status []byte) error {
	if err := store.ValidateShareName("status id", id); err != nil {
		return fmt.Errorf("put status: %w", err)
	}
	if err := d.ready(ctx); err != nil {
		return err
	}
	if err := d.db.Set(statusKey(id), status, pebbledb.Sync); err != nil {
		return fmt.Errorf("put status %s: %w", id, err)
	}
	return nil
}

// ShareStatus implements store.Sharing.
func (d *DB) ShareStatus(ctx context.Context, id string) ([]byte, error) {
	if err := d.ready(ctx); err != nil {
		return nil, err
	}
	if store.ValidateShareName("status id", id) != nil {
		return nil, fmt.Errorf("status %.70q: %w", id, heistgraph.ErrNotFound)
	}
	v, found, err := lookup(d.db, statusKey(id), nil)
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("status %s: %w", id, heistgraph.ErrNotFound)
	}
	return v, nil
}
