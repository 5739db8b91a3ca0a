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

// removeIngestLeftovers removes the files a killed ingesting commit left,
// those whose names start with prefix.
func (d *DB) removeIngestLeftovers(prefix string) error {
	fs := d.fs()
	names, err := fs.List(d.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".sst") {
			if err := fs.Remove(fs.PathJoin(d.dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// kvSink takes a commit's writes in key order: a *pebbledb.Batch, or a
// tableSink.
type kvSink interface {
	Set(key, val []byte, _ *pebbledb.WriteOptions) error
	Delete(key []byte, _ *pebbledb.WriteOptions) error
}

// tableSink writes the writes it is given, in key order, as one sstable per
// table in the store's directory, collapsed to one write per key with the
// meaning the same writes have in a batch: the last Set or Delete wins, and
// Merge operands are combined with the store's merge operator (over the
// Set or Delete before them into a Set, alone into one operand). ingest
// hands the files to Pebble.
type tableSink struct {
	d      *DB
	fs     vfs.FS
	wo     sstable.WriterOptions
	merger *pebbledb.Merger
	// name starts the files' names (removeIngestLeftovers); split is the
	// length of the key prefix that names a key's table: a key of another
	// table starts a new file.
	name  string
	split int
	// bottom, when set, names the tables whose files are expected to land
	// in the bottom level (their keys arrive in order): they are written
	// with that level's options (wo6: zstd, larger blocks, the fast codec
	// for the outputs: fastTable), as a compaction into it would write
	// them.
	bottom func(table []byte) bool
	wo6    sstable.WriterOptions
	// tail, when set, returns the last key stored in a table (nil when it
	// holds none). The keys of a file past it are cut into a file of
	// their own, written like a bottom table's: it overlaps nothing stored
	// and lands in the bottom level. last is the current table's, when cut
	// is set (the current file holds keys at or before it).
	tail  func(table []byte) ([]byte, error)
	last  []byte
	cut   bool
	paths []string
	w     *sstable.Writer
	table []byte // the table prefix of w's keys
	// The pending write, held until the next key differs: its key, kind
	// and value, or, for merge operands, the merge under way (merged
	// true), over a Set or a Delete (based true) or not.
	key     []byte
	val     []byte
	kind    byte
	pending bool
	vm      pebbledb.ValueMerger
	merged  bool
	based   bool
	err     error
}

func (d *DB) newTableSink() *tableSink {
	return d.newSink(ingestPrefix, idKeyLen-8)
}

// newSink returns a tableSink whose files are named name... and split by
// their keys' first split bytes.
func (d *DB) newSink(name string, split int) *tableSink {
	po := d.opts.pebbleOptions(d.h)
	po.EnsureDefaults()
	// The flush's options (its fast codec): compressing with the bottom
	// level's zstd was a tenth of a run's CPU.
	t := &tableSink{d: d, fs: d.fs(), wo: po.MakeWriterOptions(0, d.db.TableFormat()), merger: po.Merger, name: name, split: split,
		wo6: po.MakeWriterOptions(len(po.Levels)-1, d.db.TableFormat())}
	// Not marked as the lowest level's own table: a file that overlaps
	// what is stored lands higher up, where a deletion it holds must
	// still hide what is below (the lowest level's tables mark deletions
	// obsolete).
	t.wo6.WritingToLowestLevel = false
	return t
}

func (t *tableSink) Set(key, val []byte, _ *pebbledb.WriteOptions) error {
	return t.add(opSet, key, val)
}

func (t *tableSink) Delete(key []byte, _ *pebbledb.WriteOptions) error {
	return t.add(opDelete, key, nil)
}

func (t *tableSink) Merge(key, val []byte, _ *pebbledb.WriteOptions) error {
	return t.add(opMerge, key, val)
}

func (t *tableSink) add(kind byte, key, val []byte) error {
	if t.err != nil {
		return t.err
	}
	if t.pending {
		switch c := bytes.Compare(key, t.key); {
		case c < 0:
			t.err = fmt.Errorf("ingest: keys out of order: %w", errCorrupt)
			return t.err
		case c == 0 && kind == opMerge:
			t.err = t.merge(val)
			return t.err
		case c > 0:
			if t.err = t.put(); t.err != nil {
				return t.err
			}
		}
	}
	t.key, t.val, t.kind, t.pending = append(t.key[:0], key...), append(t.val[:0], val...), kind, true
	t.vm, t.merged, t.based = nil, false, false
	return nil
}

// merge adds a merge operand to the pending write of its key.
func (t *tableSink) merge(val []byte) error {
	if t.merged {
		return t.vm.MergeNewer(val)
	}
	m := t.merger
	if t.kind == opDelete {
		// Operands over a deletion: what a read sees is their merge alone,
		// and the deletion still hides what is stored (a Set).
		vm, err := m.Merge(t.key, val)
		t.vm, t.merged, t.based = vm, true, true
		return err
	}
	vm, err := m.Merge(t.key, t.val)
	if err == nil {
		err = vm.MergeNewer(val)
	}
	t.vm, t.merged, t.based = vm, true, t.kind == opSet
	return err
}

// put writes the pending write, to a new file when its table is not the
// current file's.
func (t *tableSink) put() error {
	t.pending = false
	if err := t.file(t.key); err != nil {
		return err
	}
	if t.merged {
		v, closer, err := t.vm.Finish(t.based && t.kind == opSet)
		if err == nil {
			if t.based {
				err = t.w.Set(t.key, v)
			} else {
				err = t.w.Merge(t.key, v)
			}
		}
		if closer != nil {
			if cerr := closer.Close(); err == nil {
				err = cerr
			}
		}
		t.vm, t.merged = nil, false
		return err
	}
	return t.write(t.kind, t.key, t.val)
}

// one writes the only write to key, which follows every write given so
// far in key order: without copying it, or holding it for writes to the
// same key.
func (t *tableSink) one(kind byte, key, val []byte) error {
	if t.err != nil {
		return t.err
	}
	if t.pending {
		if t.err = t.put(); t.err != nil {
			return t.err
		}
	}
	if t.err = t.file(key); t.err != nil {
		return t.err
	}
	t.err = t.write(kind, key, val)
	return t.err
}

// clone returns a sink like t, with no writes and no files yet.
func (t *tableSink) clone() *tableSink {
	return &tableSink{d: t.d, fs: t.fs, wo: t.wo, merger: t.merger, name: t.name, split: t.split,
		bottom: t.bottom, wo6: t.wo6, tail: t.tail}
}

// finish writes the pending write and closes the current file: the next
// write may go anywhere in key order, to a file of its own.
func (t *tableSink) finish() error {
	if t.err == nil && t.pending {
		t.err = t.put()
	}
	if t.err == nil {
		t.err = t.closeFile()
	}
	return t.err
}

// file makes the current file the one of key's table, starting a new file
// when it is not (or when key starts the table's tail).
func (t *tableSink) file(key []byte) error {
	if t.w != nil && bytes.HasPrefix(key, t.table) {
		if !t.cut || bytes.Compare(key, t.last) <= 0 {
			return nil
		}
		t.cut = false
		return t.open(key, true)
	}
	table := key[:min(len(key), t.split)]
	bottom := t.bottom != nil && t.bottom(table)
	t.cut = false // the last table's cut
	if t.tail != nil && !bottom {
		last, err := t.tail(table)
		if err != nil {
			return err
		}
		if bottom = last == nil || bytes.Compare(key, last) > 0; !bottom {
			t.last, t.cut = append(t.last[:0], last...), true
		}
	}
	return t.open(key, bottom)
}

// open starts a new file for key's table, with the bottom level's options
// when bottom is set.
func (t *tableSink) open(key []byte, bottom bool) error {
	if err := t.closeFile(); err != nil {
		return err
	}
	p := t.fs.PathJoin(t.d.dir, fmt.Sprintf("%s%d-%d.sst", t.name, os.Getpid(), ingestSeq.Add(1)))
	f, err := t.fs.Create(p, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	t.paths = append(t.paths, p)
	t.table = append(t.table[:0], key[:min(len(key), t.split)]...)
	t.w = sstable.NewWriter(newTableWritable(f), t.options(key, bottom))
	return nil
}

// options returns the writer options of a file of key's table, the bottom
// level's when bottom is set: with the fast codec for a fastTable, as a
// compaction writes it (tableSpanPolicy), and smaller blocks for a
// smallBlockTable.
func (t *tableSink) options(key []byte, bottom bool) sstable.WriterOptions {
	if !bottom {
		return t.wo
	}
	wo := t.wo6
	if fastTable(key) {
		wo.Compression = t.wo.Compression
	}
	if smallBlockTable(key) {
		wo.BlockSize = smallBlockSize
	}
	return wo
}

// write adds one write to the current file.
func (t *tableSink) write(kind byte, key, val []byte) error {
	switch kind {
	case opDelete:
		return t.w.Delete(key)
	case opMerge:
		return t.w.Merge(key, val)
	}
	return t.w.Set(key, val)
}

// closeFile finishes the current file (synced on close).
func (t *tableSink) closeFile() error {
	if t.w == nil {
		return nil
	}
	err := t.w.Close()
	t.w = nil
	return err
}

// discard removes the files written, when they are not ingested.
func (t *tableSink) discard() {
	_ = t.closeFile()
	for _, p := range t.paths {
		_ = t.fs.Remove(p)
	}
	t.paths = nil
}

// ingest finishes the files and ingests them in one atomic step, durable
// when it returns (the files are synced and the manifest that names them
// too). The files are removed when it fails.
func (t *tableSink) ingest(ctx context.Context) error {
	err := t.finish()
	if err == nil && len(t.paths) > 0 {
		if err = t.d.h.fatal(); err == nil {
			var st pebbledb.IngestOperationStats
			err = t.d.guard(func() (err error) {
				st, err = t.d.db.IngestWithStats(ctx, t.paths)
				return err
			})
			t.d.writes.Add(1)
			if err == nil {
				t.d.ingestStats(t.name, st, len(t.paths))
				t.paths = nil // Pebble's now
			}
		}
	}
	t.discard()
	return err
}
