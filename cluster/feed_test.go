package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// feedPair runs one script of applies, rewinds and updates on two stores:
// one followed by an Engine with a Feed (fed), one by an Engine that reads
// the blocks back (read).
type feedPair struct {
	t           *testing.T
	fed, read   *pebble.DB
	efed, eread *Engine
	feed        *Feed
}

// newFeedPair opens the pair; the fed store's output cache holds little
// when small (its fed records then leave most spent outputs' addresses
// out).
func newFeedPair(t *testing.T, opts Options, small bool) *feedPair {
	ctx := context.Background()
	p := &feedPair{t: t, fed: openMem(t), read: openMem(t)}
	if small {
		p.fed = openMemCache(t, 1)
	}
	var err error
	if p.efed, err = Open(ctx, p.fed, chain, opts); err != nil {
		t.Fatal(err)
	}
	if p.eread, err = Open(ctx, p.read, chain, opts); err != nil {
		t.Fatal(err)
	}
	return p
}

// follow starts the feed.
func (p *feedPair) follow() {
	p.feed = NewFeed(1 << 30)
	p.fed.FeedApplied(chain, p.feed.Push)
	p.efed.Follow(p.feed)
}

// stop stops the feed as the ingest does when the clustering stops.
func (p *feedPair) stop() {
	p.fed.FeedApplied(chain, nil)
	p.feed.Close()
}

func (p *feedPair) apply(bs ...*heistgraph.Block) {
	p.t.Helper()
	for _, st := range []*pebble.DB{p.fed, p.read} {
		if n, err := st.ApplyBlocks(context.Background(), bs); err != nil || n != len(bs) {
			p.t.Fatalf("applied %d of %d: %v", n, len(bs), err)
		}
	}
}

func (p *feedPair) rewind(h int64) {
	p.t.Helper()
	for _, st := range []*pebble.DB{p.fed, p.read} {
		if err := st.RewindTo(context.Background(), chain, h); err != nil {
			p.t.Fatal(err)
		}
	}
}

