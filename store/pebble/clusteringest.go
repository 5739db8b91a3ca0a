package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// clusterIngestMin is the size of a run's writes (clusterRun.size) from
// which a commit writes them as sstables and ingests them (DB.Ingest)
// instead of committing a batch: the writes then skip the write-ahead
// log, the memtable and its flush, and a table whose keys land where the
// store has none (every table of a rebuilt clustering's first commit, the
// id, block and evidence tables always) goes to the bottom level, never
// compacted again. Smaller commits (a follower's block or two) stay
// batches: one ingestion is a few files and a manifest write. A variable
// so that tests can take the ingesting path with small worlds.
var clusterIngestMin = 8 << 20

// ingestPrefix names the files an ingesting commit writes in the store's
// directory before Pebble takes them (Ingest moves them into its own
// names). A file left by a process that stopped in between is removed by
// the next run (removeIngestLeftovers).
const ingestPrefix = "clusterrun-"

var ingestSeq atomic.Uint64

// removeIngestLeftovers removes the files a killed ingesting commit left.
func (d *DB) removeIngestLeftovers() error {
	fs := d.fs()
	names, err := fs.List(d.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, ingestPrefix) && strings.HasSuffix(n, ".sst") {
			if err := fs.Remove(fs.PathJoin(d.dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// ingestBatch writes the writes of b, which are in key order (clusterWrites
// puts them so), as one sstable per cluster table and ingests them in one
// atomic step. Several writes to one key keep the last, as the batch
// would. Ingestion is durable when it returns (the files are synced and
// the manifest that names them too).
func (d *DB) ingestBatch(ctx context.Context, b *pebbledb.Batch) (err error) {
	if err := d.h.fatal(); err != nil {
		return err
	}
	fs := d.fs()
	po := d.opts.pebbleOptions(d.h)
	po.EnsureDefaults()
	wo := po.MakeWriterOptions(0, d.db.TableFormat())
	var (
		paths   []string
		w       *sstable.Writer
		table   []byte // the table prefix of w's keys
		key     []byte
		val     []byte
		kind    pebbledb.InternalKeyKind
		pending bool
	)
	defer func() {
		if w != nil {
			_ = w.Close()
		}
		if err != nil {
			for _, p := range paths {
				_ = fs.Remove(p)
			}
		}
	}()
	put := func() error {
		if !pending {
			return nil
		}
		pending = false
		if w == nil || !bytes.HasPrefix(key, table) {
			if w != nil {
				if err := w.Close(); err != nil {
					w = nil
					return err
				}
				w = nil
			}
			p := fs.PathJoin(d.dir, fmt.Sprintf("%s%d-%d.sst", ingestPrefix, os.Getpid(), ingestSeq.Add(1)))
			f, err := fs.Create(p, vfs.WriteCategoryUnspecified)
			if err != nil {
				return err
			}
			paths = append(paths, p)
			w = sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
			table = append(table[:0], key[:min(len(key), idKeyLen-8)]...)
		}
		if kind == pebbledb.InternalKeyKindDelete {
			return w.Delete(key)
		}
		return w.Set(key, val)
	}
	r := b.Reader()
	for {
		k, uk, v, ok, rerr := r.Next()
		if rerr != nil {
			return rerr
		}
		if !ok {
			break
		}
		if k != pebbledb.InternalKeyKindSet && k != pebbledb.InternalKeyKindDelete {
			return fmt.Errorf("ingest clusters: write of kind %s: %w", k, errCorrupt)
		}
		if pending {
			switch c := bytes.Compare(uk, key); {
			case c < 0:
				return fmt.Errorf("ingest clusters: keys out of order: %w", errCorrupt)
			case c > 0:
				if err := put(); err != nil {
					return err
				}
			}
		}
		key, val, kind, pending = append(key[:0], uk...), append(val[:0], v...), k, true
	}
	if err := put(); err != nil {
		return err
	}
	if w != nil {
		err := w.Close()
		w = nil
		if err != nil {
			return err
		}
	}
	if len(paths) == 0 {
		return nil
	}
	err = d.guard(func() error { return d.db.Ingest(ctx, paths) })
	d.writes.Add(1)
	if err == nil {
		paths = nil // Pebble's now
	}
	return err
}
