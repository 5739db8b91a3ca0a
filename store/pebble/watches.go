package pebble

import (
	"context"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Watches = (*DB)(nil)

// The watch table (schema.go): n + name -> watch record (chain, seeds,
// policy, created, incident). Names are checked by
// heistgraph.ValidateWatchName, so key order is name order.
const prefixWatches byte = 'n'

func watchKey(name string) []byte { return append([]byte{prefixWatches}, name...) }

func appendWatchRecord(dst []byte, w *heistgraph.Watch) []byte {
	dst = appendString(dst, string(w.Chain))
	dst = appendUvarint(dst, uint64(len(w.Seeds)))
	for _, s := range w.Seeds {
		dst = appendString(dst, s)
	}
	dst = appendString(dst, w.Policy)
	dst = appendVarint(dst, w.Created)
	return appendString(dst, w.Incident)
}

func decodeWatchRecord(name string, v []byte) (heistgraph.Watch, error) {
	r := reader{b: v}
	w := heistgraph.Watch{Name: name}
	w.Chain = heistgraph.Chain(r.str())
	n := r.uvarint()
	for i := uint64(0); i < n && !r.bad; i++ {
		w.Seeds = append(w.Seeds, r.str())
	}
	w.Policy = r.str()
	w.Created = r.varint()
	w.Incident = r.str()
	if err := r.done("watch record " + name); err != nil {
		return heistgraph.Watch{}, err
	}
	return w, nil
}

// PutWatch implements store.Watches. The watch is synced before it
// returns.
func (d *DB) PutWatch(ctx context.Context, w heistgraph.Watch) error {
	if err := heistgraph.ValidateWatchName(w.Name); err != nil {
		return fmt.Errorf("put watch: %w", err)
	}
	if w.Chain == "" || len(w.Seeds) == 0 {
		return fmt.Errorf("put watch %s: chain and seeds are required: %w", w.Name, heistgraph.ErrInvalid)
	}
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, found, err := lookup(d.db, watchKey(w.Name), nil); err != nil {
		return fmt.Errorf("put watch %s: %w", w.Name, err)
	} else if found {
		return fmt.Errorf("put watch %s: name already stored: %w", w.Name, heistgraph.ErrConflict)
	}
	err = d.db.Set(watchKey(w.Name), appendWatchRecord(nil, &w), pebbledb.Sync)
	d.writes.Add(1) // a watch marks what its trace reaches (store.WriteCounter)
	if err != nil {
		return fmt.Errorf("put watch %s: %w", w.Name, err)
	}
	return nil
}

// Watch implements store.Watches.
func (d *DB) Watch(ctx context.Context, name string) (heistgraph.Watch, error) {
	if _, _, err := d.code(""); err != nil {
		return heistgraph.Watch{}, err
	}
	if err := ctx.Err(); err != nil {
		return heistgraph.Watch{}, fmt.Errorf("watch: %w", err)
	}
	if heistgraph.ValidateWatchName(name) != nil {
		return heistgraph.Watch{}, fmt.Errorf("watch %.40q: %w", name, heistgraph.ErrNotFound)
	}
	v, found, err := lookup(d.db, watchKey(name), nil)
	if err != nil {
		return heistgraph.Watch{}, fmt.Errorf("watch %s: %w", name, err)
	}
	if !found {
		return heistgraph.Watch{}, fmt.Errorf("watch %s: %w", name, heistgraph.ErrNotFound)
	}
	return decodeWatchRecord(name, v)
}

// WatchList implements store.Watches.
func (d *DB) WatchList(ctx context.Context) iter.Seq2[heistgraph.Watch, error] {
	return func(yield func(heistgraph.Watch, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(heistgraph.Watch{}, err)
			return
		}
		lo := []byte{prefixWatches}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
		if err != nil {
			yield(heistgraph.Watch{}, err)
			return
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				yield(heistgraph.Watch{}, fmt.Errorf("watches: %w", err))
				return
			}
			w, err := decodeWatchRecord(string(it.Key()[1:]), it.Value())
			if err != nil {
				yield(heistgraph.Watch{}, err)
				return
			}
			if !yield(w, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(heistgraph.Watch{}, fmt.Errorf("watches: %w", err))
		}
	}
}

// DeleteWatch implements store.Watches: synced before it returns.
func (d *DB) DeleteWatch(ctx context.Context, name string) error {
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if heistgraph.ValidateWatchName(name) != nil {
		return fmt.Errorf("delete watch %.40q: %w", name, heistgraph.ErrNotFound)
	}
	if _, found, err := lookup(d.db, watchKey(name), nil); err != nil {
		return fmt.Errorf("delete watch %s: %w", name, err)
	} else if !found {
		return fmt.Errorf("delete watch %s: %w", name, heistgraph.ErrNotFound)
	}
	err = d.db.Delete(watchKey(name), pebbledb.Sync)
	d.writes.Add(1) // store.WriteCounter
	if err != nil {
		return fmt.Errorf("delete watch %s: %w", name, err)
	}
	return nil
}
