//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/store/pebble"
)

// proc is the outcome of a heistgraph child process.
type proc struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runChild runs heistgraph with args as a real process, killing it after
// limit.
func runChild(t *testing.T, limit time.Duration, args ...string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	c := child(ctx, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	start := time.Now()
	err := c.Run()
	p := proc{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("heistgraph %s still ran after %s (a hang); stderr: %s", strings.Join(args, " "), limit, p.stderr)
	case errors.As(err, &ee):
		p.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return p
}

// wantFailure checks that p exited 1 with an error line holding want, and
// without a panic.
func wantFailure(t *testing.T, p proc, want string) {
	t.Helper()
	if p.code != exitFailure {
		t.Errorf("exit %d, want %d; stderr: %s", p.code, exitFailure, p.stderr)
	}
	if !strings.Contains(p.stderr, want) {
		t.Errorf("stderr does not say %q: %s", want, p.stderr)
	}
	if strings.Contains(p.stderr, "panic") || strings.Contains(p.stderr, "goroutine ") || strings.Contains(p.stderr, "fatal error") {
		t.Errorf("a crash, not an error:\n%s", p.stderr)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new folder, unmounted at the
// end of the test. Without the privilege to mount it skips, except in CI.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatalf("mount a tmpfs (CI must run the disk-full tests as root): %v", err)
		}
		t.Skipf("mount a tmpfs: %v (run as root, or in CI with CI=1)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file of the size that leaves free bytes on the file system
// of dir.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	p := filepath.Join(dir, "filler")
	if err := os.WriteFile(p, make([]byte, avail-free), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFaultDiskFull ingests the mainnet blocks into a store on a tmpfs that
// fills up at several points of the ingest (the write-ahead log, a flush,
// a log rotation): the command must stop within seconds with "no space left
// on device" and exit 1 (it hung forever, or crashed, before), and a rerun
// after the space is freed must complete with the same content as on a
// roomy disk. (A synthetic world is not used: Pebble preallocates its logs,
// so even a small world takes hundreds of MB of tmpfs.)
func TestFaultDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	tests := []struct {
		blocks string
		free   int64
	}{
		{blocks1to255, 40 << 10},
		{blocks1to255, 100 << 10},
		{blocks1to255, 160 << 10},
		{blocks1to255, 220 << 10},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/free=%dk", filepath.Base(tc.blocks), tc.free>>10), func(t *testing.T) {
			mnt := mountTmpfs(t, 4<<20)
			data := filepath.Join(mnt, "data")
			filler := fill(t, mnt, tc.free)
			p := runChild(t, 30*time.Second, "--data", data, "ingest", "btc", "--blocks", tc.blocks)
			if p.code == 0 {
				t.Fatalf("ingest into %dk of free space succeeded: %s", tc.free>>10, p.stdout)
			}
			wantFailure(t, p, "no space left on device")
			if p.took > 10*time.Second {
				t.Errorf("the failed ingest took %s to stop", p.took)
			}
			if p.stdout != "" {
				t.Errorf("a failed ingest printed a summary: %s", p.stdout)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			p = runChild(t, 60*time.Second, "--data", data, "--json", "ingest", "btc", "--blocks", tc.blocks)
			if p.code != 0 {
				t.Fatalf("rerun after freeing space: exit %d: %s", p.code, p.stderr)
			}
			ref := filepath.Join(t.TempDir(), "ref")
			mustOK(t, cli(t, "--data", ref, "--quiet", "ingest", "btc", "--blocks", tc.blocks), "ingest on a roomy disk")
			rep := decode[ingestReport](t, p.stdout)
			if d, want := runChild(t, 30*time.Second, "--data", data, "store", "digest", "--chain", string(rep.Chain)), runChild(t, 30*time.Second, "--data", ref, "store", "digest", "--chain", string(rep.Chain)); d.code != 0 || d.stdout != want.stdout {
				t.Errorf("after the rerun the store's digest is %q (exit %d: %s), want %q as on a roomy disk", d.stdout, d.code, d.stderr, want.stdout)
			}
			if p := runChild(t, 30*time.Second, "--data", data, "store", "check"); p.code != 0 {
				t.Errorf("store check after the rerun: exit %d: %s", p.code, p.stderr)
			}
		})
	}
}

// flippedStore returns a store holding the mainnet blocks in a sorted table
// (not only in the write-ahead log), and the paths of its tables.
func flippedStore(t *testing.T) (string, []string) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster=false"), "ingest")
	// Reopening for writing replays the log into a table.
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster=false"), "ingest again")
	ssts, _ := filepath.Glob(filepath.Join(data, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no sorted table in the store")
	}
	return data, ssts
}

// flip flips one byte every stride bytes of the first 80% of file (the data
// blocks; the footer stays intact).
func flip(t *testing.T, file string, stride int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i := 100; i < len(b)*8/10; i += stride {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFaultCorruptTable flips bytes in a sorted table: commands that read
// it must fail with exit 1 and an error naming the file (they panicked
// with exit 2 before: Pebble's corruption report went to Fatalf), and
// store check must find a single flipped byte that reads miss.
func TestFaultCorruptTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	t.Run("one byte", func(t *testing.T) {
		t.Parallel()
		data, ssts := flippedStore(t)
		sst := ssts[0]
		if p := runChild(t, 30*time.Second, "--data", data, "store", "check"); p.code != 0 {
			t.Fatalf("store check of a sound store: exit %d: %s", p.code, p.stderr)
		}
		flip(t, sst, 1<<30)
		p := runChild(t, 30*time.Second, "--data", data, "store", "check")
		wantFailure(t, p, sst)
		p = runChild(t, 30*time.Second, "--data", data, "--json", "store", "check")
		wantFailure(t, p, sst)
		if !strings.Contains(p.stderr, `"error"`) {
			t.Errorf("--json: no error object: %s", p.stderr)
		}
	})
	t.Run("every block", func(t *testing.T) {
		t.Parallel()
		// Each table has files of its own (store/pebble's span policy), so
		// every file is flipped and the error names whichever one the
		// command read first.
		data, ssts := flippedStore(t)
		for _, sst := range ssts {
			flip(t, sst, 4096)
		}
		for _, args := range [][]string{
			{"show", "block", "100"},
			{"store", "digest"},
			{"labels", "list"},
			{"ingest", "btc", "--blocks", blocks1to255},
			{"store", "check"},
		} {
			p := runChild(t, 30*time.Second, append([]string{"--data", data}, args...)...)
			named := ssts[0]
			for _, sst := range ssts {
				if strings.Contains(p.stderr, sst) {
					named = sst
				}
			}
			t.Run(strings.Join(args[:2], "_"), func(t *testing.T) { wantFailure(t, p, named) })
		}
	})
}

// TestOpenSemantics checks how commands open the store: a read never
// creates one; on a --data without a store, chain lookups say so and the
// built-in data still answers; a store held by another process names it.
func TestOpenSemantics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nothing-here")
	t.Run("chain lookups on no store", func(t *testing.T) {
		for _, args := range [][]string{
			{"show", "block", "1"},
			{"show", "address", satoshi},
			{"trace", "--chain", "btc", "--seed", tx170 + ":0"},
			{"cluster", "show", satoshi},
			{"store", "digest"},
			{"store", "check"},
		} {
			p := runChild(t, 30*time.Second, append([]string{"--data", missing}, args...)...)
			t.Run(strings.Join(args[:2], "_"), func(t *testing.T) { wantFailure(t, p, "no store at "+missing) })
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a read command created %s (%v)", missing, err)
		}
	})
	t.Run("built-in data on no store", func(t *testing.T) {
		for _, args := range [][]string{
			{"labels", "list"},
			{"incidents", "list"},
			{"incidents", "report", "--year", "2024"},
			{"export", "stix", "--year", "2024"},
		} {
			p := runChild(t, 30*time.Second, append([]string{"--data", missing}, args...)...)
			if p.code != 0 || p.stdout == "" {
				t.Errorf("%s on no store: exit %d, %d bytes out; stderr: %s", strings.Join(args, " "), p.code, len(p.stdout), p.stderr)
			}
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a read command created %s (%v)", missing, err)
		}
	})
	t.Run("digest of a chain not stored", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster=false"), "ingest")
		wantFailure(t, runChild(t, 30*time.Second, "--data", data, "store", "digest", "--chain", "zzz"), "no blocks of chain zzz in the store")
		if p := runChild(t, 30*time.Second, "--data", data, "store", "digest", "--chain", "btc-nosuch"); p.code != exitUsage {
			t.Errorf("digest of an unknown chain id: exit %d, want %d: %s", p.code, exitUsage, p.stderr)
		}
	})
	t.Run("in use", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster=false"), "ingest")
		db, err := pebble.Open(data, pebble.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("the store in %s is in use by another heistgraph process (pid %d)", data, os.Getpid())
		wantFailure(t, runChild(t, 30*time.Second, "--data", data, "show", "block", "1"), want)
		wantFailure(t, runChild(t, 30*time.Second, "--data", data, "labels", "import", os.DevNull, "--format", "csv"), want)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Readers share the store with each other, not with a writer.
		ro := pebble.DefaultOptions()
		ro.ReadOnly = true
		db, err = pebble.Open(data, ro)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if p := runChild(t, 30*time.Second, "--data", data, "show", "block", "1"); p.code != 0 {
			t.Errorf("a read next to a reader: exit %d: %s", p.code, p.stderr)
		}
		wantFailure(t, runChild(t, 30*time.Second, "--data", data, "labels", "import", os.DevNull, "--format", "csv"), want)
		var inUse *pebble.InUseError
		if _, err := pebble.Open(data, pebble.DefaultOptions()); !errors.As(err, &inUse) {
			t.Errorf("open for writing next to a reader in this process: %v, want an InUseError", err)
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		mnt := mountTmpfs(t, 4<<20)
		data := filepath.Join(mnt, "data")
		mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255, "--cluster=false"), "ingest")
		if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
		p := runChild(t, 30*time.Second, "--data", data, "--json", "show", "block", "100")
		if p.code != 0 {
			t.Fatalf("show block on a read-only file system: exit %d: %s", p.code, p.stderr)
		}
		if b := decode[map[string]any](t, p.stdout); b["height"] != float64(100) {
			t.Errorf("show block 100: %v", b)
		}
		if p := runChild(t, 30*time.Second, "--data", data, "store", "check"); p.code != 0 {
			t.Errorf("store check on a read-only file system: exit %d: %s", p.code, p.stderr)
		}
	})
}
