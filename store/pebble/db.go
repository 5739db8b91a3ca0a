package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.Store        = (*DB)(nil)
	_ store.BlockBatcher = (*DB)(nil)
	_ store.WriteCounter = (*DB)(nil)
	_ store.Statser      = (*DB)(nil)
)

// ErrNoStore is the error of a read-only Open of a directory that holds no
// store (or does not exist).
var ErrNoStore = errors.New("pebble store: no store")

// errClosed reports a call on a closed store.
var errClosed = errors.New("pebble store: closed")

// DB is the embedded store. It implements store.Store. Create it with Open
// and release it with Close.
type DB struct {
	db   *pebbledb.DB
	dir  string
	opts Options
	// migratedFrom is the schema version Open migrated the store from (0:
	// none, unspent.go); noUnspent reports a store of schema unspentFrom
	// opened read-only (not migrated: it has no unspent outputs).
	migratedFrom int
	noUnspent    bool
	wo           *pebbledb.WriteOptions
	h            *health
	// blocks is Pebble's block cache, given back what the memtables
	// reserve in it (blockshare.go).
	blocks *blockShare
	// noSettle, set by SkipSettle, keeps Close from compacting level 0.
	noSettle atomic.Bool
	// committed is the bytes of the batches this open committed (settles).
	committed atomic.Uint64

	// dirty is set by every commit that was not synced, and cleared by
	// Sync (see commit).
	dirty atomic.Bool

	// writes counts commits (see commit); tips memoizes each chain's tip
	// (chainCode -> *tipMemo), valid while writes has not moved.
	writes atomic.Uint64
	// addrCache holds address table entries for readers (addrtable.go).
	addrCache addrCache
	tips      sync.Map
	// clusterNexts memoizes each chain's clustering next address id
	// (chainCode -> *nextAddrMemo) the same way (clusteraddr.go).
	clusterNexts sync.Map
	// addrKept memoizes each chain's first address id no rewind can have
	// replaced (chainCode -> uint64; clusteraddr.go).
	addrKept sync.Map
	// refs caches account block hashes and times (accounts_refs.go).
	refs acctRefCache

	// mu guards chains, nextCode and closed.
	mu       sync.RWMutex
	chains   map[heistgraph.Chain]chainCode
	nextCode chainCode
	closed   bool

	// writeMu serializes ApplyBlock and RewindTo and guards ap.
	writeMu sync.Mutex
	ap      applier
	// feeds are the chains' feeds of applied blocks (feed.go; writeMu
	// guards it).
	feeds map[heistgraph.Chain]func(store.BlockRecords)

	// labelMu serializes label writes (labels.go).
	labelMu sync.Mutex
	// clusterMu serializes cluster writes (clusters.go).
	clusterMu sync.Mutex
	// keyMu serializes API key writes (keys.go).
	keyMu sync.Mutex
	// keyMemo memoizes KeyByHash (keys.go).
	keyMemo keyMemo
	// auditMu serializes audit appends and guards auditNext, the next
	// sequence number (0 until read from the log; audit.go).
	auditMu   sync.Mutex
	auditNext uint64
	// auditLog is the audit log's file and auditBuf the records of the
	// batch being appended (auditlog.go; auditMu guards auditBuf).
	auditLog *auditFile
	auditBuf []byte
	// alertMu serializes writes to the alert and webhook tables and guards
	// alertNext, the next alert seq (0 until read; alerts.go).
	alertMu   sync.Mutex
	alertNext uint64

	// beforeCommit, when set (by tests), runs just before a block's batch is
	// committed.
	beforeCommit func()
}

