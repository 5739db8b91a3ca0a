package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

// checkUnspent checks that d's unspent outputs (unspent.go) are exactly
// what its outputs and spend markers say (buildUnspent), for every chain,
// and returns them, one entry a line in key order, to compare stores by.
func checkUnspent(t *testing.T, d *DB) string {
	t.Helper()
	var want []string
	for _, c := range d.chains {
		err := buildUnspent(d.db, c, func(k, v []byte) error {
			want = append(want, fmt.Sprintf("%x %x", k, v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	var got []string
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{prefixUnspent}, UpperBound: []byte{prefixUnspent + 1}})
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if _, err := decodeUnspent(it.Value()); err != nil {
			t.Errorf("entry %x: %v", it.Key(), err)
		}
		got = append(got, fmt.Sprintf("%x %x", it.Key(), it.Value()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	g, w := strings.Join(got, "\n"), strings.Join(want, "\n")
	if g != w {
		t.Fatalf("unspent outputs:\n%s\nwant (from the outputs and spend markers):\n%s", g, w)
	}
	return g
}

// TestUnspentCodec: an entry decodes to what was encoded, with and
// without an address, and a truncated or padded one is corrupt.
func TestUnspentCodec(t *testing.T) {
	for _, u := range []utxo{
		{Num: 1, Value: 0, Type: heistgraph.ScriptNullData},
		{Num: 1 << 40, Value: 21e14, Type: heistgraph.ScriptWitnessV0KeyHash, ID: 7, KH: 1<<64 - 1},
		{Num: 3, Value: 5, Type: "witness_v9", ID: 1 << 33, KH: 42},
	} {
		v := appendUnspent(nil, &u)
		got, err := decodeUnspent(v)
		if err != nil || got != u {
			t.Errorf("%+v: decoded %+v, %v", u, got, err)
		}
		for _, bad := range [][]byte{v[:len(v)-1], append(slices.Clone(v), 0)} {
			if _, err := decodeUnspent(bad); err == nil {
				t.Errorf("%+v: %x decoded", u, bad)
			}
		}
	}
}

// TestUnspentResolves: with an output cache that holds nothing, the
// spends of outputs of earlier runs are resolved from the unspent
// outputs, one read each, block by block and by the bulk path alike, and
// the stores read as a store whose every spend read the three tables.
func TestUnspentResolves(t *testing.T) {
	ctx := context.Background()
	blocks := bulkWorld(t, 5, 60)
	var want string
	for _, tc := range []struct {
		name   string
		bulk   bool
		groups int
		table  bool
	}{{"three reads", false, 1, false}, {"block by block", false, 1, true}, {"runs", false, 10, true}, {"bulk", true, 10, true}} {
		d := openMem(t, 256<<10)
		d.opts.BulkLoad, d.opts.UTXOCacheSize = tc.bulk, 1
		for i := 0; i < len(blocks); i += tc.groups {
			if !tc.table {
				// Empty the table before each block: every spend reads
				// the three tables.
				if err := d.db.DeleteRange([]byte{prefixUnspent}, []byte{prefixUnspent + 1}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.ApplyBlocks(ctx, blocks[i:min(i+tc.groups, len(blocks))]); err != nil {
				t.Fatal(err)
			}
		}
		st := d.MemoryStats().Lookups
		switch {
		case tc.table && (st.UnspentHits == 0 || st.UnspentMisses != 0):
			t.Errorf("%s: %d spends resolved from the unspent outputs, %d from the three tables", tc.name, st.UnspentHits, st.UnspentMisses)
		case !tc.table && st.UnspentHits != 0:
			t.Errorf("%s: %d spends resolved from an emptied table", tc.name, st.UnspentHits)
		}
		if tc.table {
			checkUnspent(t, d)
		}
		got := mustDigest(t, d, heistgraph.ChainBTCRegtest).String() + "\n" + string(storeDump(t, d))
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: the store reads otherwise than with every spend read from the three tables", tc.name)
		}
	}
}

// TestUnspentMigrate: a store of schema 11 (no unspent outputs) opened
// read-write gets the table built from its outputs and spend markers and
// schema 12, as a store that kept it from the start; a store killed mid
// migration (a partial table, still version 11) is migrated again from
// scratch; a read-only open reads the older store as it is.
func TestUnspentMigrate(t *testing.T) {
	ctx := context.Background()
	blocks := bulkWorld(t, 9, 40)
	fs := vfs.NewMem()
	opts := DefaultOptions()
	opts.FS = fs
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplyBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	if err := d.RewindTo(ctx, heistgraph.ChainBTCRegtest, 30); err != nil {
		t.Fatal(err)
	}
	want := checkUnspent(t, d)
	if want == "" {
		t.Fatal("no unspent outputs")
	}
	wantDump := string(storeDump(t, d))
	// Make it a store of version 11: no table, and (second round) a
	// partial one with an entry no output backs.
	for round := range 2 {
		b := d.db.NewBatch()
		_ = b.DeleteRange([]byte{prefixUnspent}, []byte{prefixUnspent + 1}, nil)
		if round == 1 {
			_ = b.Set(appendUnspentKey(nil, 1, heistgraph.Outpoint{Vout: 3}), appendUnspent(nil, &utxo{Num: 1}), nil)
		}
		_ = b.Set(metaVersionKey, appendUvarint(nil, unspentFrom), nil)
		if err := b.Commit(pebbledb.Sync); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		ro := opts
		ro.ReadOnly = true
		r, err := Open("db", ro)
		if err != nil {
			t.Fatalf("round %d: read-only open of a version %d store: %v", round, unspentFrom, err)
		}
		if got := string(storeDump(t, r)); got != wantDump || r.MigratedFrom() != 0 {
			t.Errorf("round %d: read-only: the older store reads otherwise (migrated from %d)", round, r.MigratedFrom())
		}
		if _, err := r.Check(ctx); err != nil {
			t.Errorf("round %d: read-only: check of the older store: %v", round, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if d, err = Open("db", opts); err != nil {
			t.Fatalf("round %d: open of a version %d store: %v", round, unspentFrom, err)
		}
		if d.MigratedFrom() != unspentFrom {
			t.Errorf("round %d: migrated from %d, want %d", round, d.MigratedFrom(), unspentFrom)
		}
		v, _, err := lookup(d.db, metaVersionKey, nil)
		if err != nil || !bytes.Equal(v, appendUvarint(nil, schemaVersion)) {
			t.Fatalf("round %d: version %x after the migration, %v", round, v, err)
		}
		if got := checkUnspent(t, d); got != want {
			t.Fatalf("round %d: migrated table:\n%s\nwant:\n%s", round, got, want)
		}
	}
	// The migrated store goes on as one that kept the table.
	if _, err := d.ApplyBlocks(ctx, blocks[31:]); err != nil {
		t.Fatal(err)
	}
	checkUnspent(t, d)
	// Check finds the table sound, and finds an entry missing, changed or
	// left over.
	if _, err := d.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{prefixUnspent}, UpperBound: []byte{prefixUnspent + 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("no entry")
	}
	k, v := slices.Clone(it.Key()), slices.Clone(it.Value())
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	changed := slices.Clone(v)
	changed[0]++
	extra := slices.Clone(k)
	extra[len(extra)-1] ^= 0x80
	for _, bad := range []struct {
		name string
		key  []byte
		val  []byte // nil: deleted
	}{{"missing", k, nil}, {"changed", k, changed}, {"left over", extra, v}} {
		if bad.val == nil {
			err = d.db.Delete(bad.key, nil)
		} else {
			err = d.db.Set(bad.key, bad.val, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Check(ctx); !errors.Is(err, errCorrupt) {
			t.Errorf("check of a store with an entry %s: %v, want errCorrupt", bad.name, err)
		}
		if err := errors.Join(d.db.Delete(extra, nil), d.db.Set(k, v, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Check(ctx); err != nil {
		t.Fatalf("check once repaired: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err = Open("db", opts); err != nil || d.MigratedFrom() != 0 {
		t.Fatalf("open of the migrated store: migrated from %d, %v", d.MigratedFrom(), err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
