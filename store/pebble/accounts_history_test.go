package pebble

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

const histChain heistgraph.Chain = "eth"

func applyAcct(tb testing.TB, db *DB, blocks ...*heistgraph.AccountBlock) {
	tb.Helper()
	for _, b := range blocks {
		if err := db.ApplyAccountBlock(context.Background(), b); err != nil {
			tb.Fatalf("apply block %d: %v", b.Height, err)
		}
	}
}

// histories reads every history and contract log stream the test looks
// at: each address whole, from a height, up to a height, and of one asset.
func histories(tb testing.TB, db *DB, addrs []heistgraph.EVMAddress, assets []heistgraph.Asset) string {
	tb.Helper()
	ctx := context.Background()
	var out []any
	for _, a := range addrs {
		for _, o := range []store.AccountHistoryOptions{{}, {FromHeight: 7}, {ToHeight: 11}, {FromHeight: 3, ToHeight: 3}} {
			out = append(out, collect(tb, db.AccountHistory(ctx, histChain, a, o)))
		}
		for i := range assets {
			out = append(out, collect(tb, db.AccountHistory(ctx, histChain, a, store.AccountHistoryOptions{Asset: &assets[i]})))
		}
		out = append(out, collect(tb, db.AccountLogs(ctx, histChain, a, store.AccountHistoryOptions{})))
	}
	return fmt.Sprintf("%+v", out)
}

