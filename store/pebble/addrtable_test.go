package pebble

import (
	"errors"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

// testAddrTable returns a reader of an address table of chain code 1 that
// names addrs[i] under id i+1.
func testAddrTable(t testing.TB, addrs ...string) *addrReader {
	t.Helper()
	db, err := pebbledb.Open("", &pebbledb.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i, a := range addrs {
		if err := db.Set(appendAddrByIDKey(nil, 1, uint64(i+1)), appendAddrValue(nil, a), nil); err != nil {
			t.Fatal(err)
		}
	}
	return newAddrReader(db, 1)
}

// testOutputRecord encodes out as ApplyBlock does, its address under id.
func testOutputRecord(out *heistgraph.TxOut, height int64, id uint64) []byte {
	p, ok := packAddr(out.Address)
	if !ok {
		return appendOutputRecord(nil, out, height, id, nil)
	}
	return appendOutputRecord(nil, out, height, id, &p)
}

// TestAddrReader: ids resolve to their addresses whatever their stored
// form, id 0 to no address, and an id the table does not hold or an
// entry that does not decode is corrupt.
func TestAddrReader(t *testing.T) {
	addrs := []string{
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
		"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
		"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", // upper case: kept as a string
		"not an address",
	}
	r := testAddrTable(t, addrs...)
	for pass := range 2 { // the second pass answers from what the reader remembers
		for i, want := range addrs {
			if got, err := r.addr(uint64(i + 1)); err != nil || got != want {
				t.Errorf("pass %d: id %d: %q (%v), want %q", pass, i+1, got, err, want)
			}
		}
	}
	if got, err := r.addr(0); err != nil || got != "" {
		t.Errorf("id 0: %q (%v), want no address", got, err)
	}
	if _, err := r.addr(99); !errors.Is(err, errCorrupt) {
		t.Errorf("id not in the table: error %v, want errCorrupt", err)
	}
	for _, v := range [][]byte{{addrEmpty}, {addrString, 0}, {addrBase58, 0}, {addrString, 5, 'a'}, {0x7f}} {
		if _, err := decodeAddrEntry(v); !errors.Is(err, errCorrupt) {
			t.Errorf("entry %x: error %v, want errCorrupt", v, err)
		}
	}
}

// FuzzAddrEntry checks that no address table value makes the decoder
// panic, and that what decodes encodes back to the same value.
func FuzzAddrEntry(f *testing.F) {
	for _, a := range []string{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", "x"} {
		f.Add(appendAddrValue(nil, a))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeAddrEntry(v)
		if err != nil {
			return
		}
		if e.s == "" {
			t.Fatalf("entry %x decodes to no address", v)
		}
		if again, err := decodeAddrEntry(appendAddrValue(nil, e.s)); err != nil || again.s != e.s {
			t.Fatalf("entry %x: %q does not round-trip (%q, %v)", v, e.s, again.s, err)
		}
	})
}
