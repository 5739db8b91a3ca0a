package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Store = (*DB)(nil)

// errClosed reports a call on a closed store.
var errClosed = errors.New("pebble store: closed")

// DB is the embedded store. It implements store.Store. Create it with Open
// and release it with Close.
type DB struct {
	db   *pebbledb.DB
	opts Options
	wo   *pebbledb.WriteOptions

	// mu guards chains, nextCode and closed.
	mu       sync.RWMutex
	chains   map[heistgraph.Chain]chainCode
	nextCode chainCode
	closed   bool

	// writeMu serializes ApplyBlock and RewindTo and guards ap.
	writeMu sync.Mutex
	ap      applier

	// labelMu serializes label writes (labels.go).
	labelMu sync.Mutex
	// clusterMu serializes cluster writes (clusters.go).
	clusterMu sync.Mutex
	// keyMu serializes API key writes (keys.go).
	keyMu sync.Mutex
	// auditMu serializes audit appends and guards auditNext, the next
	// sequence number (0 until read from the log; audit.go).
	auditMu   sync.Mutex
	auditNext uint64

	// beforeCommit, when set (by tests), runs just before a block's batch is
	// committed.
	beforeCommit func()
}

// Open opens (creating if needed) the store in dir. It returns an error if
// another process holds dir, or if dir holds a store of another schema
// version.
func Open(dir string, opts Options) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	pdb, err := pebbledb.Open(dir, opts.pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("pebble store %s: %w", dir, err)
	}
	d := &DB{db: pdb, opts: opts, chains: map[heistgraph.Chain]chainCode{}, nextCode: 1, wo: pebbledb.NoSync}
	if opts.SyncWrites {
		d.wo = pebbledb.Sync
	}
	if err := d.load(); err != nil {
		_ = pdb.Close()
		return nil, fmt.Errorf("pebble store %s: %w", dir, err)
	}
	return d, nil
}

// load checks the schema version and reads the chain code table.
func (d *DB) load() error {
	v, found, err := lookup(d.db, metaVersionKey, nil)
	if err != nil {
		return err
	}
	if !found {
		if err := d.db.Set(metaVersionKey, appendUvarint(nil, schemaVersion), pebbledb.Sync); err != nil {
			return err
		}
	} else if n, k := binary.Uvarint(v); k <= 0 || n != schemaVersion {
		return fmt.Errorf("schema version %d, this build reads %d: %w", n, schemaVersion, heistgraph.ErrInvalid)
	}
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: metaChainPrefix, UpperBound: metaChainPrefixE})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(v) != 2 {
			return fmt.Errorf("chain code of %q: %w", it.Key()[len(metaChainPrefix):], errCorrupt)
		}
		c := chainCode(binary.BigEndian.Uint16(v))
		d.chains[heistgraph.Chain(it.Key()[len(metaChainPrefix):])] = c
		if c >= d.nextCode {
			d.nextCode = c + 1
		}
	}
	return it.Error()
}

// code returns the code of chain, or false if nothing was ever stored for
// it.
func (d *DB) code(chain heistgraph.Chain) (chainCode, bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, false, errClosed
	}
	c, ok := d.chains[chain]
	return c, ok, nil
}

// readCode is code for readers: an unknown chain wraps ErrNotFound.
func (d *DB) readCode(chain heistgraph.Chain, what string) (chainCode, error) {
	c, ok, err := d.code(chain)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s on %s: nothing stored for the chain: %w", what, chain, heistgraph.ErrNotFound)
	}
	return c, nil
}

// Sync makes every block applied so far durable (one fsync of the
// write-ahead log).
func (d *DB) Sync() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	if err := d.db.LogData(nil, pebbledb.Sync); err != nil {
		return fmt.Errorf("pebble store: sync: %w", err)
	}
	return nil
}

// Flush writes the memtables out to sorted tables.
func (d *DB) Flush() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return d.db.Flush()
}

// Compact compacts the whole key space, which reclaims the space of
// overwritten and deleted records. It can take long on a big store.
func (d *DB) Compact(ctx context.Context) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return d.db.Compact(ctx, []byte{0}, []byte{0xff}, true)
}

// StoredBytes flushes the memtables and returns the bytes of the live
// sorted tables: the store's size on disk without its write-ahead log.
func (d *DB) StoredBytes(ctx context.Context) (int64, error) {
	if err := d.Flush(); err != nil {
		return 0, err
	}
	m := d.db.Metrics()
	var n int64
	for i := range m.Levels {
		n += m.Levels[i].TablesSize
	}
	return n, nil
}

// Close makes everything applied durable and releases the store. Calling it
// twice returns an error.
func (d *DB) Close() error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	d.closed = true
	serr := d.db.LogData(nil, pebbledb.Sync)
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("pebble store: close: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("pebble store: close: sync: %w", serr)
	}
	return nil
}

// lookup reads key from r and appends its value to dst. found is false (and
// err nil) when the key is absent.
func lookup(r pebbledb.Reader, key, dst []byte) (val []byte, found bool, err error) {
	v, c, err := r.Get(key)
	if err != nil {
		if errors.Is(err, pebbledb.ErrNotFound) {
			return dst, false, nil
		}
		return dst, false, err
	}
	dst = append(dst, v...)
	return dst, true, c.Close()
}

// heightAt reads the height index at height.
func heightAt(r pebbledb.Reader, c chainCode, height int64) (heightRecord, bool, error) {
	var kb [11]byte
	v, closer, err := r.Get(appendHeightKey(kb[:0], c, height))
	if err != nil {
		if errors.Is(err, pebbledb.ErrNotFound) {
			return heightRecord{}, false, nil
		}
		return heightRecord{}, false, err
	}
	hr, err := decodeHeightRecord(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	return hr, true, err
}