func collect[T any](tb testing.TB, seq func(func(T, error) bool)) []T {
	tb.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// appendLegacyEventValue is the history record as stores before the
// transfer was kept in it hold it: flags, and the asset of a token.
func appendLegacyEventValue(dst []byte, flags byte, asset heistgraph.Asset) []byte {
	if !asset.IsNative() {
		return append(append(dst, flags|eventToken), asset[:]...)
	}
	return append(dst, flags)
}

// toLegacy rewrites every history record of db in the form older stores
// hold.
func toLegacy(t testing.TB, db *DB) {
	t.Helper()
	lo, hi := tableBounds(prefixAccount, 1)
	it, err := db.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	b := db.db.NewBatch()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if k[len(lo)] != acctEvent {
			continue
		}
		var ev store.AccountEvent
		if full, err := decodeEventValue(it.Value(), &ev); err != nil || !full {
			t.Fatalf("history record %x: full %v, %v", k, full, err)
		}
		var flags byte
		if ev.Credit {
			flags |= eventCredit
		}
		if ev.Debit {
			flags |= eventDebit
		}
		if err := b.Set(k, appendLegacyEventValue(nil, flags, ev.Transfer.Asset), nil); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no history record")
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestAccountHistoryOldRecords: a store whose history records are in the
// older form (flags and asset, the transfer read from the ledger) gives
// exactly the histories and contract logs of a store written now, and
// both go on after new blocks (written in the new form) are added.
func TestAccountHistoryOldRecords(t *testing.T) {
	t.Parallel()
	g := storetest.NewAccountGen(histChain, 5, 9)
	blocks := g.Blocks(0, 0, 24, heistgraph.EVMHash{})
	more := g.Blocks(0, 24, 6, blocks[len(blocks)-1].Hash)
	addrs := append(append([]heistgraph.EVMAddress{{}}, g.Addrs...), g.Tokens...)
	assets := []heistgraph.Asset{heistgraph.NativeAsset}
	for _, tok := range g.Tokens {
		assets = append(assets, heistgraph.Asset(tok))
	}

	old, cur := openMem(t, 256<<10), openMem(t, 256<<10)
	applyAcct(t, old, blocks...)
	applyAcct(t, cur, blocks...)
	toLegacy(t, old)
	want := histories(t, cur, addrs, assets)
	if got := histories(t, old, addrs, assets); got != want {
		t.Fatalf("histories of old records differ:\n got %s\nwant %s", got, want)
	}
	applyAcct(t, old, more...)
	applyAcct(t, cur, more...)
	want = histories(t, cur, addrs, assets)
	if got := histories(t, old, addrs, assets); got != want {
		t.Fatalf("after new blocks, histories of mixed records differ:\n got %s\nwant %s", got, want)
	}
}

// forkedBranches returns a generator of seed over n addresses, its branch
// a of 20 blocks, and its branch b of nb blocks forking from a after
// height 11.
func forkedBranches(seed uint64, n int, nb int64) (g *storetest.AccountGen, a, b []*heistgraph.AccountBlock) {
	g = storetest.NewAccountGen(histChain, seed, n)
	a = g.Blocks(0, 0, 20, heistgraph.EVMHash{})
	return g, a, g.Blocks(1, 12, nb, a[11].Hash)
}

// TestAccountRefCacheRewind: the cached block of a height is never served
// once a rewind removed it. Histories read (filling the cache), a rewind
// and another branch applied at the same heights, read again, equal a
// store that held the other branch only.
func TestAccountRefCacheRewind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, a, b := forkedBranches(8, 6, 10)
	addrs := g.Addrs
	db := openMem(t, 256<<10)
	applyAcct(t, db, a...)
	before := histories(t, db, addrs, nil)
	if db.refs.n == 0 {
		t.Fatal("reading histories filled no block cache")
	}
	if err := db.RewindTo(ctx, histChain, 11); err != nil {
		t.Fatal(err)
	}
	applyAcct(t, db, b...)
	ref := openMem(t, 256<<10)
	applyAcct(t, ref, append(append([]*heistgraph.AccountBlock(nil), a[:12]...), b...)...)
	got, want := histories(t, db, addrs, nil), histories(t, ref, addrs, nil)
	if got != want {
		t.Fatalf("after a rewind, histories differ from the other branch's:\n got %s\nwant %s", got, want)
	}
	if got == before {
		t.Fatal("the other branch reads as the first: the test shows nothing")
	}
}

// TestAccountRefCacheGen: a snapshot taken while blocks are being removed,
// or across a removal, may not use the cache, and entries of an older
// generation are not served.
func TestAccountRefCacheGen(t *testing.T) {
	t.Parallel()
	db := openMem(t, 256<<10)
	var rc acctRefCache
	ref := heistgraph.AccountBlockRef{Hash: heistgraph.EVMHash{1}, Height: 5, Time: 60}
	snap, gen, ok := rc.snapshot(db.db)
	snap.Close()
	if !ok {
		t.Fatal("an idle cache refused a snapshot")
	}
	rc.put(1, ref, gen)
	if got, hit := rc.get(1, 5, gen); !hit || got != ref {
		t.Fatalf("get: %+v %v", got, hit)
	}
	if _, hit := rc.get(2, 5, gen); hit {
		t.Fatal("another chain's height served")
	}
	done := rc.removing()
	snap, _, ok = rc.snapshot(db.db)
	snap.Close()
	if ok {
		t.Fatal("a snapshot taken during a removal may use the cache")
	}
	rc.put(1, ref, gen) // a reader of the old generation fills in late
	done()
	snap, gen2, ok := rc.snapshot(db.db)
	snap.Close()
	if !ok || gen2 == gen {
		t.Fatalf("after the removal: gen %d (was %d), ok %v", gen2, gen, ok)
	}
	if _, hit := rc.get(1, 5, gen2); hit {
		t.Fatal("an entry from before the removal served after it")
	}
	rc.put(1, ref, gen)
	if _, hit := rc.get(1, 5, gen2); hit {
		t.Fatal("an old generation's late entry served to the new one")
	}
}

// TestAccountRefCacheBound: the cache never holds more than its bound.
func TestAccountRefCacheBound(t *testing.T) {
	t.Parallel()
	var rc acctRefCache
	for h := range int64(acctRefCacheMax + 10) {
		rc.put(1, heistgraph.AccountBlockRef{Height: h}, 0)
	}
	if n := rc.n; n > acctRefCacheMax || n == 0 {
		t.Fatalf("%d entries, bound %d", n, acctRefCacheMax)
	}
	// Sparse heights: the pages are bounded too.
	for h := range int64(acctRefMaxPages + 10) {
		rc.put(1, heistgraph.AccountBlockRef{Height: h << 20}, 0)
	}
	if n := len(rc.m); n > acctRefMaxPages || n == 0 || rc.n != n {
		t.Fatalf("%d pages (%d entries), bound %d", n, rc.n, acctRefMaxPages)
	}
}

// BenchmarkAccountHistory reads the history of every address of a
// generated ledger (storetest.AccountGen seed 42, 2,000 addresses,
// HEISTGRAPH_BENCH_BLOCKS blocks, default 20,000) in a compacted store on
// disk, warm after the first pass: the physical floor (a raw Pebble
// iteration over the same history keys, touching each value), then
// AccountHistory on records that keep the transfer, then on records in the
// older form (flags and asset; the transfer read from the ledger and the
// tx hash from the block record). Each reports events a second and the
// store's bytes a transfer.
func BenchmarkAccountHistory(b *testing.B) {
	blocks := benchBlocks(b)
	ctx := context.Background()
	g := storetest.NewAccountGen(histChain, 42, 2000)
	open := func(legacy bool) (*DB, float64) {
		db, err := Open(b.TempDir(), DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		var parent heistgraph.EVMHash
		transfers := 0
		for h := range blocks {
			blk := g.Block(0, h, parent)
			parent = blk.Hash
			transfers += len(blk.Transfers)
			applyAcct(b, db, blk)
		}
		if legacy {
			toLegacy(b, db)
		}
		if err := db.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		n, err := db.StoredBytes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return db, float64(n) / float64(transfers)
	}
	cur, curBytes := open(false)
	old, oldBytes := open(true)
	b.Logf("%d blocks; bytes a transfer: %.1f (records with the transfer), %.1f (older records)", blocks, curBytes, oldBytes)

	b.Run("floor=raw-pebble", func(b *testing.B) {
		c, _, _ := cur.code(histChain)
		events, sum := 0, 0
		start := time.Now()
		for b.Loop() {
			for _, a := range g.Addrs {
				p := appendAcctEventPrefix(nil, c, a)
				it, err := cur.db.NewIter(&pebbledb.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
				if err != nil {
					b.Fatal(err)
				}
				for ok := it.First(); ok; ok = it.Next() {
					sum += len(it.Key()) + len(it.Value())
					events++
				}
				if err := it.Close(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64(sum)/float64(events), "record-bytes/event")
	})
	for _, s := range []struct {
		name  string
		db    *DB
		bytes float64
	}{{"history", cur, curBytes}, {"history-old-records", old, oldBytes}} {
		b.Run(s.name, func(b *testing.B) {
			events := 0
			start := time.Now()
			for b.Loop() {
				for _, a := range g.Addrs {
					for _, err := range s.db.AccountHistory(ctx, histChain, a, store.AccountHistoryOptions{}) {
						if err != nil {
							b.Fatal(err)
						}
						events++
					}
				}
			}
			b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(s.bytes, "store-bytes/transfer")
		})
	}
}

func benchBlocks(b *testing.B) int64 {
	s := os.Getenv("HEISTGRAPH_BENCH_BLOCKS")
	if s == "" {
		return 20_000
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// TestAccountRefCacheConcurrent: histories read while another goroutine
// rewinds and re-applies two branches in turn are each the history of
// one stored state (a prefix of one branch's), never a mix of a branch's
// transfers with the other branch's block hashes from the cache.
func TestAccountRefCacheConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, a, b := forkedBranches(12, 5, 8)
	branch := func(blocks []*heistgraph.AccountBlock) map[heistgraph.EVMAddress][]store.AccountEvent {
		db := openMem(t, 256<<10)
		applyAcct(t, db, blocks...)
		out := map[heistgraph.EVMAddress][]store.AccountEvent{}
		for _, addr := range g.Addrs {
			out[addr] = collect(t, db.AccountHistory(ctx, histChain, addr, store.AccountHistoryOptions{}))
		}
		return out
	}
	wantA, wantB := branch(a), branch(append(append([]*heistgraph.AccountBlock(nil), a[:12]...), b...))
	prefixOf := func(got, want []store.AccountEvent) bool {
		return len(got) <= len(want) && fmt.Sprint(got) == fmt.Sprint(want[:len(got)])
	}
	db := openMem(t, 256<<10)
	applyAcct(t, db, a...)
	done := make(chan struct{})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				addr := g.Addrs[n%len(g.Addrs)]
				var got []store.AccountEvent
				for ev, err := range db.AccountHistory(ctx, histChain, addr, store.AccountHistoryOptions{}) {
					if err != nil {
						errs <- err
						return
					}
					got = append(got, ev)
				}
				if !prefixOf(got, wantA[addr]) && !prefixOf(got, wantB[addr]) {
					errs <- fmt.Errorf("history of %s is no stored state's:\n%+v", addr, got)
					return
				}
			}
		}()
	}
	for i := range 6 {
		if err := db.RewindTo(ctx, histChain, 11); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			applyAcct(t, db, b...)
		} else {
			applyAcct(t, db, a[12:]...)
		}
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
