package pebble

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

// TestFatalIsAnError checks that a Pebble Fatalf on a call through the
// store (a failed WAL write does this) becomes an error wrapping ErrFailed
// and its cause, instead of the panic that crashed the process, and that
// the store then fails every write, reports the fault (Failed, Err,
// OnFail) and closes without waiting on Pebble.
func TestFatalIsAnError(t *testing.T) {
	opts := DefaultOptions()
	opts.FS = vfs.NewMem()
	notified := make(chan error, 1)
	opts.OnFail = func(err error) { notified <- err }
	db, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	log := slogLogger{l: slog.New(slog.DiscardHandler), h: db.h}
	err = db.guard(func() error {
		log.Fatalf("pebble: fatal commit error: %v", io.ErrShortWrite)
		return nil
	})
	if !errors.Is(err, ErrFailed) || !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("guarded Fatalf: %v, want an error wrapping ErrFailed and the cause", err)
	}
	select {
	case <-db.Failed():
	default:
		t.Error("Failed is not closed after a fatal error")
	}
	select {
	case got := <-notified:
		if !errors.Is(got, io.ErrShortWrite) {
			t.Errorf("OnFail got %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("OnFail was not called")
	}
	if err := db.PutPrices(context.Background(), []heistgraph.DayPrice{{Asset: "BTC", Day: time.Unix(0, 0).UTC(), USD: 1}}); !errors.Is(err, ErrFailed) {
		t.Errorf("a write after the fault: %v, want ErrFailed", err)
	}
	if err := db.Close(); !errors.Is(err, ErrFailed) {
		t.Errorf("close after the fault: %v, want ErrFailed", err)
	}
}

// TestSyncOnlyWhenDirty checks that Sync writes to the log only after a
// write, so that syncing before every line of output costs nothing on a
// store that was not written.
func TestSyncOnlyWhenDirty(t *testing.T) {
	db := openMem(t, 256<<10)
	if db.dirty.Load() {
		t.Error("a fresh store is dirty")
	}
	if err := db.PutPrices(context.Background(), []heistgraph.DayPrice{{Asset: "BTC", Day: time.Unix(0, 0).UTC(), USD: 1}}); err != nil {
		t.Fatal(err)
	}
	if !db.dirty.Load() {
		t.Error("a write did not mark the store dirty")
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	if db.dirty.Load() {
		t.Error("still dirty after Sync")
	}
}
