package pebble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

// Options configures a store. The zero value is valid: Validate fills the
// documented defaults.
type Options struct {
	// FS is the file system the store lives on; nil means the operating
	// system's disk. Tests pass vfs.NewMem().
	FS vfs.FS
	// Logger receives Pebble's log lines (info at debug level); nil
	// discards them.
	Logger *slog.Logger
	// CacheSize is the size in bytes of the block cache, for blocks: what
	// Pebble reserves in it for the memtables is given back (blockshare.go).
	// Default 256 MiB.
	CacheSize int64
	// TopBlocks, when positive, gives the block cache room besides
	// CacheSize for the filter and index blocks of the files above the
	// bottom level, up to TopBlocks bytes (read from the files'
	// properties after every run ApplyBlocks commits; blockshare.go).
	// Meant for a store that stands for a chain many times larger, with
	// CacheSize scaled down to the larger chain's share (--store-as): the
	// levels above the bottom one are as large there, level 0 set by the
	// groups and the levels below it by their target sizes, and its cache
	// keeps their blocks, which every point lookup reads. Zero: those
	// blocks share CacheSize with the others, as on any real chain.
	TopBlocks int64
	// MemTableSize is the size in bytes of one memtable. Default 64 MiB;
	// at most 1 GiB.
	MemTableSize uint64
	// BloomBitsPerKey is the bits per key of the Bloom filters, which make
	// point lookups of absent keys (txids and addresses not stored) cheap;
	// the tables never looked up that way have none (filters.go). Default
	// 10 (about 1% false positives); a negative value turns the filters
	// off.
	BloomBitsPerKey int
	// UTXOCacheSize bounds, in bytes of Go's heap, the cache of unspent
	// outputs that resolves spends without a point lookup while blocks
	// are applied (about 400 bytes an output). The cache of address ids
	// takes about a third as much again, and an initial ingest's filters
	// of addresses and txids start at a thirteenth (addrid.go, Memory).
	// Default 160 MiB (419,430 outputs); a negative value turns all of
	// them off.
	UTXOCacheSize int64
	// FilterBytes bounds, in bytes of Go's heap, an initial ingest's
	// filters of addresses and txids as they grow with the chain (about
	// ten bits an address and a txid; ingestfilter.go): five eighths for
	// the addresses, the rest for the txids. Default 64 MiB; a negative
	// value keeps them at the size they start at.
	FilterBytes int64
	// GroupBytes is how much ApplyBlocks writes in one batch at most (the
	// batch may pass it by one block's writes). Default 32 MiB; it is held
	// in memory twice while the batch is built and committed.
	GroupBytes int64
	// BulkLoad makes ApplyBlocks write each group of at least 1 MiB of
	// writes as sorted runs: sstables, one per table, ingested in one
	// atomic and durable step (bulk.go), instead of a batch through the
	// write-ahead log and the memtable. The store's content is the same.
	// Meant for an initial ingest of block files; smaller groups (a
	// follower's blocks) are committed as batches either way. Pebble then
	// lets sixteen times as many files wait in level 0 before it compacts
	// them (bulkL0Factor), and Close compacts level 0 down (DB.settle).
	BulkLoad bool
	// SyncWrites makes every ApplyBlock and every rewound block durable
	// before it returns (an fsync each). By default a block is atomic but
	// becomes durable only at the next Sync, RewindTo or Close.
	SyncWrites bool
	// ReadOnly opens an existing store for reading: nothing is created or
	// written, every write fails, and the store can live on a read-only
	// file system. Read-only opens share the directory with each other but
	// not with a writer.
	ReadOnly bool
	// MaxOpenFiles bounds the sstables Pebble keeps open (its file
	// cache); a read of one it does not hold opens it again. Zero: the
	// process's limit of open files, its soft limit raised to the hard one
	// at Open, less a quarter (at least 256) for the rest of the process
	// (openfiles.go), and no more than a quarter of CacheSize holds at
	// about 4.4 KB an open file (at least 1,000); Pebble's 1,000 where the
	// limit cannot be read.
	// Benchmarks set a small value to give a small chain the full chain's
	// share of open files a file (--open-files). Each store of a process
	// takes that share: a process that opens two at once sets it.
	MaxOpenFiles int
	// OnFail, when set, is called once, on a goroutine of its own, when the
	// store fails for good (see ErrFailed and DB.Failed): a disk that is
	// full, a write-ahead log write that failed, corruption found in the
	// background. Writes that hit a full disk wait forever (Pebble cannot
	// recover from them), so a process that must not hang ends itself from
	// here, also during Open. It is not called for a corrupted table found
	// by a read, which the read reports as its error.
	OnFail func(error)
}

