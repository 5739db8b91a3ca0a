package pebble

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store/dump"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// concatDB opens a store on a Pebble whose merge operator concatenates
// (older operands first), which an operand combined in the wrong order
// shows, unlike the address totals' commutative sums.
func concatDB(t *testing.T) *DB {
	t.Helper()
	fs := vfs.NewMem()
	pdb, err := pebbledb.Open("db", &pebbledb.Options{FS: fs, Comparer: comparer, Merger: pebbledb.DefaultMerger, FormatMajorVersion: pebbledb.FormatNewest,
		Logger: slogLogger{l: slog.New(slog.DiscardHandler), h: newHealth(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pdb.Close() })
	return &DB{db: pdb, dir: "db", opts: Options{FS: fs, Logger: slog.New(slog.DiscardHandler)}, h: newHealth(nil)}
}

// randomWrites adds n writes of random kinds to a few keys of three tables
// (some keys written many times) to w. Table a's longer keys are split
// by the comparer (comparer.go): two keys share each prefix.
func randomWrites(rng *rand.Rand, w *sortedWrites, n int) {
	for i := range n {
		key := []byte{byte('a' + rng.IntN(3)), 0, 1, byte(rng.IntN(6))}
		if rng.IntN(4) == 0 {
			key = fmt.Appendf(key, "longer-%d", rng.IntN(2))
		}
		val := fmt.Appendf(nil, "<%d>", i)
		switch rng.IntN(5) {
		case 0, 1:
			_ = w.Merge(key, val, nil)
		case 2:
			_ = w.Delete(key, nil)
		default:
			_ = w.Set(key, val, nil)
		}
	}
}

// contents reads every key and value of d (merges resolved).
func contents(t *testing.T, d *DB) []string {
	t.Helper()
	it, err := d.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, fmt.Sprintf("%q=%q", it.Key(), it.Value()))
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBulkCollapseMatchesBatch writes random runs of Set, Merge and Delete
// (several to one key, in every order) over a random stored state, once as
// a batch and once collapsed into sstables and ingested, and checks that
// reads see the same keys and values, before and after a compaction; with
// a lane (setLanes) for table b or c in some seeds (its keys at random,
// so sorted apart), and one sink instead of one a core in others.
func TestBulkCollapseMatchesBatch(t *testing.T) {
	ctx := context.Background()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 3))
		batch, bulk := concatDB(t), concatDB(t)
		var w sortedWrites
		w.setLanes([][]byte{nil, {'b'}, {'c'}, {'b', 'c'}}[seed%4]...)
		runtime.GOMAXPROCS(procs)
		if seed%5 == 4 {
			runtime.GOMAXPROCS(1) // one sink takes every table
		}
		for round := range 3 {
			// The stored state both start from, then the run under test.
			for _, d := range []*DB{batch, bulk} {
				r := rand.New(rand.NewPCG(seed, uint64(round)))
				randomWrites(r, &w, 30)
				b := d.db.NewBatch()
				if err := w.writeTo(b); err != nil {
					t.Fatal(err)
				}
				if err := b.Commit(pebbledb.NoSync); err != nil {
					t.Fatal(err)
				}
				if round == 1 {
					if err := d.db.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			n := 1 + rng.IntN(60)
			r := rand.New(rand.NewPCG(seed, 100+uint64(round)))
			randomWrites(r, &w, n)
			b := batch.db.NewBatch()
			if err := w.writeTo(b); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(pebbledb.NoSync); err != nil {
				t.Fatal(err)
			}
			r = rand.New(rand.NewPCG(seed, 100+uint64(round)))
			randomWrites(r, &w, n)
			s := bulk.newSink(bulkPrefix, bulkSplit)
			s.merger, s.wo.MergerName, s.wo6.MergerName = pebbledb.DefaultMerger, pebbledb.DefaultMerger.Name, pebbledb.DefaultMerger.Name
			// Table b is written as for the bottom level: its deletions
			// must still hide what is stored when it lands above.
			s.bottom = func(table []byte) bool { return table[0] == 'b' }
			if err := w.sinkTo(s); err != nil {
				t.Fatal(err)
			}
			if err := s.ingest(ctx); err != nil {
				t.Fatalf("seed %d round %d: ingest: %v", seed, round, err)
			}
			if got, want := contents(t, bulk), contents(t, batch); !slices.Equal(got, want) {
				t.Fatalf("seed %d round %d: ingested runs read\n%v\nthe batch\n%v", seed, round, got, want)
			}
		}
		if bulk.db.Metrics().Ingest.Count != 3 {
			t.Fatalf("seed %d: %d ingestions, want 3", seed, bulk.db.Metrics().Ingest.Count)
		}
		for _, d := range []*DB{batch, bulk} {
			if err := d.db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := contents(t, bulk), contents(t, batch); !slices.Equal(got, want) {
			t.Fatalf("seed %d: after a compaction, ingested runs read\n%v\nthe batch\n%v", seed, got, want)
		}
	}
}

// TestBulkSinkRefusesDisorder: keys out of order fail the sink and leave no
// file behind.
func TestBulkSinkRefusesDisorder(t *testing.T) {
	d := concatDB(t)
	s := d.newSink(bulkPrefix, bulkSplit)
	for _, k := range []string{"a01x", "b01x", "a01y"} {
		_ = s.Set([]byte(k), []byte("v"), nil)
	}
	if err := s.ingest(context.Background()); err == nil {
		t.Fatal("keys out of order were ingested")
	}
	names, err := d.fs().List(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if bytes.HasPrefix([]byte(n), []byte(bulkPrefix)) {
			t.Fatalf("a failed ingestion left %s", n)
		}
	}
}

// TestOpenRemovesBulkLeftovers: the files of a group a killed process did
// not ingest are removed when the store is next opened for writing, and
// nothing else is.
func TestOpenRemovesBulkLeftovers(t *testing.T) {
	fs := vfs.NewMem()
	opts := DefaultOptions()
	opts.FS = fs
	db, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{bulkPrefix + "123-1.sst", bulkPrefix + "123-2.sst", "keep.sst"} {
		f, err := fs.Create(fs.PathJoin("db", n), vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte("half a table"))
		_ = f.Close()
	}
	db, err = Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := fs.List("db")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, n := range names {
		if bytes.HasPrefix([]byte(n), []byte(bulkPrefix)) {
			t.Fatalf("Open left %s", n)
		}
	}
	if _, err := fs.Stat(fs.PathJoin("db", "keep.sst")); err != nil {
		t.Fatalf("Open removed a file that is not a bulk leftover: %v", err)
	}
}

// chainSource serves a fixed best chain as a node would.
type chainSource struct{ blocks []*heistgraph.Block }

func (s chainSource) Network(context.Context) (heistgraph.Network, error) {
	return heistgraph.NetworkByName("regtest")
}

func (s chainSource) TipHeight(context.Context) (int64, error) { return int64(len(s.blocks) - 1), nil }

func (s chainSource) BlockHash(_ context.Context, h int64) (heistgraph.Hash, error) {
	if h < 0 || h >= int64(len(s.blocks)) {
		return heistgraph.Hash{}, fmt.Errorf("height %d: %w", h, heistgraph.ErrNotFound)
	}
	return s.blocks[h].Hash, nil
}

func (s chainSource) Block(_ context.Context, hash heistgraph.Hash, h int64) (*heistgraph.Block, error) {
	if h < 0 || h >= int64(len(s.blocks)) || s.blocks[h].Hash != hash {
		return nil, fmt.Errorf("block %s: %w", hash, heistgraph.ErrNotFound)
	}
	return s.blocks[h], nil
}

// storeDump returns d's neutral dump (store/dump).
func storeDump(t *testing.T, d *DB) []byte {
	t.Helper()
	src, err := dump.For(d)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := dump.Write(context.Background(), &b, src, dump.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBulkLoadMetamorphic: random worlds whose chain reorganises (the
// losing branch rewound, a competing one applied) give the same neutral
// dump ingested block by block, by groups, by the bulk path (every group
// ingested as sstables, rewinds in between), by the bulk path fed only the
// surviving chain (an initial sync), and from a node (ingest.Sync into a
// bulk-loading store, following the node through each reorg).
func TestBulkLoadMetamorphic(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		bulkLoadMetamorphic(t, seed)
	}
}

// bulkLoadMetamorphic runs TestBulkLoadMetamorphic's world of seed and
// returns the store that took it block by block.
func bulkLoadMetamorphic(t *testing.T, seed uint64) *DB {
	ctx := context.Background()
	defer func(m int) { bulkMin = m }(bulkMin)
	bulkMin = 0
	chain := heistgraph.ChainBTCRegtest
	{
		rng := rand.New(rand.NewPCG(seed, 23))
		g := storetest.NewGenerator(chain, seed, 3+rng.IntN(10))
		var best []*heistgraph.Block
		var alts []*storetest.Generator // alts[h]: a competing branch from height h
		grow := func(n int) []*heistgraph.Block {
			from := len(best)
			for range n {
				alts = append(alts[:len(best)], g.Fork(rng.Uint64()))
				best = append(best, g.Next())
			}
			return best[from:]
		}
		type step struct {
			blocks []*heistgraph.Block // nil: rewind
			rewind int64
			node   []*heistgraph.Block // the node's best chain after the step
		}
		script := []step{{blocks: grow(15 + rng.IntN(20))}}
		script[0].node = slices.Clone(best)
		for range 3 {
			depth := 1 + rng.IntN(min(6, len(best)-1))
			fork := len(best) - depth
			g, best = alts[fork], best[:fork]
			script = append(script, step{rewind: int64(fork - 1)})
			bs := grow(depth + rng.IntN(4))
			script = append(script, step{blocks: bs, node: slices.Clone(best)})
		}

		one, runs, bulk, fresh, node := openMem(t, 256<<10), openMem(t, 256<<10), openMem(t, 256<<10), openMem(t, 256<<10), openMem(t, 256<<10)
		for _, d := range []*DB{bulk, fresh, node} {
			d.opts.BulkLoad = true
		}
		for _, d := range []*DB{runs, bulk, fresh} {
			d.opts.GroupBytes = int64(1 + rng.IntN(100<<10))
		}
		applyRuns := func(d *DB, bs []*heistgraph.Block) {
			for len(bs) > 0 {
				k := 1 + rng.IntN(len(bs))
				n, err := d.ApplyBlocks(ctx, bs[:k])
				if err != nil || n != k {
					t.Fatalf("seed %d: ApplyBlocks: %d of %d, %v", seed, n, k, err)
				}
				bs = bs[k:]
			}
		}
		for i, s := range script {
			if s.blocks == nil {
				for _, d := range []*DB{one, runs, bulk} {
					if err := d.RewindTo(ctx, chain, s.rewind); err != nil {
						t.Fatalf("seed %d step %d: rewind: %v", seed, i, err)
					}
				}
				continue
			}
			for _, b := range s.blocks {
				if err := one.ApplyBlock(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			applyRuns(runs, s.blocks)
			applyRuns(bulk, s.blocks)
			if _, err := ingest.Sync(ctx, node, chainSource{s.node}, ingest.SyncOptions{}); err != nil {
				t.Fatalf("seed %d step %d: sync: %v", seed, i, err)
			}
		}
		applyRuns(fresh, best)
		want := storeDump(t, one)
		for name, d := range map[string]*DB{"by groups": runs, "bulk": bulk, "bulk, surviving chain only": fresh, "from a node": node} {
			if got := storeDump(t, d); !bytes.Equal(got, want) {
				t.Errorf("seed %d: the dump %s differs from block by block:\n%s", seed, name, dumpDiff(got, want))
			}
		}
		for _, d := range []*DB{bulk, fresh, node} {
			if d.db.Metrics().Ingest.Count == 0 {
				t.Fatalf("seed %d: the bulk path ingested nothing", seed)
			}
		}
		return one
	}
}

// dumpDiff shows the first line where a and b differ.
func dumpDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	i := 0
	for i < min(len(la), len(lb)) && bytes.Equal(la[i], lb[i]) {
		i++
	}
	line := func(l [][]byte) []byte {
		if i < len(l) {
			return l[i]
		}
		return nil
	}
	return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, line(la), line(lb))
}

// TestCloseSettles: a store whose level 0 holds files of several tables
// when it closes, after a bulk load or an open that wrote a memtable's
// worth, is left with none there that settle would compact (what stays is
// a table's few files over much more of it below, settleRatio), reads as
// before, and keeps its files to one table each; an interrupted load
// (SkipSettle) leaves what settle would have compacted (TestSettlesWhen
// checks when Close settles).
func TestCloseSettles(t *testing.T) {
	blocks := bulkWorld(t, 5, 60)
	for _, c := range []struct {
		name       string
		bulk, skip bool
	}{
		{name: "bulk", bulk: true},
		{name: "bulk, interrupted", bulk: true, skip: true},
		{name: "batches that flushed"},
	} {
		fs := vfs.NewMem()
		d := openSmallGroups(t, fs, c.bulk)
		applyByTens(t, d, blocks)
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		l0 := d.db.Metrics().Levels[0].TablesCount
		if l0 < 3 {
			t.Fatalf("%s: %d files in level 0 before Close, want several", c.name, l0)
		}
		want := storeDump(t, d)
		if c.skip {
			d.SkipSettle()
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		// Read-only: no compaction starts before the levels are read.
		d = openReadOnly(t, fs)
		got := d.db.Metrics().Levels[0].TablesCount
		levels, err := d.levelSpans()
		if err != nil {
			t.Fatal(err)
		}
		left := settleSpans(levels, settleRatio)
		switch settles := !c.skip; {
		case !settles && len(left) == 0:
			// Background compactions may have taken some files down
			// before Close; what settle does not skip remains.
			t.Errorf("%s: %d files in level 0 after Close, %d before, none cheap to compact; want it left as it was", c.name, got, l0)
		case settles && (len(left) > 0 || got >= l0):
			t.Errorf("%s: %d files in level 0 after Close (%d before), %d tables' of them cheap to compact", c.name, got, l0, len(left))
		}
		if !bytes.Equal(storeDump(t, d), want) {
			t.Errorf("%s: the store reads differently after Close", c.name)
		}
		checkOneTable(t, d, c.bulk, "after Close")
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSettlesWhen: Close settles a store opened for the bulk path, or one
// whose open committed a memtable's worth of writes; not a read-only one,
// not one whose open wrote less (a block, a label, a watch: level 0 is
// left to Pebble), and not after SkipSettle.
func TestSettlesWhen(t *testing.T) {
	blocks := bulkWorld(t, 5, 31)
	fs := vfs.NewMem()
	d := openSmallGroups(t, fs, false)
	if d.settles() {
		t.Errorf("a fresh open settles before any write")
	}
	applyByTens(t, d, blocks[:30])
	if !d.settles() {
		t.Errorf("an open whose writes flushed does not settle")
	}
	d.SkipSettle()
	if d.settles() {
		t.Errorf("settles after SkipSettle")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openSmallGroups(t, fs, false)
	if _, err := d.ApplyBlocks(context.Background(), blocks[30:]); err != nil {
		t.Fatal(err)
	}
	if d.settles() {
		t.Errorf("an open that wrote less than a memtable settles")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d = openSmallGroups(t, fs, true); !d.settles() {
		t.Errorf("a bulk open does not settle")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openReadOnly(t, fs)
	defer d.Close()
	if d.settles() {
		t.Errorf("a read-only open settles")
	}
}

// openSmallGroups opens the store "db" on fs with memtables and groups
// small enough for a world of tens of blocks to fill several of each.
func openSmallGroups(t *testing.T, fs vfs.FS, bulk bool) *DB {
	t.Helper()
	opts := DefaultOptions()
	opts.FS, opts.MemTableSize, opts.GroupBytes, opts.BulkLoad = fs, 64<<10, 32<<10, bulk
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// openReadOnly opens the store "db" on fs read-only.
func openReadOnly(t *testing.T, fs vfs.FS) *DB {
	t.Helper()
	opts := DefaultOptions()
	opts.FS, opts.ReadOnly = fs, true
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// applyByTens applies blocks ten at a time.
func applyByTens(t *testing.T, d *DB, blocks []*heistgraph.Block) {
	t.Helper()
	for i := 0; i < len(blocks); i += 10 {
		if _, err := d.ApplyBlocks(context.Background(), blocks[i:min(i+10, len(blocks))]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBulkLanesOneSink: with one sink for every table (one core), a lane's
// table that sorts before another table still goes to the sink in key
// order, though the lanes come after the other tables' writes: here both
// tables end and start with a key written twice, which a sink given them
// out of order refuses.
func TestBulkLanesOneSink(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	batch, bulk := concatDB(t), concatDB(t)
	var w sortedWrites
	w.setLanes('a')
	writes := func() {
		_ = w.Set([]byte("b01k"), []byte("1"), nil)
		_ = w.Merge([]byte("b01k"), []byte("2"), nil)
		_ = w.Set([]byte("a01k"), []byte("3"), nil)
		_ = w.Merge([]byte("a01k"), []byte("4"), nil)
		_ = w.Set([]byte("a01l"), []byte("5"), nil)
	}
	writes()
	b := batch.db.NewBatch()
	if err := w.writeTo(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebbledb.NoSync); err != nil {
		t.Fatal(err)
	}
	writes()
	s := bulk.newSink(bulkPrefix, bulkSplit)
	s.merger, s.wo.MergerName, s.wo6.MergerName = pebbledb.DefaultMerger, pebbledb.DefaultMerger.Name, pebbledb.DefaultMerger.Name
	if err := w.sinkTo(s); err != nil {
		t.Fatal(err)
	}
	if err := s.ingest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := contents(t, bulk), contents(t, batch); !slices.Equal(got, want) {
		t.Fatalf("ingested runs read\n%v\nthe batch\n%v", got, want)
	}
}

// TestBulkTotalsFirstSet: an address's first totals are a Set and its
// later blocks' totals merge operands (writeTotals), so the compactions
// need the merge operator only where the two meet: the files of the
// totals the groups ingested (none compacted yet) hold one Set for each
// address, whichever block of a group first saw it, and merge operands
// for the rest.
func TestBulkTotalsFirstSet(t *testing.T) {
	blocks := bulkWorld(t, 5, 60)
	d := openSmallGroups(t, vfs.NewMem(), true)
	defer d.Close()
	applyByTens(t, d, blocks)
	levels, err := d.db.SSTables(pebbledb.WithProperties())
	if err != nil {
		t.Fatal(err)
	}
	var files, sets, merges uint64
	for _, level := range levels {
		for _, f := range level {
			if f.Smallest.UserKey[0] != prefixAddress {
				continue
			}
			if f.SmallestSeqNum != f.LargestSeqNum {
				t.Fatalf("file %s of the totals was compacted: the test needs the groups' files as ingested", f.FileNum)
			}
			p := f.Properties
			files++
			merges += p.NumMergeOperands
			sets += p.NumEntries - p.NumMergeOperands - p.NumDeletions
		}
	}
	var addrs uint64
	lo, hi := []byte{prefixAddress}, []byte{prefixAddress + 1}
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		addrs++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if files < 3 || addrs == 0 || merges == 0 {
		t.Fatalf("%d files of totals, %d addresses, %d merge operands: want several of each", files, addrs, merges)
	}
	if sets != addrs {
		t.Errorf("the groups' files of totals hold %d Sets (and %d merge operands) for %d addresses; want one Set an address", sets, merges, addrs)
	}
}
