package pebble

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph/store"
)

// TestStats: a bulk-loaded store's report puts its files in level 0 until
// Close settles them, sums its levels to its table bytes, and names the
// families the chain tables are written to, whose estimates cover the
// tables; counted by key, each family's keys are those an iterator over its
// prefix finds.
func TestStats(t *testing.T) {
	ctx := context.Background()
	blocks := bulkWorld(t, 7, 60)
	fs := vfs.NewMem()
	d := openSmallGroups(t, fs, true)
	applyByTens(t, d, blocks)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantL0 bool) {
		// wantL0: files in level 0 (the bulk load before Close); else
		// whatever settle left (a table's files over much more below).
		t.Helper()
		rep, err := d.Stats(ctx, store.StatsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Levels) != 7 {
			t.Fatalf("%s: %d levels, want 7", when, len(rep.Levels))
		}
		var sum int64
		for i, l := range rep.Levels {
			if l.Level != i || l.Files < 0 || l.Bytes < 0 || (l.Files == 0) != (l.Bytes == 0) {
				t.Errorf("%s: level %d reads %+v", when, i, l)
			}
			sum += l.Bytes
		}
		if rep.DiskBytes < rep.TableBytes+rep.WALBytes {
			t.Errorf("%s: %d bytes in the directory, fewer than its tables' %d and log's %d", when, rep.DiskBytes, rep.TableBytes, rep.WALBytes)
		}
		if sum != rep.TableBytes || sum == 0 {
			t.Errorf("%s: levels sum to %d bytes, table bytes %d", when, sum, rep.TableBytes)
		}
		if l0 := rep.Levels[0]; wantL0 && l0.Files == 0 || (l0.Files > 0) != (l0.Sublevels > 0) {
			t.Errorf("%s: level 0 %+v, want files: %v", when, l0, wantL0)
		}
		var disk uint64
		seen := map[string]bool{}
		for _, f := range rep.Families {
			if f.DiskBytes == 0 || f.Keys != nil || f.Table == "" && f.Family != "?" {
				t.Errorf("%s: family %+v", when, f)
			}
			seen[f.Family] = true
			disk += f.DiskBytes
		}
		for _, fam := range []string{"a", "b", "e", "h", "o", "t", "v", "y"} {
			if !seen[fam] {
				t.Errorf("%s: no family %q in %+v", when, fam, rep.Families)
			}
		}
		// The families partition the key space: their estimates cover the
		// tables (partly overlapped files are prorated, so not exactly).
		if r := float64(disk) / float64(rep.TableBytes); r < 0.9 || r > 1.1 {
			t.Errorf("%s: families estimate %d bytes of %d in tables (%.2f)", when, disk, rep.TableBytes, r)
		}
	}
	check("bulk load before Close", true)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openSmallGroups(t, fs, false)
	defer d.Close()
	check("after Close", false)

	rep, err := d.Stats(ctx, store.StatsOptions{Keys: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Families {
		if f.Keys == nil || f.KeyBytes == nil || f.ValueBytes == nil {
			t.Fatalf("family %s counted by key has no counts", f.Family)
		}
		lo := []byte(f.Family[:1])
		if len(f.Family) > 1 {
			continue // sub-tables: their keys are spread under the chain
		}
		it, err := d.db.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		var n, kb int64
		for ok := it.SeekGE(lo); ok && it.Key()[0] == lo[0]; ok = it.Next() {
			n++
			kb += int64(len(it.Key()))
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if *f.Keys != n || *f.KeyBytes != kb {
			t.Errorf("family %s: %d keys, %d key bytes; an iterator finds %d, %d", f.Family, *f.Keys, *f.KeyBytes, n, kb)
		}
	}
}
