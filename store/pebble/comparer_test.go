package pebble

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestSplitKey pins the comparer's split (the address totals' keys after
// the hash, every other key whole) and checks, over every pair of keys of
// several tables, the properties Pebble requires of a split under the
// bytewise order: a prefix sorts before the keys it leads, prefixes order
// keys, and keys of one prefix are in their suffixes' order; and that the
// index blocks' separators and successors keep the order.
func TestSplitKey(t *testing.T) {
	t.Parallel()
	totals := func(kh, id uint64) []byte { return appendHashedAddressKey(nil, 1, kh, id) }
	tests := []struct {
		key  []byte
		want int
	}{
		{totals(7, 1), addrKeyPrefixLen},
		{totals(7, 300), addrKeyPrefixLen},
		{totals(7, 1<<40), addrKeyPrefixLen},
		{totals(8, 2), addrKeyPrefixLen},
		{totals(1<<63, 5), addrKeyPrefixLen},
		{totals(7, 1)[:addrKeyPrefixLen], addrKeyPrefixLen}, // the prefix findTotals seeks
		{appendTable(nil, prefixAddress, 1), 3},             // the table's bounds
		{prefixEnd(appendTable(nil, prefixAddress, 1)), 3},
		{[]byte{prefixAddress}, 1},
		{appendTxKey(nil, 1, [32]byte{7}), 3 + 32},
		{appendAddrByIDKey(nil, 1, 7), 3 + 8},
		{appendU64(appendU64(appendTable(nil, prefixBlock, 1), 7), 1), 3 + 16},
		{metaVersionKey, len(metaVersionKey)},
		{nil, 0},
	}
	for _, tc := range tests {
		if got := splitKey(tc.key); got != tc.want {
			t.Errorf("splitKey(%x) = %d, want %d", tc.key, got, tc.want)
		}
	}
	for _, a := range tests {
		if k := comparer.Successor(nil, a.key); comparer.Compare(a.key, k) > 0 {
			t.Errorf("successor %x of %x is before it", k, a.key)
		}
		pa, sa := a.key[:splitKey(a.key)], a.key[splitKey(a.key):]
		if len(sa) > 0 && bytes.Compare(pa, a.key) >= 0 {
			t.Errorf("prefix %x of %x does not sort before it", pa, a.key)
		}
		for _, b := range tests {
			pb, sb := b.key[:splitKey(b.key)], b.key[splitKey(b.key):]
			cmp, pcmp := bytes.Compare(a.key, b.key), bytes.Compare(pa, pb)
			switch {
			case pcmp != 0 && pcmp != cmp:
				t.Errorf("%x against %x: prefixes compare %d, keys %d", a.key, b.key, pcmp, cmp)
			case pcmp == 0 && comparer.ComparePointSuffixes(sa, sb) != cmp:
				t.Errorf("%x against %x: suffixes compare %d, keys %d", a.key, b.key, comparer.ComparePointSuffixes(sa, sb), cmp)
			}
			if cmp < 0 && len(a.key) > 0 {
				// An index block's separator between a and b (Pebble never
				// asks one of an empty key).
				if k := comparer.Separator(nil, a.key, b.key); comparer.Compare(a.key, k) > 0 || comparer.Compare(k, b.key) >= 0 {
					t.Errorf("separator %x of %x and %x is not in [a, b)", k, a.key, b.key)
				}
			}
		}
	}
}

// TestFindTotalsFilters: with the address totals spread over files of
// level 0 (as a bulk ingest leaves them), a lookup by address reads only
// the file that holds its hash: every other file's Bloom filter rules it
// out (Pebble counts those as filter hits). A lookup that read every file,
// or filters over whole keys, which a lookup by prefix cannot ask, would
// count none.
func TestFindTotalsFilters(t *testing.T) {
	const files = 8
	opts := DefaultOptions()
	opts.FS, opts.BulkLoad = vfs.NewMem(), true // level 0 holds 32 files
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const c = chainCode(1)
	addr := func(i int) string { return fmt.Sprintf("bcrt1q-file-%d", i) }
	for i := range files {
		id := uint64(i + 1)
		b := d.db.NewBatch()
		if err := b.Set(appendAddressKey(nil, c, addr(i), id), appendTotals(nil, &totals{ID: id, TxCount: int64(i)}), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(appendAddrByIDKey(nil, c, id), appendAddrValue(nil, addr(i)), nil); err != nil {
			t.Fatal(err)
		}
		// Each file spans the whole table, as the files of a randomly
		// keyed table do.
		for _, kh := range []uint64{0, ^uint64(0)} {
			if err := b.Set(appendHashedAddressKey(nil, c, kh, 100+id), appendTotals(nil, &totals{ID: 100 + id}), nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(nil); err != nil {
			t.Fatal(err)
		}
		if err := d.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.db.Metrics().Levels[0].TablesCount; n < files {
		t.Fatalf("%d files in level 0, want %d of the totals at least", n, files)
	}
	for i := range files {
		before := d.db.Metrics().Filter.Hits
		tot, found, err := findTotals(d.db, c, addr(i), nil)
		if err != nil || !found || tot.ID != uint64(i+1) || tot.TxCount != int64(i) {
			t.Fatalf("totals of %s: %+v, found %v, %v", addr(i), tot, found, err)
		}
		if hits := d.db.Metrics().Filter.Hits - before; hits < files-1 {
			t.Errorf("lookup of %s: %d files ruled out by their filters, want %d", addr(i), hits, files-1)
		}
	}
	if _, found, err := findTotals(d.db, c, addr(files), nil); err != nil || found {
		t.Errorf("totals of an address never stored: found %v, %v", found, err)
	}
}

// TestImmediateSuccessor: the successor of a prefix is a prefix key (its
// own split), after the prefix and after every key that has the prefix, so
// that Pebble's bounds past a prefix (SeekPrefixGE's range deletions,
// NextPrefix) leave none of its keys out.
func TestImmediateSuccessor(t *testing.T) {
	t.Parallel()
	totals := appendHashedAddressKey(nil, 1, 0x0102030405060708, 9)
	ff := appendHashedAddressKey(nil, 1, ^uint64(0), 9)
	for _, key := range [][]byte{totals, ff, {prefixTx, 1, 2, 3}, {prefixAddress, 1}, {prefixMeta}} {
		p := key[:comparer.Split(key)]
		succ := comparer.ImmediateSuccessor(nil, p)
		if comparer.Split(succ) != len(succ) {
			t.Errorf("successor %x of %x: split %d, not a prefix key", succ, p, comparer.Split(succ))
		}
		for _, k := range [][]byte{p, key, append(slices.Clone(p), 0), append(slices.Clone(p), 0xff, 0xff)} {
			if comparer.Split(k) == len(p) && comparer.Compare(k, succ) >= 0 {
				t.Errorf("key %x with prefix %x is not before its successor %x", k, p, succ)
			}
		}
	}
}
