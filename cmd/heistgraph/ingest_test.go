package main

import (
	"compress/bzip2"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the heistgraph binary, so the
// crash test can SIGKILL a real child process mid-ingest.
func TestMain(m *testing.M) {
	if os.Getenv("HEISTGRAPH_TEST_CLI") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM) // as main does
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// Commands run in this process (cli) share its memory with the tests
	// running in parallel, so the memory guard of --memory would read their
	// memory too and stop an ingest at random: it reads none here. The
	// tests of the guard set their own reading; commands run as a
	// subprocess (HEISTGRAPH_TEST_CLI above) keep the real one.
	residentAnon = func() int64 { return 0 }
	code := m.Run()
	if serveWorld.cleanupRoot != "" {
		os.RemoveAll(serveWorld.cleanupRoot) // the shared world of serve_test.go
	}
	os.Exit(code)
}

// records returns the offsets of the blk records in b (magic, length, block).
func records(t *testing.T, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 0; off+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if binary.LittleEndian.Uint32(b[off:]) == 0 {
			break
		}
		offs = append(offs, off)
		off += 8 + n
	}
	return offs
}

func digest(t *testing.T, data string) string {
	t.Helper()
	r := cli(t, "--data", data, "--json", "store", "digest", "--chain", "btc")
	mustOK(t, r, "store digest")
	return decode[map[string]any](t, r.stdout)["digest"].(string)
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIngestBadInput(t *testing.T) {
	good, err := os.ReadFile(blocks1to255)
	if err != nil {
		t.Fatal(err)
	}
	clean := t.TempDir()
	mustOK(t, cli(t, "--data", clean, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "clean ingest")
	want := digest(t, clean)

	offs := records(t, good)
	if len(offs) != 255 {
		t.Fatalf("%d records in blocks1-256.blk, want 255", len(offs))
	}
	const bad = 100 // record index of the damaged block (height 101)
	o := offs[bad]
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		absent int // a height that must not be in the store afterwards
	}{
		{"truncated file", func(b []byte) []byte { return b[:o+8+100] }, bad + 1},
		{"wrong magic", func(b []byte) []byte { copy(b[o:], []byte{0xde, 0xad, 0xbe, 0xef}); return b }, bad + 1},
		{"corrupted length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[o+4:], 0x7fffff00); return b }, bad + 1},
		{"tx that does not decode", func(b []byte) []byte {
			// The first tx's input count (after the 80-byte header, the tx
			// count and the 4-byte version) becomes huge.
			b[o+8+80+1+4] = 0xfe
			return b
		}, bad + 1},
		{"merkle root mismatch", func(b []byte) []byte {
			// Flip a byte of the coinbase's locktime (the record's last byte
			// for these one-tx blocks): the txid changes, the header does not.
			n := int(binary.LittleEndian.Uint32(b[o+4:]))
			b[o+8+n-1] ^= 0x01
			return b
		}, bad + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			b := tc.damage(append([]byte(nil), good...))
			path := writeFile(t, "blk00000.dat", b)
			r := cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", path)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
			}
			msg := strings.ToLower(r.stderr)
			if !strings.Contains(msg, "blk00000.dat") || !strings.Contains(msg, "offset") {
				t.Fatalf("error does not name the file and offset: %s", r.stderr)
			}
			if rb := cli(t, "--data", data, "show", "block", itoa(tc.absent)); rb.code != 1 {
				t.Fatalf("block %d of the bad record is in the store (show exit %d)", tc.absent, rb.code)
			}
			// The file fixed, a rerun completes to the state of a clean run.
			mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "rerun on the fixed file")
			if got := digest(t, data); got != want {
				t.Fatalf("digest after fix %s, clean %s", got, want)
			}
		})
	}
}

func TestIngestTwiceChangesNothing(t *testing.T) {
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "first ingest")
	d1 := digest(t, data)
	r := cli(t, "--data", data, "--json", "--quiet", "ingest", "btc", "--blocks", blocks1to255)
	mustOK(t, r, "second ingest")
	if rep := decode[ingestReport](t, r.stdout); rep.Blocks != 0 || rep.TipHeight != 255 {
		t.Fatalf("second run applied %d blocks (tip %d), want 0 (tip 255)", rep.Blocks, rep.TipHeight)
	}
	if d2 := digest(t, data); d2 != d1 {
		t.Fatalf("digest changed on a second run: %s -> %s", d1, d2)
	}
}

// TestIngestKilledResumes SIGKILLs a real child process at random moments of
// an ingest of mainnet blocks 0-14131 and checks that reruns complete to
// exactly the state of a clean run.
func TestIngestKilledResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; slow")
	}
	blk := mainnetBlkFile(t)

	clean := t.TempDir()
	start := time.Now()
	mustOK(t, cli(t, "--data", clean, "--quiet", "ingest", "btc", "--blocks", blk), "clean ingest")
	full := time.Since(start)
	want := digest(t, clean)

	seed := uint64(time.Now().UnixNano())
	t.Logf("clean ingest %v; kill seed %d", full, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	data := t.TempDir()
	// Kill until at least three runs died part-way through the writes (the
	// store then holds some blocks but not all), or 12 attempts.
	partial := 0
	for i := 0; i < 12 && partial < 3; i++ {
		cmd := exec.Command(os.Args[0], "--data", data, "--quiet", "ingest", "btc", "--blocks", blk)
		cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A random moment from process start-up to past a full run's length
		// (the child also pays for its start-up and index pass).
		time.Sleep(time.Duration(rng.Int64N(int64(full) + 1)))
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		tip := tipHeight(t, data)
		t.Logf("kill %d: exit %v, store tip %d", i, werr, tip)
		if werr != nil && tip > 0 && tip < 14131 {
			partial++
		}
		if tip == 14131 { // finished before the kill: start over on a fresh store
			data = t.TempDir()
		}
	}
	if partial == 0 {
		t.Fatalf("no kill landed in the middle of the writes")
	}
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blk), "final rerun")
	if got := digest(t, data); got != want {
		t.Fatalf("digest after kills and rerun %s, clean %s", got, want)
	}
	r := cli(t, "--data", data, "--json", "show", "block", "14131")
	mustOK(t, r, "show block 14131")
}

// tipHeight returns the store's btc tip height, or -1 when it holds nothing.
func tipHeight(t *testing.T, data string) int64 {
	t.Helper()
	r := cli(t, "--data", data, "--json", "store", "digest", "--chain", "btc")
	// A kill before the first block leaves no store, or a store without
	// the chain: both are "nothing ingested yet", exit 1.
	if r.code == exitFailure && (strings.Contains(r.stderr, "no store at") || strings.Contains(r.stderr, "no blocks of chain btc")) {
		return -1
	}
	mustOK(t, r, "store digest")
	v := decode[map[string]any](t, r.stdout)
	h, ok := v["tip_height"].(float64)
	if !ok {
		return -1
	}
	return int64(h)
}

func itoa(n int) string { return strconv.Itoa(n) }

// mainnetBlkFile writes mainnet blocks 0-14131 (bitcoin/testdata) as a
// block file in a temporary directory and returns its path.
func mainnetBlkFile(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "bitcoin", "testdata", "blk-0-to-14131.dat.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "blk00000.dat", raw)
}
