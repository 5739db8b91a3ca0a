package pebble

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestTableFilterWriter pins what tableFilter builds for a file's keys: a
// Bloom filter that holds every key of a file of a filtered table and
// rules out most others, and for a file that holds an unfiltered table's
// keys (alone or, should that happen, with others) a filter that rules out
// nothing.
func TestTableFilterWriter(t *testing.T) {
	t.Parallel()
	p := tableFilter{bloom: bloom.FilterPolicy(10)}
	keys := func(prefix byte, n int) [][]byte {
		var ks [][]byte
		for i := range n {
			ks = append(ks, fmt.Appendf(appendTable(nil, prefix, 1), "key %d", i))
		}
		return ks
	}
	tests := []struct {
		name      string
		keys      [][]byte
		wantBloom bool
	}{
		{"addresses", keys(prefixAddress, 500), true},
		{"txids", keys(prefixTx, 500), true},
		{"events", keys(prefixEvent, 500), false},
		{"spends", keys(prefixSpend, 50), false},
		{"outputs", keys(prefixOutput, 50), false},
		{"tx numbers", keys(prefixTxNum, 50), false},
		{"tx records", keys(prefixTxRec, 50), false},
		{"address table", keys(prefixAddrByID, 50), false},
		{"addresses then events", append(keys(prefixAddress, 50), keys(prefixEvent, 50)...), false},
		{"events then addresses", append(keys(prefixEvent, 50), keys(prefixAddress, 50)...), false},
		{"cluster tables", keys(prefixCluster, 50), true},
		{"meta", [][]byte{[]byte("mversion")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := p.NewWriter(pebbledb.TableFilter)
			for _, k := range tc.keys {
				w.AddKey(k)
			}
			f := w.Finish(nil)
			if gotBloom := !bytes.Equal(f, noFilter); gotBloom != tc.wantBloom {
				t.Fatalf("%d-byte filter, Bloom %v, want %v", len(f), gotBloom, tc.wantBloom)
			}
			for _, k := range tc.keys {
				if !p.MayContain(pebbledb.TableFilter, f, k) {
					t.Fatalf("filter rules out %q, which it holds", k)
				}
			}
			absent, out := keys(tc.keys[0][0], 2000)[len(tc.keys):], 0
			for _, k := range absent {
				if !p.MayContain(pebbledb.TableFilter, f, k) {
					out++
				}
			}
			if tc.wantBloom && out < len(absent)*9/10 {
				t.Errorf("filter rules out %d of %d absent keys, want 90%% at least", out, len(absent))
			}
			if !tc.wantBloom && out > 0 {
				t.Errorf("no filter, yet %d absent keys ruled out", out)
			}
		})
	}
}

// bulkWorld makes the bulk path ingest every group, however small, until
// the test ends, and returns n blocks of a generated regtest world of 12
// txs a block.
func bulkWorld(t *testing.T, seed uint64, n int) []*heistgraph.Block {
	t.Helper()
	m := bulkMin
	t.Cleanup(func() { bulkMin = m })
	bulkMin = 0
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, seed, 12)
	blocks := make([]*heistgraph.Block, n)
	for i := range blocks {
		blocks[i] = g.Next()
	}
	return blocks
}

// TestFiltersByTable applies a world by the bulk path and by batches and
// checks that the store's sstables of the tables looked up by keys that may
// be absent carry Bloom filters (but in the bottom level), the others none,
// and that every read
// answers as in a store without any filter (the dump and the digest).
func TestFiltersByTable(t *testing.T) {
	ctx := context.Background()
	blocks := bulkWorld(t, 11, 80)
	var want string
	for _, tc := range []struct {
		name  string
		bulk  bool
		bloom int
	}{{"no filters", false, -1}, {"batches", false, 10}, {"bulk", true, 10}} {
		opts := DefaultOptions()
		opts.FS, opts.MemTableSize, opts.GroupBytes = vfs.NewMem(), 64<<10, 32<<10
		opts.BulkLoad, opts.BloomBitsPerKey = tc.bulk, tc.bloom
		d := openApplied(t, opts, blocks)
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		levels, err := d.db.SSTables(pebbledb.WithProperties())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[byte]bool{}
		for level, files := range levels {
			for _, f := range files {
				table := f.Smallest.UserKey[0]
				seen[table] = true
				name, size := f.Properties.FilterPolicyName, f.Properties.FilterSize
				switch {
				case tc.bloom < 0 && name != "":
					t.Errorf("%s: file of table %c has a %q filter", tc.name, table, name)
				case level == len(levels)-1:
					// Pebble reads no filter there: flushes and compactions
					// build none, a bulk group's file ingested there may
					// have one.
				case tc.bloom > 0 && name != tableFilterName:
					t.Errorf("%s: file of table %c has filter %q, want %q (L%d, %d entries, %d dels)", tc.name, table, name, tableFilterName, level, f.Properties.NumEntries, f.Properties.NumDeletions)
				case tc.bloom > 0 && filtered(f.Smallest.UserKey) && size <= 8+uint64(len(noFilter)):
					t.Errorf("%s: file of table %c (%d keys) has a filter of %d bytes, want a Bloom filter",
						tc.name, table, f.Properties.NumEntries, size)
				case tc.bloom > 0 && !filtered(f.Smallest.UserKey) && size > 8+uint64(len(noFilter)):
					t.Errorf("%s: file of table %c has a filter of %d bytes, want none", tc.name, table, size)
				}
			}
		}
		for _, p := range []byte{prefixAddress, prefixTx, prefixEvent, prefixOutput, prefixTxRec, prefixAddrByID} {
			if !seen[p] {
				t.Errorf("%s: no file of table %c", tc.name, p)
			}
		}
		h, err := d.Digest(ctx, heistgraph.ChainBTCRegtest)
		if err != nil {
			t.Fatal(err)
		}
		got := h.String() + "\n" + string(storeDump(t, d))
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: store reads differ from the store without filters", tc.name)
		}
	}
}
