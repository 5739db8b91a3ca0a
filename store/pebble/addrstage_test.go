package pebble

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestStagedAddrIDs: with a block's addresses looked up ahead of its txs
// (stageAddrs), every address still gets the id it got before: ids in the
// order of the addresses' first outputs, one an address, whatever the
// filter answers (a filter of a few blocks, where most new addresses are
// false positives and a block's new addresses share blocks of it, or a
// large one; none, as for a resumed ingest), whatever the ids cache holds
// (nothing, a few runs' ids in two generations, or all) and however the
// blocks fall into runs. A stage whose filter answers went stale (an
// address given its id earlier in the block, a block of the filter set by
// another) would give an address a second id.
func TestStagedAddrIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, 7, 80)
	var blocks []*heistgraph.Block
	for range 50 {
		blocks = append(blocks, g.Next())
	}
	// The ids by first output, as ApplyBlock gives them out.
	want := map[string]uint64{}
	for _, b := range blocks {
		for i := range b.Txs {
			for _, o := range b.Txs[i].Outputs {
				if _, ok := want[o.Address]; !ok && o.Address != "" {
					want[o.Address] = uint64(len(want) + 1)
				}
			}
		}
	}
	for _, tc := range []struct {
		name        string
		outputs     int64 // the output cache's entries (the ids cache and filters are sized from it)
		filterBytes int64
		groupBytes  int64
		resumed     int // blocks applied before the filters are forgotten (0: never)
	}{
		{"tiny filters, no ids cache, runs of a block", 10, -1, 1, 0},
		{"tiny filters, runs of a few blocks", 10, -1, 32 << 10, 0},
		{"small cache in two generations", 300, -1, 16 << 10, 0},
		{"filters grow, cache borrows", 300, 256 << 10, 16 << 10, 0},
		{"large cache, one run", 1 << 16, -1, 64 << 20, 0},
		{"resumed: no filter", 300, -1, 16 << 10, 20},
	} {
		d := openMem(t, 256<<10)
		d.opts.UTXOCacheSize = tc.outputs * utxoEntryBytes
		d.opts.FilterBytes = tc.filterBytes
		d.opts.GroupBytes = tc.groupBytes
		for i := 0; i < len(blocks); i += 5 {
			if tc.resumed > 0 && i == tc.resumed {
				d.ap.filters = nil // as a new process finds the chain's counter set
			}
			if _, err := d.ApplyBlocks(ctx, blocks[i:min(i+5, len(blocks))]); err != nil {
				t.Fatalf("%s: apply: %v", tc.name, err)
			}
		}
		c, _, err := d.code(chain)
		if err != nil {
			t.Fatal(err)
		}
		next, err := nextAddrID(d.db, c)
		if err != nil {
			t.Fatal(err)
		}
		if next != uint64(len(want)+1) {
			t.Errorf("%s: %d ids given out for %d addresses", tc.name, next-1, len(want))
		}
		for addr, w := range want {
			id, found, err := storedAddrID(d.db, c, addr)
			if err != nil || !found || id != w {
				t.Fatalf("%s: address %q has id %d (found %v, %v), want %d", tc.name, addr, id, found, err, w)
			}
		}
		checkAddrIDs(t, d, chain)
		a := &d.ap
		t.Logf("%s: %d addresses; filter %v; ids cache %d ids; lookups %d found %d", tc.name, len(want), a.filters[c] != nil, a.idCache.entries(), a.counts.addrLookups.Load(), a.counts.addrFound.Load())
	}
}

// TestStagedAddrGivenSince: an address that the stage of its block found
// new, given its id after the stage and before its output as a non-output
// address (an input's or a backfill's, which addrID resolves: the stage did
// not see it), keeps that id at its output; without a.dirty the output
// would give it a second one.
func TestStagedAddrGivenSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, 3, 40)
	d := openMem(t, 256<<10)
	for range 5 {
		if _, err := d.ApplyBlocks(ctx, []*heistgraph.Block{g.Next()}); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := d.code(chain)
	if err != nil {
		t.Fatal(err)
	}
	b := g.Next()
	a := &d.ap
	a.startGroup(d.opts.UTXOCacheSize, d.opts.FilterBytes)
	defer func() {
		a.dropGroup()
		if err := a.closeReads(); err != nil {
			t.Error(err)
		}
	}()
	a.spare.start([]*heistgraph.Block{b}, a.hashSeed()) // as outPreps does for a block past the run's
	a.outs = a.spare.of(0)
	if err := a.stageAddrs(d.db, b, c); err != nil {
		t.Fatal(err)
	}
	if a.filters[c] == nil {
		t.Fatal("no filter")
	}
	checked := 0
	j := 0
	for i := range b.Txs {
		for _, out := range b.Txs[i].Outputs {
			if st := &a.staged[j]; out.Address != "" && !st.held {
				given, err := a.addrID(d.db, c, out.Address)
				if err != nil {
					t.Fatal(err)
				}
				id, err := a.hashedAddrID(d.db, c, out.Address, &a.outs[j], st)
				if err != nil || id != given {
					t.Fatalf("output %d: address %q has id %d (%v) after it was given %d", j, out.Address, id, err, given)
				}
				checked++
			}
			j++
		}
	}
	if checked == 0 {
		t.Fatal("no output's address was new")
	}
}