// Open opens (creating if needed) the store in dir; with opts.ReadOnly it
// opens an existing store for reading only. It returns an *InUseError if
// another process holds dir, and an error if dir holds a store of another
// schema version (or, read-only, no store at all).
func Open(dir string, opts Options) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		fsys := opts.FS
		if fsys == nil {
			fsys = vfs.Default
		}
		if _, err := fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", dir, ErrNoStore)
		}
	}
	if opts.MaxOpenFiles == 0 {
		opts.MaxOpenFiles = maxOpenFiles(opts.CacheSize)
	}
	h := newHealth(opts.OnFail)
	po, share := opts.pebbleOptions(h), newBlockShare(&opts)
	po.Cache = share.cache
	po.FileCache = fileCache(opts.MaxOpenFiles)
	pdb, err := pebbledb.Open(dir, po)
	if po.FileCache != nil {
		po.FileCache.Unref() // the store holds its own reference
	}
	if err != nil {
		share.close()
	}
	if err != nil && opts.ReadOnly && (errors.Is(err, pebbledb.ErrDBDoesNotExist) || errors.Is(err, fs.ErrNotExist)) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoStore)
	}
	if err != nil {
		if ierr := inUse(dir, opts.FS, err); ierr != nil {
			return nil, ierr
		}
		if verr := olderVersion(dir, opts); verr != nil {
			return nil, fmt.Errorf("pebble store %s: %w", dir, verr)
		}
		return nil, fmt.Errorf("pebble store %s: %w", dir, err)
	}
	d := &DB{db: pdb, dir: dir, opts: opts, h: h, chains: map[heistgraph.Chain]chainCode{}, nextCode: 1, wo: pebbledb.NoSync, blocks: share}
	share.follow(pdb)
	closeDB := func() { _ = pdb.Close(); share.close() }
	if opts.SyncWrites {
		d.wo = pebbledb.Sync
	}
	if err := d.load(); err != nil {
		closeDB()
		if files := h.corruptFiles(); len(files) > 0 {
			return nil, fmt.Errorf("pebble store %s: corrupted file %s: %w", dir, strings.Join(files, ", "), err)
		}
		return nil, fmt.Errorf("pebble store %s: %w", dir, err)
	}
	if !opts.ReadOnly {
		// The files of a bulk-loaded group a killed process did not
		// ingest (bulk.go); the process holds the store's lock.
		if err := d.removeIngestLeftovers(bulkPrefix); err != nil {
			closeDB()
			return nil, fmt.Errorf("pebble store %s: %w", dir, err)
		}
	}
	if d.auditLog, err = openAuditFile(d.fs(), dir, opts.ReadOnly); err != nil {
		closeDB()
		return nil, fmt.Errorf("pebble store %s: %w", dir, err)
	}
	return d, nil
}

// olderVersion returns the error of load for a store in dir that Pebble
// refused to open: one of schema version 10 or older, written with
// Pebble's default comparer (comparer.go), which it opens read-only with
// that comparer to read the version; nil when that fails too or finds
// this version.
func olderVersion(dir string, opts Options) error {
	opts.ReadOnly = true
	po := opts.pebbleOptions(newHealth(nil))
	po.Comparer = pebbledb.DefaultComparer
	pdb, err := pebbledb.Open(dir, po)
	if err != nil {
		return nil
	}
	defer pdb.Close()
	v, found, err := lookup(pdb, metaVersionKey, nil)
	if n, k := binary.Uvarint(v); err == nil && found && k > 0 && n != schemaVersion {
		return versionError(n)
	}
	return nil
}

// versionError is the error of a store of schema version n, not this
// build's.
func versionError(n uint64) error {
	if n > schemaVersion {
		return fmt.Errorf("schema version %d, this build reads %d (the store was written by a newer heistgraph): open it with that build or a later one: %w", n, schemaVersion, heistgraph.ErrInvalid)
	}
	return fmt.Errorf("schema version %d, this build reads %d (the layout changed): re-ingest into a new data directory: %w", n, schemaVersion, heistgraph.ErrInvalid)
}

// fs is the file system the store lives on.
func (d *DB) fs() vfs.FS {
	if d.opts.FS != nil {
		return d.opts.FS
	}
	return vfs.Default
}

// Failed returns a channel that is closed when the store hits a storage
// fault it cannot continue after (Err then returns it). A caller that waits
// on the store (a command line, a server) selects on it to stop within
// seconds instead of hanging on a store that can no longer write.
func (d *DB) Failed() <-chan struct{} { return d.h.failed }

// Err returns the storage fault that failed the store (wrapping ErrFailed),
// or nil while it is healthy.
func (d *DB) Err() error {
	if err := d.h.fatal(); err != nil {
		return fmt.Errorf("pebble store %s: %w", d.dir, err)
	}
	return nil
}

// CorruptFiles returns the paths of the files Pebble found corrupted (a
// checksum that does not match) since the store was opened, so that an
// error can name them.
func (d *DB) CorruptFiles() []string { return d.h.corruptFiles() }

// guard runs fn, a call into Pebble, and turns the panic of a Pebble
// Fatalf (see health.onFatal) into the error it reports, wrapping
// ErrFailed.
func (d *DB) guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fp, ok := r.(fatalPanic)
			if !ok {
				panic(r)
			}
			err = fp.err
		}
	}()
	return fn()
}

// commit commits b with the store's write options and marks the store
// dirty until the next Sync. Every write of the backend goes through it.
func (d *DB) commit(b *pebbledb.Batch) error {
	if err := d.h.fatal(); err != nil {
		return err
	}
	d.committed.Add(uint64(b.Len()))
	err := d.guard(func() error { return b.Commit(d.wo) })
	// Whatever happened, memoized reads taken before this commit are
	// stale from now on.
	d.writes.Add(1)
	if err == nil && d.wo != pebbledb.Sync {
		d.dirty.Store(true)
	}
	return err
}