// Defaults of Options.
const (
	DefaultCacheSize       = 256 << 20
	DefaultMemTableSize    = 64 << 20
	DefaultBloomBitsPerKey = 10
	DefaultUTXOCacheSize   = 160 << 20
	DefaultFilterBytes     = 64 << 20
	DefaultGroupBytes      = 32 << 20

	maxMemTableSize = 1 << 30

	// bulkL0Factor multiplies the level 0 thresholds under BulkLoad.
	bulkL0Factor = 16
	// maxL0Factor bounds l0Factor, the thresholds' factor for memtables
	// smaller than the default.
	maxL0Factor = 8
	// levelMultiplier is how many times each level below the base level
	// is larger than the one above (Pebble's default 10).
	levelMultiplier = 4
	// l0FilesPerFactor is the number of level 0 files from which Pebble
	// compacts level 0 whatever its depth, for each unit of the factor
	// (Pebble's default 500 is about 60 at the default thresholds).
	l0FilesPerFactor = 64
	// bulkBlockSize is the data block size of every level under BulkLoad
	// (Pebble's default is 4 KiB; the bottom level has it always).
	bulkBlockSize = 16 << 10
)

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{
		CacheSize:       DefaultCacheSize,
		MemTableSize:    DefaultMemTableSize,
		BloomBitsPerKey: DefaultBloomBitsPerKey,
		UTXOCacheSize:   DefaultUTXOCacheSize,
		FilterBytes:     DefaultFilterBytes,
		GroupBytes:      DefaultGroupBytes,
	}
}

