package pebble

import (
	"errors"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A process killed after Pebble created the directory but before the
// schema version was written leaves a store without a single key: a
// read-only open finds no store there, and a writing open makes it one.
func TestOpenKilledAtCreation(t *testing.T) {
	fs := vfs.NewMem()
	o := DefaultOptions()
	o.FS = fs
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, err := pebbledb.Open("d", o.pebbleOptions(newHealth(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	ro := DefaultOptions()
	ro.FS, ro.ReadOnly = fs, true
	if _, err := Open("d", ro); !errors.Is(err, ErrNoStore) {
		t.Fatalf("read-only open of a store killed at creation: %v, want ErrNoStore", err)
	}
	rw := DefaultOptions()
	rw.FS = fs
	db, err := Open("d", rw)
	if err != nil {
		t.Fatalf("writing open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open("d", ro)
	if err != nil {
		t.Fatalf("read-only open after the writing one: %v", err)
	}
	_ = db.Close()

	// Data without a schema version is damage, not an empty store.
	raw, err = pebbledb.Open("e", o.pebbleOptions(newHealth(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Set([]byte("x"), []byte("y"), pebbledb.Sync); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	if _, err := Open("e", ro); err == nil || errors.Is(err, ErrNoStore) {
		t.Fatalf("read-only open of keys without a version: %v, want a corruption error", err)
	}
}
