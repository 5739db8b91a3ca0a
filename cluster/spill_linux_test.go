package cluster

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// fakeDiskFull makes the spill files' allocations fail with ENOSPC past
// limit bytes of any one file, and spillChunkIDs small, until the test
// ends. Not for parallel tests: both are package variables.
func fakeDiskFull(t *testing.T, limit int64) {
	t.Helper()
	real, chunk := fallocate, spillChunkIDs
	t.Cleanup(func() { fallocate, spillChunkIDs = real, chunk })
	spillChunkIDs = 16
	fallocate = func(fd int, mode uint32, off, n int64) error {
		if off+n > limit {
			return syscall.ENOSPC
		}
		return real(fd, mode, off, n)
	}
}

// TestSpillReserve: a spilled array's file holds allocated disk for the ids
// reserved, no more than a chunk or an eighth beyond, and grows only
// when asked for more; past what the disk has, reserve is a
// *SpillFullError naming the directory and the bytes asked for.
func TestSpillReserve(t *testing.T) {
	fakeDiskFull(t, 1<<20)
	dir := t.TempDir()
	hi, lo, s, err := arrays[uint64, uint32](dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer unmapAll(s.files)
	_, _ = hi, lo
	check := func(step string, atLeast, atMost int64) {
		t.Helper()
		if s.reserved < atLeast || s.reserved > atMost {
			t.Fatalf("%s: %d ids reserved, want %d to %d", step, s.reserved, atLeast, atMost)
		}
		for _, sf := range s.files {
			var st syscall.Stat_t
			if err := syscall.Fstat(int(sf.f.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			if want := s.reserved * sf.size; st.Size != want || st.Blocks*512 < want {
				t.Errorf("%s: file of %d-byte ids: size %d, %d bytes allocated; want %d of each", step, sf.size, st.Size, st.Blocks*512, want)
			}
		}
	}
	check("made for 10", 10, 16)
	if err := s.reserve(5); err != nil {
		t.Fatal(err)
	}
	check("asked for less", 10, 16)
	if err := s.reserve(1000); err != nil {
		t.Fatal(err)
	}
	check("asked for 1000", 1000, 1000)
	if err := s.reserve(1001); err != nil {
		t.Fatal(err)
	}
	check("one more", 1001, 1000+1000/8) // grows by an eighth
	err = s.reserve(1 << 20)             // 8 MiB of the 8-byte array: past the fake disk
	var full *SpillFullError
	if !errors.As(err, &full) || full.Dir != dir || full.Need < (1<<20-s.reserved)*12 || !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("reserve past the disk: %v (%#v); want a SpillFullError for %s wrapping ErrInvalid", err, full, dir)
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, "more bytes") {
		t.Errorf("message %q: want the directory and the bytes", msg)
	}
	check("after the full disk", 1001, 1000+1000/8)
}

// TestSpillFull: a clustering whose spill directory runs out of disk stops
// with a *SpillFullError (not a fault when a page is first written), and
// a run after room was made resumes to the clustering of a run that never
// spilled.
func TestSpillFull(t *testing.T) {
	ctx := context.Background()
	opts := DefaultOptions()
	spilled := opts
	spilled.SpillDir = t.TempDir()
	plain, sp := openMem(t), openMem(t)
	gen := storetest.NewGenerator(chain, 11, 30)
	applyNext(t, []*pebble.DB{plain, sp}, gen, 40, nil)
	a, err := Update(ctx, plain, chain, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Addresses < 400 {
		t.Fatalf("only %d addresses: too few to fill the fake disk", a.Addresses)
	}

	fakeDiskFull(t, 4*int64(a.Addresses)/2) // the 4-byte arrays fill at half the addresses
	_, err = Update(ctx, sp, chain, spilled)
	var full *SpillFullError
	if !errors.As(err, &full) || full.Dir != spilled.SpillDir || full.Need <= 0 {
		t.Fatalf("Update on a full disk: %v; want a SpillFullError naming %s", err, spilled.SpillDir)
	}
	if got := len(memberships(t, sp)); got >= int(a.Addresses) {
		t.Errorf("%d memberships written on a full disk, want fewer than %d", got, a.Addresses)
	}

	fallocate = syscall.Fallocate // room made
	b, err := Update(ctx, sp, chain, spilled)
	if err != nil {
		t.Fatal(err)
	}
	if b.Addresses != a.Addresses || b.Clusters != a.Clusters {
		t.Errorf("resumed: %d addresses in %d clusters, want %d in %d", b.Addresses, b.Clusters, a.Addresses, a.Clusters)
	}
	if !slices.Equal(memberships(t, plain), memberships(t, sp)) {
		t.Error("memberships differ from the run that never spilled")
	}
	if !slices.EqualFunc(evidence(t, plain), evidence(t, sp), evidenceEqual) {
		t.Error("evidence differs from the run that never spilled")
	}
	if left, err := os.ReadDir(spilled.SpillDir); err != nil || len(left) != 0 {
		t.Errorf("spill directory: %v, %v; want it empty", left, err)
	}
}

// TestSpillTmpfs fills a real 1 MiB file system (tmpfs, where a sparse
// page that cannot be had is a SIGBUS) through reserve: the error, not a
// fault. It needs the right to mount (root); skipped otherwise.
func TestSpillTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Error(err)
		}
	})
	cid, next, s, err := arrays[uint32, uint32](dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer unmapAll(s.files)
	var full *SpillFullError
	for id := uint32(1); ; id++ {
		if err := s.reserve(int64(id) + 1); err != nil {
			if !errors.As(err, &full) || full.Dir != dir || full.Free < 0 || full.Free > 1<<20 {
				t.Fatalf("at id %d: %v; want a SpillFullError for %s with what is free", id, err, dir)
			}
			if id < 1<<16 {
				t.Errorf("full at id %d: want room for about 128k ids in 1 MiB", id)
			}
			break
		}
		cid, next = append(cid, id), append(next, id) // a fault here without the reservation
	}
}
