package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestFiltersGrow: filters of an initial ingest that start a few words
// long are rebuilt larger from the store as the chain outgrows them, up to
// their part of FilterBytes and no further; each then holds every address
// with totals and every txid stored (a filter that missed one would give a
// reused address a second id), and the store is the one a store whose
// filters never grow holds (the same digest).
func TestFiltersGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, 3, 40)
	var blocks []*heistgraph.Block
	for range 60 {
		blocks = append(blocks, g.Next())
	}
	var want heistgraph.Hash
	for _, tc := range []struct {
		name        string
		filterBytes int64
		grows       bool
		borrows     bool
		shrinks     bool // a rebuild takes back room the cache fills
	}{
		{"fixed", -1, false, false, false}, // first: the reference digest
		{"grows", 1 << 20, true, true, false},
		{"lends what it fills", 64 << 10, true, true, true},
		{"bounded", 1 << 10, true, false, false},
	} {
		d := openMem(t, 256<<10)
		d.opts.UTXOCacheSize = 10 * utxoEntryBytes // filters of 3 and 2 blocks
		d.opts.FilterBytes = tc.filterBytes
		d.opts.GroupBytes = 32 << 10
		borrowed, shrunk := false, false
		for i := 0; i < len(blocks); i += 4 {
			// A run starts by taking back what the filters' rebuilds need
			// of what the ids cache borrowed (made here as applyGroup
			// makes it, which then finds nothing more to do): the ids of
			// the reused part's newer generation stay when they fit alone.
			a := &d.ap
			main := &a.idCache.main // the reused addresses
			newer, had := main.gens[0].size(), main.size()
			held := main.gens[0].n
			a.startGroup(d.opts.UTXOCacheSize, d.opts.FilterBytes)
			if err := a.growFilters(d.db); err != nil {
				t.Fatalf("%s: grow filters: %v", tc.name, err)
			}
			if had > main.bytes {
				shrunk = true
				if newer <= main.bytes && main.entries() < held {
					t.Errorf("%s: before block %d: the reused part's bound fell to %d B, under the %d it took, and it dropped the %d ids of its newer generation (%d B)",
						tc.name, i, main.bytes, had, held, newer)
				}
			}
			if _, err := d.ApplyBlocks(ctx, blocks[i:min(i+4, len(blocks))]); err != nil {
				t.Fatalf("%s: apply: %v", tc.name, err)
			}
			// The ids cache borrows what the filters do not hold of
			// FilterBytes, never more: together they stay in their shares.
			filters := a.counts.addrFilter.Load() + a.counts.txidFilter.Load()
			if tc.filterBytes > 0 && a.idCache.bytes+filters > a.idBase+tc.filterBytes {
				t.Errorf("%s: after block %d: ids cache %d B and filters %d B, more than %d + %d", tc.name, i, a.idCache.bytes, filters, a.idBase, tc.filterBytes)
			}
			if tc.filterBytes <= 0 && a.idCache.bytes != a.idBase {
				t.Errorf("%s: ids cache %d B without FilterBytes, not its share %d", tc.name, a.idCache.bytes, a.idBase)
			}
			if used := a.idCache.size(); used > max(a.idCache.bytes, 0) {
				t.Errorf("%s: after block %d: ids cache takes %d B, bound %d", tc.name, i, used, a.idCache.bytes)
			}
			borrowed = borrowed || a.idCache.bytes > a.idBase
		}
		if borrowed != tc.borrows {
			t.Errorf("%s: ids cache borrowed %v, want %v", tc.name, borrowed, tc.borrows)
		}
		if shrunk != tc.shrinks {
			t.Errorf("%s: a rebuild took back room the ids cache held: %v, want %v", tc.name, shrunk, tc.shrinks)
		}
		c, _, err := d.code(chain)
		if err != nil {
			t.Fatal(err)
		}
		a := &d.ap
		af, tf := a.filters[c], a.txids[c]
		if af == nil || tf == nil {
			t.Fatalf("%s: no filters", tc.name)
		}
		if builds := a.counts.filterBuilds.Load(); (builds > 0) != tc.grows {
			t.Errorf("%s: %d rebuilds", tc.name, builds)
		}
		if addrMost, txidMost := filterWords(tc.filterBytes); tc.filterBytes > 0 && (len(af.bits) > addrMost || len(tf.bits) > txidMost) {
			t.Errorf("%s: filters of %d and %d words, more than %d and %d", tc.name, len(af.bits), len(tf.bits), addrMost, txidMost)
		}
		addrs, txids := 0, 0
		if err := tableKeys(d.db, prefixAddress, c, func(k []byte) error {
			addrs++
			if kh := binary.BigEndian.Uint64(k[3:addrKeyPrefixLen]); !af.has(kh) {
				return fmt.Errorf("address totals %x not held", k)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := tableKeys(d.db, prefixTx, c, func(k []byte) error {
			txids++
			var txid heistgraph.Hash
			copy(txid[:], k[3:])
			if !tf.probe(txid, false) {
				return fmt.Errorf("txid %x not held", k)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := mustDigest(t, d, chain)
		if tc.filterBytes < 0 {
			want = got
		} else if got != want {
			t.Errorf("%s: digest %s, %s with filters that do not grow", tc.name, got, want)
		}
		t.Logf("%s: %d addresses, %d txids; filters of %d and %d words, %d rebuilds; ids cache %d B of %d, %d ids, lookups %d found %d", tc.name, addrs, txids, len(af.bits), len(tf.bits), a.counts.filterBuilds.Load(), a.idCache.size(), a.idCache.bytes, a.idCache.entries(), a.counts.addrLookups.Load(), a.counts.addrFound.Load())
	}
}

// TestOutgrown checks when a filter is rebuilt and how large.
func TestOutgrown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		words, n, most int
		want           int
		ok             bool
	}{
		{words: 8, n: 32, most: 1 << 20},                     // 16 bits each: not yet
		{words: 8, n: 33, most: 1 << 20, want: 32, ok: true}, // fewer: four times larger
		{words: 8, n: 33, most: 20, want: 16, ok: true},      // up to the bound, in blocks
		{words: 16, n: 1000, most: 20},                       // a block short of it: kept
		{words: 64, n: 1000, most: 64},                       // at the bound
		{words: 64, n: 1000, most: 0},                        // no bound: kept
	} {
		got, ok := outgrown(tc.words, tc.n, tc.most)
		if got != tc.want || ok != tc.ok {
			t.Errorf("outgrown(%d, %d, %d) = %d, %v; want %d, %v", tc.words, tc.n, tc.most, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFilterBits: the share of entries never added that the filters hold
// at the bits an entry they grow at (filterBits) and below it, as the
// full chain's filters sit under --memory 24GiB (docs/scaling.md): a
// filter that held much more would let most new addresses or txids cost a
// lookup.
func TestFilterBits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200_000
	for _, tc := range []struct {
		bits     int
		addrMost float64 // of the addresses never added, held at most
		txidMost float64
	}{
		{16, 0.01, 0.005},
		{10, 0.03, 0.02},
		{6, 0.08, 0.09},
		{5, 0.11, 0.13},
	} {
		words := n * tc.bits / 64 / 8 * 8
		af := &addrFilter{bits: make([]uint64, words)}
		tf := &txidFilter{bits: make([]uint64, words)}
		txid := func() (h heistgraph.Hash) {
			for i := 0; i < len(h); i += 8 {
				binary.LittleEndian.PutUint64(h[i:], rng.Uint64())
			}
			return h
		}
		for range n {
			af.add(rng.Uint64())
			tf.add(txid())
		}
		ah, th := 0, 0
		for range n {
			if af.has(rng.Uint64()) {
				ah++
			}
			if tf.probe(txid(), false) {
				th++
			}
		}
		a, x := float64(ah)/n, float64(th)/n
		t.Logf("%d bits: %.2f%% of other addresses held, %.2f%% of other txids", tc.bits, 100*a, 100*x)
		if a > tc.addrMost || x > tc.txidMost {
			t.Errorf("%d bits: %.2f%% of addresses and %.2f%% of txids held, want at most %.1f%% and %.1f%%", tc.bits, 100*a, 100*x, 100*tc.addrMost, 100*tc.txidMost)
		}
	}
}