// Validate checks o and fills defaults for zero fields. It returns an error
// wrapping heistgraph.ErrInvalid for a value out of range.
func (o *Options) Validate() error {
	if o.CacheSize < 0 {
		return fmt.Errorf("pebble store: cache size %d < 0: %w", o.CacheSize, heistgraph.ErrInvalid)
	}
	if o.TopBlocks < 0 {
		return fmt.Errorf("pebble store: top blocks %d < 0: %w", o.TopBlocks, heistgraph.ErrInvalid)
	}
	if o.MemTableSize > maxMemTableSize {
		return fmt.Errorf("pebble store: memtable size %d > %d: %w", o.MemTableSize, maxMemTableSize, heistgraph.ErrInvalid)
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MaxOpenFiles < 0 {
		return fmt.Errorf("pebble store: max open files %d < 0: %w", o.MaxOpenFiles, heistgraph.ErrInvalid)
	}
	if o.GroupBytes < 0 {
		return fmt.Errorf("pebble store: group bytes %d < 0: %w", o.GroupBytes, heistgraph.ErrInvalid)
	}
	if o.UTXOCacheSize == 0 {
		o.UTXOCacheSize = DefaultUTXOCacheSize
	}
	if o.FilterBytes == 0 {
		o.FilterBytes = DefaultFilterBytes
	}
	if o.GroupBytes == 0 {
		o.GroupBytes = DefaultGroupBytes
	}
	if o.BloomBitsPerKey == 0 {
		o.BloomBitsPerKey = DefaultBloomBitsPerKey
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// pebbleOptions translates validated Options into Pebble's. h receives the
// storage faults Pebble reports.
func (o *Options) pebbleOptions(h *health) *pebbledb.Options {
	log := slogLogger{l: o.Logger, h: h}
	fs, disk := o.FS, o.FS == nil
	if disk {
		fs = vfs.Default
	}
	if !o.ReadOnly {
		fs = vfs.OnDiskFull(fs, h.diskFull)
	}
	// tableFS: the sstables Pebble writes go to their files in writes of
	// writeBufSize, not 4 KiB (writebuf.go).
	po := &pebbledb.Options{
		FS:                          lockFS{FS: tableFS{fs}, disk: disk, shared: o.ReadOnly},
		Comparer:                    comparer,
		CacheSize:                   o.CacheSize,
		MemTableSize:                o.MemTableSize,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		LBaseMaxBytes:               256 << 20,
		Logger:                      log,
		FormatMajorVersion:          pebbledb.FormatNewest,
		Merger:                      totalsMerger,
		ReadOnly:                    o.ReadOnly,
		ErrorIfNotExists:            o.ReadOnly,
		MaxOpenFiles:                o.MaxOpenFiles,
	}
	po.EventListener = &pebbledb.EventListener{
		BackgroundError: func(err error) {
			log.Errorf("background error: %s", err)
			h.backgroundError(err)
		},
		DataCorruption: func(info pebbledb.DataCorruptionInfo) {
			// The read that found it returns the error; the path is kept to
			// name the file (DB.CorruptFiles).
			log.l.Warn("on-disk corruption", "component", "pebble", "path", info.Path)
			h.corrupted(info.Path)
		},
	}
	// Every table a flush or a compaction writes holds one table of the
	// store (tableEnd): a table whose keys arrive in order (heights, tx
	// numbers, address ids) then overlaps no other table's files, so a bulk
	// group's file of it goes to the bottom level (bulk.go) and a flushed
	// one is rewritten once, not with every compaction of its neighbours
	// (docs/benchmarks.md, "Fewer compactions").
	po.Experimental.SpanPolicyFunc = tableSpanPolicy
	po.Experimental.UserKeyCategories = tableCategories
	// Levels four times larger than the one above, not ten: the randomly
	// keyed tables (the address totals, the clustering, the events and
	// spends of older addresses and outputs, the txid index) reach the
	// bottom level through levels that hold more of them, so each of their
	// keys is rewritten fewer times on its way down (on the large world's
	// bulk load the compactions read 3.2 GB instead of 4.0 and took 39
	// CPU-s instead of 48–54, for 5–9% more disk: the levels above the
	// bottom one are compressed with the fast codec). Every open, not only
	// a bulk load's, so that the next open has no other shape to compact
	// the store into (docs/benchmarks.md, "Compactions of a bulk load:
	// levels four times apart").
	po.Experimental.LevelMultiplier = levelMultiplier
	if o.BulkLoad {
		// Each group adds a file of each table it writes out of order
		// (addresses, txids, the meta keys) to level 0, and each
		// compaction of level 0 rewrites those tables' files in the level
		// below whole: waiting for bulkL0Factor times as many groups
		// divides the rewrites by as much (Pebble compacts level 0 once
		// it is half the threshold deep: 32 groups here). Point reads
		// (an address or a txid the ingest's filters cannot rule out)
		// check more files' Bloom filters in the meantime, which cost
		// less than the rewrites on the large world; Close compacts
		// level 0 down once where that is cheap (DB.settle)
		// (docs/benchmarks.md, "Fewer compactions", "Compactions and
		// sstable writing" and "Compactions of a bulk load").
		po.L0CompactionThreshold = bulkL0Factor * po.L0CompactionThreshold
		po.L0StopWritesThreshold = bulkL0Factor * po.L0StopWritesThreshold
		po.L0CompactionFileThreshold = bulkL0Factor * l0FilesPerFactor
		// The clustering beside a bulk load deletes keys it wrote before
		// (its tables are rewritten as clusters merge): each level 5
		// file that held enough of those deletions made Pebble rewrite
		// the level 6 files under it, one small file at a time (on the
		// large world 171 of 355 compactions, 7% of the bytes they read,
		// most of them rewriting the same few megabytes of the
		// clustering again). They are left to the compactions by size
		// and the settle.
		po.Experimental.TombstoneDenseCompactionThreshold = -1
	} else if f := l0Factor(o.MemTableSize); f > 1 {
		po.L0CompactionThreshold = f * po.L0CompactionThreshold
		po.L0StopWritesThreshold = f * po.L0StopWritesThreshold
	}
	po.TargetFileSizes[0] = 8 << 20
	// zstd (level 1) on the bottom level, which holds nearly all of a
	// store once compacted, and on the value blocks of the level above;
	// the fast codec above, where tables are rewritten soon. Pebble's
	// "Good" profile (zstd 3 on the two bottom levels) cost ingest 18% more
	// CPU for 7% less disk; this one costs none (docs/benchmarks.md,
	// "Compact store layout").
	po.ApplyCompressionSettings(func() pebbledb.DBCompressionSettings { return pebbledb.DBCompressionBalanced })
	// Filters only on the tables looked up by keys that may be absent or
	// in overlapping files, over the keys' prefixes (filters.go,
	// comparer.go).
	// None on the bottom level: Pebble never reads its filters (a Get or
	// an iterator without IterOptions.UseL6Filters reads the block), and
	// they were about 1.5% of a store, which nearly all lives there.
	for i := range po.Levels {
		l := &po.Levels[i]
		if o.BloomBitsPerKey > 0 && i < len(po.Levels)-1 {
			l.FilterPolicy = tableFilter{bloom: bloom.FilterPolicy(o.BloomBitsPerKey)}
		} else {
			l.FilterPolicy = pebbledb.NoFilterPolicy
		}
	}
	// 16 KB blocks on the bottom level (Pebble's default is 4 KB): 2.8%
	// less disk, and reads (show tx, trace, an address's history) were no
	// slower, rather faster, in paired runs; 32 KB gave nothing more
	// (docs/benchmarks.md, "Store layout, fourth round").
	po.Levels[len(po.Levels)-1].BlockSize = bulkBlockSize
	if o.BulkLoad {
		// Under BulkLoad the same 16 KB blocks on every level: the
		// groups' files (the sinks write with level 0's options) and
		// every compaction's output. The writer then ends, compresses
		// and indexes a quarter as many blocks and the compactions' reads
		// load a quarter as many, and the levels above the bottom one
		// compress better: on the large world's bulk load the store came
		// out 3–6% smaller, the writer and the codecs took about 1.5 CPU-s
		// less, and the load's address lookups (seekTotals) did not slow
		// down (docs/benchmarks.md, "Compactions of a bulk load: 16 KB
		// blocks on every level").
		for i := range po.Levels {
			po.Levels[i].BlockSize = bulkBlockSize
		}
	}
	po.CompactionConcurrencyRange = func() (int, int) { return 1, 2 }
	return po
}

// l0Factor is how many times as many flushed files level 0 holds before
// it is compacted when memtables are size bytes: as many more as the
// default memtable is larger (at most maxL0Factor), so that a compaction
// of level 0 takes in about as many bytes as at the default. Every flush
// adds a file of each randomly keyed table (addresses, txids) spanning the
// whole table, and each compaction of level 0 rewrites that table's files
// in the level below whole: memtables four times smaller (--memory 1GiB)
// compacted at the default threshold rewrote them four times as often.
func l0Factor(size uint64) int {
	if size == 0 || size >= DefaultMemTableSize {
		return 1
	}
	return int(min(DefaultMemTableSize/size, maxL0Factor))
}

// slogLogger adapts a *slog.Logger to Pebble's Logger.
type slogLogger struct {
	l *slog.Logger
	h *health
}

func (s slogLogger) Infof(format string, args ...any) {
	s.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf logs and fails the store. Pebble calls it when it cannot go on (a
// write-ahead log write that failed, a broken invariant); see
// health.onFatal for how the caller is stopped without crashing the
// process.
func (s slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.l.Log(context.Background(), slog.LevelError, msg, "component", "pebble", "fatal", true)
	var err error
	for _, a := range args {
		if e, ok := a.(error); ok {
			err = fmt.Errorf("%s: %w", msg, e)
			break
		}
	}
	if err == nil {
		err = errors.New(msg)
	}
	s.h.onFatal(err)
}

// MinMemory is the smallest budget FitMemory accepts.
const MinMemory = 24 << 20

// Bounds of what FitMemory gives out, past which more memory buys nothing
// measurable: the rest of a large budget is left to the caller.
const (
	fitMaxMemTable = 256 << 20
	fitMaxGroup    = 2 * DefaultGroupBytes
)

// FitMemory sizes the store's memory to its share of a process's budget,
// total bytes: the block cache a fifth, each memtable a twentieth (writes
// stop while four are full, so at most a fifth), the output cache a sixth
// (with the address ids cache, which takes about 0.31 of it again), the
// filters of an initial ingest an eighth, and a batch of ApplyBlocks a
// fiftieth (held about five times while it is built, encoded, logged and
// committed). A clustering run's writes follow the memtable (half of one,
// plus 1 MiB, held about twice). Past the memtable's and the batch's
// bounds (budgets above about 3 GiB), three quarters of what their shares
// leave go to the filters too: they need about ten bits an address and a
// txid, which on the full chain is gigabytes (docs/scaling.md, "Branch
// mainnetmem"). Memory reports what that comes to, with the caches
// counted at what they take on Go's heap (TestCacheBytes). Budgets below
// MinMemory wrap heistgraph.ErrInvalid.
func (o *Options) FitMemory(total int64) error {
	if total < MinMemory {
		return fmt.Errorf("pebble store: memory %d bytes < %d: %w", total, MinMemory, heistgraph.ErrInvalid)
	}
	o.CacheSize = total / 5
	o.UTXOCacheSize = total / 6
	o.MemTableSize = uint64(min(total/20, fitMaxMemTable))
	o.GroupBytes = min(total/50, fitMaxGroup)
	// Four memtables and a clustering run's two halves of one, five
	// batches.
	left := 5*(total/20-int64(o.MemTableSize)) + 5*(total/50-o.GroupBytes)
	o.FilterBytes = total/8 + left*3/4
	return nil
}

// MemoryUse is what a store's options let it hold in memory at most, in
// bytes, apart from what every Go program and Pebble's background work
// (compactions, table readers) take.
type MemoryUse struct {
	// Manual is memory Pebble allocates outside Go's heap (with cgo):
	// the block cache (with TopBlocks) and the memtables (four at most).
	Manual int64
	// Heap is memory on Go's heap: the output cache, the address ids
	// cache and the address and txid filters, ApplyBlocks' batch (about five times GroupBytes:
	// the sorted writes, their encoding, the write-ahead log's blocks and
	// Pebble's index of a large batch), a clustering run's writes (twice
	// half a memtable plus 1 MiB).
	Heap int64
}

// Memory returns what o, validated, lets the store hold (see MemoryUse).
func (o *Options) Memory() MemoryUse {
	var m MemoryUse
	m.Manual = o.CacheSize + o.TopBlocks + 4*int64(o.MemTableSize)
	if o.UTXOCacheSize > 0 {
		ids := idCacheBytes(o.UTXOCacheSize)
		filters := ids / addrIDEntryBytes * (addrFilterBytesPerID + txidFilterBytesPerID)
		if o.FilterBytes > 0 {
			filters = o.FilterBytes
		}
		m.Heap = o.UTXOCacheSize + ids + filters
	}
	m.Heap += 5*o.GroupBytes + 2*(int64(o.MemTableSize)/2+1<<20)
	return m
}
