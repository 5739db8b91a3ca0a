package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

var (
	_ store.Store            = (*DB)(nil)
	_ storetest.SizeReporter = (*DB)(nil)
)

// openMem opens a store on an in-memory file system, closed at the end of
// the test. A small memtable makes the tests go through flushed tables too.
func openMem(tb testing.TB, memtable uint64) *DB {
	tb.Helper()
	opts := DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.MemTableSize = memtable
	db, err := Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil && !errors.Is(err, errClosed) {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openMem(t, 256<<10) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openMem(b, DefaultMemTableSize) })
}

// BenchmarkStoreDisk runs the benchmarks on the operating system's disk
// (a temporary directory), where the in-memory file system's costs of
// growing files do not count.
func BenchmarkStoreDisk(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		db, err := Open(b.TempDir(), DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := db.Close(); err != nil {
				b.Errorf("close: %v", err)
			}
		})
		return db
	})
}

func mustApply(t *testing.T, db *DB, blocks ...*heistgraph.Block) {
	t.Helper()
	for _, b := range blocks {
		if err := db.ApplyBlock(context.Background(), b); err != nil {
			t.Fatalf("apply block %d: %v", b.Height, err)
		}
	}
}

func mustDigest(t *testing.T, db *DB, c heistgraph.Chain) heistgraph.Hash {
	t.Helper()
	d, err := db.Digest(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	regtest := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 1, 50)
	mainnet := storetest.NewGenerator(heistgraph.ChainBTC, 2, 50)
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		mustApply(t, db, regtest.Next(), mainnet.Next())
	}
	dr, dm := mustDigest(t, db, heistgraph.ChainBTCRegtest), mustDigest(t, db, heistgraph.ChainBTC)
	tip, err := db.Tip(ctx, heistgraph.ChainBTC)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if mustDigest(t, db, heistgraph.ChainBTCRegtest) != dr || mustDigest(t, db, heistgraph.ChainBTC) != dm {
		t.Fatal("digests changed across close and reopen")
	}
	if got, err := db.Tip(ctx, heistgraph.ChainBTC); err != nil || got != tip {
		t.Fatalf("tip after reopen %+v, %v; want %+v", got, err, tip)
	}
	// The chain codes were persisted: a third chain gets a new code and
	// the first two keep theirs.
	signet := storetest.NewGenerator(heistgraph.ChainBTCSignet, 3, 10)
	mustApply(t, db, signet.Next(), regtest.Next())
	if mustDigest(t, db, heistgraph.ChainBTC) != dm {
		t.Fatal("applying other chains changed btc's digest")
	}
	if len(db.chains) != 3 || db.chains[heistgraph.ChainBTCSignet] != 3 {
		t.Fatalf("chain codes %v, want 3 chains with signet at 3", db.chains)
	}
}

func TestAtomicBatch(t *testing.T) {
	db := openMem(t, DefaultMemTableSize)
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 5, 40)
	mustApply(t, db, g.Next(), g.Next(), g.Next())
	before := mustDigest(t, db, heistgraph.ChainBTCRegtest)
	next := g.Next()

	t.Run("apply cancelled before commit writes nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		db.beforeCommit = cancel
		defer func() { db.beforeCommit = nil }()
		if err := db.ApplyBlock(ctx, next); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if mustDigest(t, db, heistgraph.ChainBTCRegtest) != before {
			t.Error("a cancelled apply changed the store")
		}
		if _, err := db.Tx(context.Background(), heistgraph.ChainBTCRegtest, next.Txs[1].TxID); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("tx of the cancelled block: %v, want ErrNotFound", err)
		}
	})
	t.Run("first block of a new chain cancelled", func(t *testing.T) {
		other := storetest.NewGenerator(heistgraph.ChainBTCSignet, 1, 5).Next()
		ctx, cancel := context.WithCancel(context.Background())
		db.beforeCommit = cancel
		defer func() { db.beforeCommit = nil }()
		if err := db.ApplyBlock(ctx, other); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if _, ok := db.chains[heistgraph.ChainBTCSignet]; ok {
			t.Error("a cancelled first block registered its chain")
		}
	})
	mustApply(t, db, next)
	after := mustDigest(t, db, heistgraph.ChainBTCRegtest)
	t.Run("rewind cancelled before commit removes nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		db.beforeCommit = cancel
		defer func() { db.beforeCommit = nil }()
		if err := db.RewindTo(ctx, heistgraph.ChainBTCRegtest, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if mustDigest(t, db, heistgraph.ChainBTCRegtest) != after {
			t.Error("a cancelled rewind changed the store")
		}
	})
	if err := db.RewindTo(context.Background(), heistgraph.ChainBTCRegtest, 2); err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, db, heistgraph.ChainBTCRegtest) != before {
		t.Error("rewind did not restore the store")
	}
}