func (p *feedPair) update() {
	p.t.Helper()
	a, err := p.efed.Update(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	b, err := p.eread.Update(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	a.Elapsed, b.Elapsed = 0, 0
	if a.TipHeight != b.TipHeight || a.Blocks != b.Blocks || a.Txs != b.Txs || a.Inputs != b.Inputs ||
		a.CommonInput != b.CommonInput || a.Change != b.Change || a.Addresses != b.Addresses || a.Clusters != b.Clusters {
		p.t.Errorf("update: fed %+v, read back %+v", a, b)
	}
}

// same checks that both stores hold the same clustering and returns it.
func (p *feedPair) same() ([]store.ClusterMember, []heistgraph.ClusterEvidence) {
	p.t.Helper()
	m, ev := memberships(p.t, p.fed), evidence(p.t, p.fed)
	if !slices.Equal(m, memberships(p.t, p.read)) {
		p.t.Error("memberships differ between the fed and the read-back clustering")
	}
	if !slices.EqualFunc(ev, evidence(p.t, p.read), evidenceEqual) {
		p.t.Error("evidence differs between the fed and the read-back clustering")
	}
	last := map[string]uint64{} // an address's last id stands
	for _, x := range m {
		a, _ := p.fed.ClusterSize(context.Background(), chain, x.ClusterID)
		b, _ := p.read.ClusterSize(context.Background(), chain, x.ClusterID)
		if a != b {
			p.t.Fatalf("size of cluster %d: %d fed, %d read back", x.ClusterID, a, b)
		}
		last[x.Address] = max(last[x.Address], x.AddrID)
	}
	// Found by its string, an address has the id the clustering gave it
	// (the store's own address ids stand for most: store.ClusterBatch.NewAddressIDs).
	for addr, id := range last {
		for _, st := range []*pebble.DB{p.fed, p.read} {
			if got, err := st.AddressCluster(context.Background(), chain, addr); err != nil || got.AddrID != id {
				p.t.Fatalf("address %s: id %d (%v), want %d", addr, got.AddrID, err, id)
			}
		}
	}
	return m, ev
}

// TestFeedClustersAsReadBack: an Engine clustering the blocks fed as they
// are applied writes exactly what one reading them back writes, whatever
// the runs, the lag, a start on a store ingested without clustering, a
// feed stopped midway, a gap filled late, and reorganisations (rewound
// blocks still in the feed are skipped); and, the chain whole, what one
// Update of the chain writes.
func TestFeedClustersAsReadBack(t *testing.T) {
	t.Parallel()
	blocks, fork := reorgChain()
	// runs applies bs in runs of n, updating after each when update.
	runs := func(p *feedPair, bs []*heistgraph.Block, n int, update bool) {
		for i := 0; i < len(bs); i += n {
			p.apply(bs[i:min(i+n, len(bs))]...)
			if update {
				p.update()
			}
		}
	}
	// reorg applies blocks, rewinds to 40 and applies the fork; clustered
	// says whether the rewound blocks were clustered before the rewind
	// (else the feed still holds them), update whether the fork's runs are
	// clustered one by one.
	reorg := func(p *feedPair, clustered, update bool) {
		runs(p, blocks[:41], 7, true)
		runs(p, blocks[41:], 7, clustered)
		p.rewind(40)
		runs(p, fork, 5, update)
		p.update()
	}
	for _, tc := range []struct {
		name string
		run  func(p *feedPair)
		// final is the chain at the end (nil: a chain with a gap filled
		// late, which one Update clusters otherwise).
		final []*heistgraph.Block
		// minTaken is the least number of blocks the feed must give.
		minTaken int
		// small: the fed store's output cache holds little (newFeedPair).
		small bool
	}{
		{"a block a run", func(p *feedPair) { p.follow(); runs(p, blocks, 1, true) }, blocks, 60, false},
		{"runs of 9", func(p *feedPair) { p.follow(); runs(p, blocks, 9, true) }, blocks, 60, false},
		{"runs of 9, spent outputs fed without addresses", func(p *feedPair) { p.follow(); runs(p, blocks, 9, true) }, blocks, 60, true},
		{"reorg, spent outputs fed without addresses", func(p *feedPair) { p.follow(); reorg(p, true, true) }, append(slices.Clone(blocks[:41]), fork...), 60, true},
		{"lagging", func(p *feedPair) { p.follow(); runs(p, blocks, 10, false); p.update() }, blocks, 60, false},
		{"ingested without clustering first", func(p *feedPair) {
			runs(p, blocks[:20], 6, false)
			p.follow()
			runs(p, blocks[20:], 6, true)
		}, blocks, 40, false},
		{"stopped midway", func(p *feedPair) {
			p.follow()
			runs(p, blocks[:30], 4, true)
			p.apply(blocks[30:33]...)
			p.stop()
			runs(p, blocks[33:], 4, true)
		}, blocks, 30, false},
		{"reorg", func(p *feedPair) { p.follow(); reorg(p, true, true) }, append(slices.Clone(blocks[:41]), fork...), 60, false},
		{"reorg lagging", func(p *feedPair) { p.follow(); reorg(p, true, false) }, append(slices.Clone(blocks[:41]), fork...), 60, false},
		{"reorg of blocks not clustered", func(p *feedPair) { p.follow(); reorg(p, false, true) }, append(slices.Clone(blocks[:41]), fork...), 60, false},
		{"gap filled late", func(p *feedPair) {
			p.follow()
			runs(p, blocks[:30], 5, true)
			p.apply(blocks[31])
			p.update()
			p.apply(blocks[30])
			runs(p, blocks[32:], 5, true)
		}, nil, 50, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := DefaultOptions()
			opts.Change.Window = 8
			p := newFeedPair(t, opts, tc.small)
			tc.run(p)
			p.update()
			m, ev := p.same()
			if p.feed.taken < tc.minTaken {
				t.Errorf("the feed gave %d blocks, want at least %d", p.feed.taken, tc.minTaken)
			}
			if tc.final == nil {
				return
			}
			once := openMem(t)
			if n, err := once.ApplyBlocks(context.Background(), tc.final); err != nil || n != len(tc.final) {
				t.Fatalf("applied %d: %v", n, err)
			}
			if _, err := Update(context.Background(), once, chain, opts); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m, memberships(t, once)) || !slices.EqualFunc(ev, evidence(t, once), evidenceEqual) {
				t.Error("the fed clustering differs from one Update of the chain")
			}
		})
	}
}

// TestFeedWait: Wait waits while the feed holds more than its bound, and
// ends when the engine takes blocks or the feed is closed.
func TestFeedWait(t *testing.T) {
	t.Parallel()
	block := func(h int64) store.BlockRecords {
		return store.BlockRecords{Block: heistgraph.BlockInfo{Height: h, Hash: heistgraph.Hash{byte(h)}, Size: 100}}
	}
	for _, tc := range []struct {
		name string
		end  func(f *Feed)
	}{
		{"taken", func(f *Feed) { f.take(1, heistgraph.Hash{1}) }},
		{"dropped", func(f *Feed) { f.dropTo(1) }},
		{"closed", func(f *Feed) { f.Close() }},
	} {
		f := NewFeed(150)
		f.Push(block(1))
		f.Wait() // 100 bytes: no wait
		f.Push(block(2))
		done := make(chan struct{})
		go func() { f.Wait(); close(done) }()
		select {
		case <-done:
			t.Fatalf("%s: Wait returned while the feed held 200 bytes of 150", tc.name)
		case <-time.After(20 * time.Millisecond):
		}
		tc.end(f)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Wait still waits", tc.name)
		}
		if n, ok := f.next(0); tc.name != "closed" && (!ok || n != 2) {
			t.Errorf("%s: next block %d %v, want 2", tc.name, n, ok)
		}
	}
}
