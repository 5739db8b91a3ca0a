package pebble

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestTableEnd pins where each kind of key's table ends.
func TestTableEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		key, end []byte
	}{
		{"empty key", nil, nil},
		{"meta", []byte("mversion"), []byte("n")},
		{"labels", []byte("l\x0bbtc-mainnet"), []byte("m")},
		{"tx", []byte("t\x00\x01\xaa\xbb"), []byte("t\x00\x02")},
		{"tx number", []byte("d\x00\x01\x00\x00"), []byte("d\x00\x02")},
		{"output, last chain code", []byte("o\xff\xff\x01"), []byte("p")},
		{"address ids", []byte("y\x00\x01"), []byte("y\x00\x02")},
		{"chain-scoped, short", []byte("h\x00"), []byte("h\x01")},
		{"cluster sub-table", []byte("c\x00\x01m\x05"), []byte("c\x00\x01n")},
		{"account sub-table", []byte("x\x00\x02a\x01"), []byte("x\x00\x02b")},
		{"all 0xff", []byte("\xff\xff"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tableEnd(tc.key)
			if !bytes.Equal(got, tc.end) {
				t.Fatalf("tableEnd(%q) = %q, want %q", tc.key, got, tc.end)
			}
			if got != nil && bytes.Compare(got, tc.key) <= 0 {
				t.Fatalf("tableEnd(%q) = %q is not past the key", tc.key, got)
			}
		})
	}
}

// TestFilesHoldOneTable applies a world through small memtables (many
// flushes and compactions) by batches and by the bulk path, and checks
// that no sstable of the store spans two tables, after the ingest and
// after a full compaction; and that the bulk path ingested files, some of
// them (the in-order tables) straight into the bottom level.
func TestFilesHoldOneTable(t *testing.T) {
	ctx := context.Background()
	blocks := bulkWorld(t, 7, 120)
	for _, bulk := range []bool{false, true} {
		d := openMem(t, 64<<10)
		d.opts.BulkLoad = bulk
		d.opts.GroupBytes = 32 << 10
		for i := 0; i < len(blocks); i += 10 {
			if _, err := d.ApplyBlocks(ctx, blocks[i:i+10]); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		m := d.db.Metrics()
		if bulk && (m.Ingest.Count == 0 || m.Levels[len(m.Levels)-1].TablesIngested == 0) {
			t.Errorf("bulk: %d ingestions, %d files ingested into the bottom level; want some of each",
				m.Ingest.Count, m.Levels[len(m.Levels)-1].TablesIngested)
		}
		if !bulk && m.Ingest.Count != 0 {
			t.Errorf("batches: %d ingestions", m.Ingest.Count)
		}
		if n, err := d.BulkTables(); err != nil || (n > 0) != bulk {
			t.Errorf("bulk %v: BulkTables() = %d, %v", bulk, n, err)
		}
		checkOneTable(t, d, bulk, "after the ingest")
		if err := d.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		checkOneTable(t, d, bulk, "after a compaction")
	}
}

// checkOneTable fails t for every sstable of d whose keys span two tables.
func checkOneTable(t *testing.T, d *DB, bulk bool, when string) {
	t.Helper()
	levels, err := d.db.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for l, tables := range levels {
		for _, f := range tables {
			files++
			lo, hi := f.Smallest.UserKey, f.Largest.UserKey
			if end := tableEnd(lo); end != nil && bytes.Compare(hi, end) >= 0 {
				t.Errorf("bulk %v, %s: L%d file %s spans %q to %q", bulk, when, l, f.FileNum, lo, hi)
			}
		}
	}
	if files < 5 {
		t.Errorf("bulk %v, %s: %d files, want one a table at least", bulk, when, files)
	}
}

// TestBulkTailToBottom ingests a group's writes over stored tables: the
// writes of a table past its last stored key go to a file of their own
// in the bottom level, those before it to level 0, and a table that
// holds nothing yet goes to the bottom level whole.
func TestBulkTailToBottom(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, 1<<20)
	key := func(p byte, n uint64) []byte { return appendOrdered(appendTable(nil, p, 1), n) }
	for _, n := range []uint64{10, 20, 30} {
		if err := d.db.Set(key(prefixEvent, n), []byte("old"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.db.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	s := d.newSink(bulkPrefix, bulkSplit)
	s.bottom, s.tail = inOrder, d.lastKey
	for _, k := range [][]byte{key(prefixEvent, 15), key(prefixEvent, 31), key(prefixEvent, 40), key(prefixTx, 5)} {
		if err := s.Set(k, []byte("new"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ingest(ctx); err != nil {
		t.Fatal(err)
	}
	levels, err := d.db.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ // a file's first and last key -> its level
		fmt.Sprintf("%x-%x", key(prefixEvent, 15), key(prefixEvent, 15)): 0,
		fmt.Sprintf("%x-%x", key(prefixEvent, 31), key(prefixEvent, 40)): 6,
		fmt.Sprintf("%x-%x", key(prefixTx, 5), key(prefixTx, 5)):         6,
	}
	for l, files := range levels {
		for _, f := range files {
			name := fmt.Sprintf("%x-%x", f.Smallest.UserKey, f.Largest.UserKey)
			if wl, ok := want[name]; ok {
				if wl != l {
					t.Errorf("file %s in L%d, want L%d", name, l, wl)
				}
				delete(want, name)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no files %v", want)
	}
	if got := contents(t, d); len(got) != 8 { // and the schema version
		t.Errorf("the store holds %d keys, want 8: %q", len(got), got)
	}
}