// Writes implements store.WriteCounter: the commits of chain data,
// labels, clusters, incidents, links and prices (commit), and the watch
// writes. The process holds the store's lock, so no other process writes.
func (d *DB) Writes() uint64 { return d.writes.Load() }

// empty reports whether the store holds no key at all.
func (d *DB) empty() (bool, error) {
	it, err := d.db.NewIter(nil)
	if err != nil {
		return false, err
	}
	ok := it.First()
	if err := it.Close(); err != nil {
		return false, err
	}
	return !ok, nil
}

// load checks the schema version and reads the chain code table.
func (d *DB) load() (err error) {
	v, found, err := lookup(d.db, metaVersionKey, nil)
	if err != nil {
		return err
	}
	if !found && d.opts.ReadOnly {
		// A store is created with its version (synced) before anything
		// else is written; a process killed in between leaves a store with
		// no keys at all, which holds nothing yet: no store.
		empty, err := d.empty()
		if err != nil {
			return err
		}
		if empty {
			return ErrNoStore
		}
		return fmt.Errorf("no schema version but data: %w", errCorrupt)
	}
	if !found {
		if err := d.db.Set(metaVersionKey, appendUvarint(nil, schemaVersion), pebbledb.Sync); err != nil {
			return err
		}
	} else if n, k := binary.Uvarint(v); k <= 0 || n != schemaVersion && n != unspentFrom {
		return versionError(n)
	} else if n == unspentFrom && d.opts.ReadOnly {
		d.noUnspent = true
	} else if n == unspentFrom {
		// Built once the chain table is read (a read-only open reads the
		// older store as it is: no read needs the unspent outputs).
		defer func() {
			if err == nil {
				err = d.migrateUnspent()
			}
		}()
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

// Sync makes every write that has returned durable (one fsync of the
// write-ahead log): after it returns nil, a crash or a SIGKILL loses none of
// them. It costs nothing when nothing was written since the last Sync, and
// nothing on a read-only store.
func (d *DB) Sync() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return d.sync()
}

func (d *DB) sync() error {
	if !d.dirty.Swap(false) {
		return nil
	}
	if err := d.guard(func() error { return d.db.LogData(nil, pebbledb.Sync) }); err != nil {
		d.dirty.Store(true)
		return fmt.Errorf("pebble store %s: sync: %w", d.dir, err)
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

// SkipSettle makes Close leave the memtable and level 0 as they are (the
// next open compacts them in the background) instead of compacting them
// down after a bulk load or an open that wrote a memtable's worth
// (settle): for a load that was interrupted, whose process should exit
// without a long compaction first.
func (d *DB) SkipSettle() { d.noSettle.Store(true) }

// settles reports whether Close compacts level 0 down (settle): after a
// bulk load, or an open that committed a memtable's worth of writes or
// more, unless SkipSettle.
func (d *DB) settles() bool {
	return !d.opts.ReadOnly && !d.noSettle.Load() && (d.opts.BulkLoad || d.committed.Load() >= d.opts.MemTableSize)
}

// Close makes everything written durable and releases the store. Calling
// it twice returns an error. On a store that failed (see Failed) it returns
// the fault without waiting for Pebble, whose locks the failed write may
// hold: the process should exit soon after.
func (d *DB) Close() error {
	if err := d.Err(); err != nil {
		return err
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if !d.opts.ReadOnly {
		// No write is under way (writeMu): the memtable and level 0,
		// grown deep under BulkLoad or by this open's writes, are
		// compacted down before the store closes (where that is cheap:
		// settle).
		d.mu.RLock()
		closed := d.closed
		d.mu.RUnlock()
		if !closed && d.settles() {
			if err := d.settle(context.Background()); err != nil {
				d.opts.Logger.Warn("compacting level 0 before closing", "err", err)
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	d.closed = true
	serr := d.sync()
	if err := d.Err(); err != nil {
		return err
	}
	d.auditMu.Lock() // an append under way finishes first
	aerr := d.auditLog.sync()
	if err := d.auditLog.close(); aerr == nil {
		aerr = err
	}
	d.auditMu.Unlock()
	err := d.db.Close()
	d.blocks.close()
	if err != nil {
		return fmt.Errorf("pebble store: close: %w", err)
	}
	if aerr != nil {
		return fmt.Errorf("pebble store: close the audit log: %w", aerr)
	}
	if serr != nil {
		return fmt.Errorf("pebble store: close: %w", serr)
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
