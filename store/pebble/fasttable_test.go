package pebble

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestFastTable: the outputs table is written with the fast codec in the
// bottom level too, by a compaction (tableSpanPolicy) and by a bulk group
// (tableSink.options); the other tables there with the level's zstd. A
// bulk group's bottom files of the outputs and the address table have
// smallBlockSize blocks, the others the level's.
// (Pebble's balanced profile picks zstd only for blocks where it pays,
// which a small world's outputs do not reach, so the options are checked,
// not the files.)
func TestFastTable(t *testing.T) {
	opts := DefaultOptions()
	opts.FS = vfs.NewMem()
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sink := d.newTableSink()
	if sink.wo.Compression == sink.wo6.Compression {
		t.Fatalf("level 0 and the bottom level compress alike (%v): the test shows nothing", sink.wo.Compression)
	}
	if sink.wo6.BlockSize == smallBlockSize || sink.wo.BlockSize == smallBlockSize {
		t.Fatalf("the levels' blocks are smallBlockSize already (%d, %d): the test shows nothing", sink.wo.BlockSize, sink.wo6.BlockSize)
	}
	for _, tc := range []struct {
		table       byte
		fast, small bool
	}{{prefixOutput, true, true}, {prefixAddrByID, false, true}, {prefixTx, false, false}, {prefixTxRec, false, false}, {prefixEvent, false, false}, {prefixAddress, false, false}} {
		key := []byte{tc.table, 0, 1, 2}
		policy, _, err := tableSpanPolicy(key)
		if err != nil {
			t.Fatal(err)
		}
		if policy.PreferFastCompression != tc.fast {
			t.Errorf("table %c: compactions prefer the fast codec %v, want %v", tc.table, policy.PreferFastCompression, tc.fast)
		}
		want := sink.wo6.Compression
		if tc.fast {
			want = sink.wo.Compression
		}
		if got := sink.options(key, true).Compression; got != want {
			t.Errorf("table %c: a bulk group's bottom file compressed by %v, want %v", tc.table, got, want)
		}
		if got := sink.options(key, false).Compression; got != sink.wo.Compression {
			t.Errorf("table %c: a bulk group's level 0 file compressed by %v, want %v", tc.table, got, sink.wo.Compression)
		}
		wantSize := sink.wo6.BlockSize
		if tc.small {
			wantSize = smallBlockSize
		}
		if got := sink.options(key, true).BlockSize; got != wantSize {
			t.Errorf("table %c: a bulk group's bottom file has %d-byte blocks, want %d", tc.table, got, wantSize)
		}
		if got := sink.options(key, false).BlockSize; got != sink.wo.BlockSize {
			t.Errorf("table %c: a bulk group's level 0 file has %d-byte blocks, want %d", tc.table, got, sink.wo.BlockSize)
		}
	}
}
