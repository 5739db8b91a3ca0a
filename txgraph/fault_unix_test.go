//go:build unix

package txgraph

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestCatchFault meets a real fault: a page of a shared mapping whose file
// was truncated under it (what a write to a sparse file's page on a full
// disk also raises, SIGBUS) must come back as an error naming the folder,
// and an ordinary error or panic must pass through unchanged.
func TestCatchFault(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, "fault")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 16); err != nil {
		t.Fatal(err)
	}
	b, err := mapRW(f, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer munmap(b)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	err = catchFault(dir, func() error {
		b[1<<15] = 1 // past the file's end: SIGBUS
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a fault on a truncated mapping: got %v, want an error naming %s", err, dir)
	}

	want := errors.New("plain")
	if err := catchFault(dir, func() error { return want }); err != want {
		t.Fatalf("an ordinary error: got %v, want it unchanged", err)
	}
	defer func() {
		if e := recover(); e != "other" {
			t.Fatalf("another panic: got %v, want it passed through", e)
		}
	}()
	_ = catchFault(dir, func() error { panic("other") })
}