func TestConcurrentReads(t *testing.T) {
	db := openMem(t, 256<<10)
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 9, 30)
	first := g.Next()
	mustApply(t, db, first)
	addr := first.Txs[0].Outputs[0].Address
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := db.Tx(ctx, heistgraph.ChainBTCRegtest, first.Txs[0].TxID); err != nil {
				errs <- err
				return
			}
			for _, err := range db.AddressHistory(ctx, heistgraph.ChainBTCRegtest, addr, store.HistoryOptions{}) {
				if err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for i := 0; i < 20; i++ {
		mustApply(t, db, g.Next())
		if i%5 == 4 {
			if err := db.RewindTo(ctx, heistgraph.ChainBTCRegtest, int64(i-2)); err != nil {
				t.Fatal(err)
			}
			g = storetest.NewGenerator(heistgraph.ChainBTCRegtest, 9, 30)
			for h := int64(0); h <= int64(i-2); h++ {
				g.Next()
			}
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatalf("concurrent read: %v", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.db.Set(metaVersionKey, appendUvarint(nil, schemaVersion+1), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("db", Options{FS: fs}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("open of another schema version: %v, want ErrInvalid", err)
	}
}

// TestSchemaVersionOlder: a store of an older layout (version 1 keyed
// address events by address string, version 2 kept every output script,
// version 3 kept addresses in output and tx records as strings, version 7
// may have been rewound without keeping the first id no rewind replaced) is
// refused, naming the directory and telling the user to re-ingest, and is
// left as it was.
func TestSchemaVersionOlder(t *testing.T) {
	for _, version := range []uint64{1, 2, 3, 7, 8, 9} {
		fs := vfs.NewMem()
		db, err := Open("old-store", Options{FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.db.Set(metaVersionKey, appendUvarint(nil, version), nil); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, fs, version)
	}
}

// wantRefused checks that the store old-store in fs, of schema version
// version, is refused by Open, read-only or not, naming the directory and
// the version and telling the user to re-ingest.
func wantRefused(t *testing.T, fs vfs.FS, version uint64) {
	t.Helper()
	refusals(t, fs, "old-store", version, "re-ingest")
}

// refusals opens the store dir in fs, of schema version version, read-write
// and read-only, checks that each open is refused (ErrInvalid) naming the
// directory and the version and saying each of advice, and returns the
// two errors.
func refusals(t *testing.T, fs vfs.FS, dir string, version uint64, advice ...string) []error {
	t.Helper()
	var errs []error
	for _, ro := range []bool{false, true} {
		_, err := Open(dir, Options{FS: fs, ReadOnly: ro})
		if !errors.Is(err, heistgraph.ErrInvalid) {
			t.Fatalf("read-only %v: open of a version %d store: %v, want ErrInvalid", ro, version, err)
		}
		for _, want := range append([]string{dir, fmt.Sprintf("schema version %d,", version)}, advice...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("read-only %v: error %q does not say %q", ro, err, want)
			}
		}
		errs = append(errs, err)
	}
	return errs
}

// TestSchemaVersionNewer: a store written by a newer build (a schema
// version above this build's) is refused, read-only or not, naming the
// directory and the version and telling the user to open it with a newer
// build, not to re-ingest it; and it is left as it was.
func TestSchemaVersionNewer(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open("new-store", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	version := uint64(schemaVersion + 1)
	if err := db.db.Set(metaVersionKey, appendUvarint(nil, version), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, err := range refusals(t, fs, "new-store", version, "newer heistgraph") {
		if strings.Contains(err.Error(), "re-ingest") {
			t.Errorf("error %q tells the user to re-ingest a newer store", err)
		}
	}
	db, err = Open("new-store", Options{FS: fs, ReadOnly: true})
	if err == nil {
		db.Close()
		t.Fatal("the newer store opened after the refusals")
	}
}

// TestSchemaVersionComparer: a store of version 10 or older, written with
// Pebble's default comparer, which Pebble refuses to open with the store's
// (comparer.go), is refused as a store of its version, and left as it was.
func TestSchemaVersionComparer(t *testing.T) {
	fs := vfs.NewMem()
	old := func() *pebbledb.DB {
		t.Helper()
		o := Options{FS: fs}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		po := o.pebbleOptions(newHealth(nil)) // as version 10 opened it
		po.Comparer = pebbledb.DefaultComparer
		db, err := pebbledb.Open("old-store", po)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := old()
	if err := db.Set(metaVersionKey, appendUvarint(nil, 10), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Set(appendHashedAddressKey(nil, 1, 7, 1), []byte{1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, fs, 10)
	db = old()
	v, closer, err := db.Get(metaVersionKey)
	if err != nil || !bytes.Equal(v, appendUvarint(nil, 10)) {
		t.Errorf("version after the refused opens: %x, %v", v, err)
	}
	if err == nil {
		closer.Close()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	db, err := Open("db", Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 1, 1).Next()
	mustApply(t, db, b)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"close", db.Close},
		{"sync", db.Sync},
		{"apply", func() error { return db.ApplyBlock(ctx, b) }},
		{"rewind", func() error { return db.RewindTo(ctx, heistgraph.ChainBTCRegtest, -1) }},
		{"tip", func() error { _, err := db.Tip(ctx, heistgraph.ChainBTCRegtest); return err }},
		{"digest", func() error { _, err := db.Digest(ctx, heistgraph.ChainBTCRegtest); return err }},
		{"history", func() error {
			for _, err := range db.AddressHistory(ctx, heistgraph.ChainBTCRegtest, "x", store.HistoryOptions{}) {
				return err
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, errClosed) {
				t.Errorf("error %v, want errClosed", err)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		invalid bool
	}{
		{"zero value gets defaults", Options{}, false},
		{"defaults", DefaultOptions(), false},
		{"no bloom filters", Options{BloomBitsPerKey: -1}, false},
		{"negative cache", Options{CacheSize: -1}, true},
		{"huge memtable", Options{MemTableSize: 8 << 30}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			err := o.Validate()
			if tc.invalid {
				if !errors.Is(err, heistgraph.ErrInvalid) {
					t.Fatalf("error %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.CacheSize <= 0 || o.MemTableSize == 0 || o.BloomBitsPerKey == 0 || o.Logger == nil {
				t.Errorf("defaults not filled: %+v", o)
			}
		})
	}
}

// TestTipMemo checks that the memoized tip follows every block applied
// and every rewind, including a cancelled one (which leaves it as it was).
func TestTipMemo(t *testing.T) {
	db := openMem(t, DefaultMemTableSize)
	ctx := context.Background()
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 5, 10)
	var blocks []*heistgraph.Block
	for range 4 {
		blocks = append(blocks, g.Next())
	}
	want := func(b *heistgraph.Block) {
		t.Helper()
		for range 2 { // the second read comes from the memo
			tip, err := db.Tip(ctx, heistgraph.ChainBTCRegtest)
			if err != nil {
				t.Fatal(err)
			}
			if tip.Height != b.Height || tip.Hash != b.Hash {
				t.Fatalf("tip %d %s, want %d %s", tip.Height, tip.Hash, b.Height, b.Hash)
			}
		}
	}
	for _, b := range blocks {
		mustApply(t, db, b)
		want(b)
	}
	cctx, cancel := context.WithCancel(ctx)
	db.beforeCommit = cancel
	if err := db.RewindTo(cctx, heistgraph.ChainBTCRegtest, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	db.beforeCommit = nil
	want(blocks[3])
	if err := db.RewindTo(ctx, heistgraph.ChainBTCRegtest, 1); err != nil {
		t.Fatal(err)
	}
	want(blocks[1])
	mustApply(t, db, blocks[2])
	want(blocks[2])
}

// TestKeyMemo checks that KeyByHash's memo sees a revocation at once.
func TestKeyMemo(t *testing.T) {
	db := openMem(t, DefaultMemTableSize)
	ctx := context.Background()
	k := store.APIKey{ID: "k1", Hash: [32]byte{7}, Role: "screener", Created: 1}
	if err := db.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read comes from the memo
		if got, err := db.KeyByHash(ctx, k.Hash); err != nil || got != k {
			t.Fatalf("key = %+v, %v; want %+v", got, err, k)
		}
	}
	if err := db.RevokeKey(ctx, "k1", 5); err != nil {
		t.Fatal(err)
	}
	if got, err := db.KeyByHash(ctx, k.Hash); err != nil || got.Revoked != 5 {
		t.Fatalf("after revoke: %+v, %v; want revoked at 5", got, err)
	}
}

// BenchmarkAccountBytes applies 2,000 generated account-model blocks (every
// transfer kind among 500 addresses and two tokens) and reports the bytes of
// the compacted store per transfer, and the apply rate:
//
//	go test -run '^$' -bench AccountBytes -benchtime 1x ./store/pebble
func BenchmarkAccountBytes(b *testing.B) {
	ctx := context.Background()
	g := storetest.NewAccountGen("eth", 1, 500)
	blocks := g.Blocks(0, 0, 2000, heistgraph.EVMHash{})
	var transfers int64
	for _, blk := range blocks {
		transfers += int64(len(blk.Transfers))
	}
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for _, blk := range blocks {
			if err := db.ApplyAccountBlock(ctx, blk); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(start).Seconds()
		b.StopTimer()
		if err := db.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		n, err := db.StoredBytes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/float64(transfers), "B/transfer")
		b.ReportMetric(float64(transfers)/el, "transfers/s")
		b.ReportMetric(float64(len(blocks))/el, "blocks/s")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
