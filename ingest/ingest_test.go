package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

var blocks1to255 = filepath.Join("..", "bitcoin", "testdata", "blocks1-256.blk")

func memStore(t *testing.T) store.Store {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	db, err := pebble.Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func source(t *testing.T, st store.ChainReader, paths ...string) *bitcoin.FileSource {
	t.Helper()
	src, err := bitcoin.NewFileSource(paths, bitcoin.FileOptions{Known: func(h heistgraph.Hash) (int64, bool) {
		b, err := st.BlockByHash(context.Background(), heistgraph.ChainBTC, h)
		return b.Height, err == nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestStreamRealBlocks(t *testing.T) {
	t.Parallel()
	st := memStore(t)
	var applied []int64
	stats, err := ingest.Stream(context.Background(), st, source(t, st, blocks1to255), ingest.Options{
		Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) { applied = append(applied, b.Height) }},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The genesis block is implicit and applied first; then 1..255 in order:
	// 256 coinbases and the 7 payments of blocks 170-255.
	if stats.Blocks != 256 || stats.Txs != 263 || len(applied) != 256 {
		t.Fatalf("stats %+v, %d events", stats, len(applied))
	}
	for i, h := range applied {
		if h != int64(i) {
			t.Fatalf("event %d at height %d: not in chain order", i, h)
		}
	}
	tip, err := st.Tip(context.Background(), heistgraph.ChainBTC)
	if err != nil || tip.Height != 255 {
		t.Fatalf("tip %+v, %v", tip, err)
	}
	// A second run over the same files applies nothing and changes nothing.
	d1, _ := st.Digest(context.Background(), heistgraph.ChainBTC)
	stats2, err := ingest.Stream(context.Background(), st, source(t, st, blocks1to255), ingest.Options{})
	if err != nil || stats2.Blocks != 0 {
		t.Fatalf("second run: %+v, %v", stats2, err)
	}
	if d2, _ := st.Digest(context.Background(), heistgraph.ChainBTC); d2 != d1 {
		t.Fatal("digest changed on the second run")
	}
}

// TestStreamCancelKeepsWholeBlocks cancels mid-ingest and checks that the
// store holds exactly the blocks reported applied, and that a rerun
// completes to the state of an uninterrupted run.
func TestStreamCancelKeepsWholeBlocks(t *testing.T) {
	t.Parallel()
	clean := memStore(t)
	if _, err := ingest.Stream(context.Background(), clean, source(t, clean, blocks1to255), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	want, _ := clean.Digest(context.Background(), heistgraph.ChainBTC)

	st := memStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	var last int64
	_, err := ingest.Stream(ctx, st, source(t, st, blocks1to255), ingest.Options{
		ReadAhead:  1,
		GroupBytes: -1, // block by block (TestStreamCancelKeepsWholeGroups: in groups)
		Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) {
			last = b.Height
			if b.Height == 120 {
				cancel()
			}
		}},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	tip, err := st.Tip(context.Background(), heistgraph.ChainBTC)
	if err != nil || tip.Height != last || last != 120 {
		t.Fatalf("tip %d, last applied %d (%v)", tip.Height, last, err)
	}
	if _, err := st.BlockByHeight(context.Background(), heistgraph.ChainBTC, 121); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("block 121 present after cancel: %v", err)
	}
	if _, err := ingest.Stream(context.Background(), st, source(t, st, blocks1to255), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Digest(context.Background(), heistgraph.ChainBTC); got != want {
		t.Fatal("resumed ingest differs from a clean one")
	}
}

// TestStreamCancelKeepsWholeGroups cancels an ingest that applies blocks a
// few at a time (ApplyBlocks) and checks that the store holds exactly the
// blocks reported applied, whole groups, and that a rerun completes to the
// state of an uninterrupted block-by-block run.
func TestStreamCancelKeepsWholeGroups(t *testing.T) {
	t.Parallel()
	clean := memStore(t)
	if _, err := ingest.Stream(context.Background(), clean, source(t, clean, blocks1to255), ingest.Options{GroupBytes: -1}); err != nil {
		t.Fatal(err)
	}
	want, _ := clean.Digest(context.Background(), heistgraph.ChainBTC)

	st := memStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	var last int64
	var reported []int64
	_, err := ingest.Stream(ctx, st, source(t, st, blocks1to255), ingest.Options{
		ReadAhead:  1,
		GroupBytes: 4096, // about 19 of these blocks a group
		Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) {
			last = b.Height
			reported = append(reported, b.Height)
			if b.Height == 120 {
				cancel()
			}
		}},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	tip, err := st.Tip(context.Background(), heistgraph.ChainBTC)
	if err != nil || tip.Height != last || last < 120 || last >= 255 {
		t.Fatalf("tip %d, last applied %d (%v), want the end of the group holding 120", tip.Height, last, err)
	}
	for i, h := range reported {
		if h != int64(i) {
			t.Fatalf("reported heights %v, want 0..%d in order", reported, last)
		}
	}
	if _, err := st.BlockByHeight(context.Background(), heistgraph.ChainBTC, last+1); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("block %d present after cancel: %v", last+1, err)
	}
	if _, err := ingest.Stream(context.Background(), st, source(t, st, blocks1to255), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Digest(context.Background(), heistgraph.ChainBTC); got != want {
		t.Fatal("resumed grouped ingest differs from a clean block-by-block one")
	}
}

// TestStreamSourceError stops at a bad record and keeps what came before.
func TestStreamSourceError(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(blocks1to255)
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the coinbase locktime of the last block: a merkle mismatch in
	// the ordered pass, after 254 good blocks.
	raw[len(raw)-1] ^= 1
	p := filepath.Join(t.TempDir(), "blk00000.dat")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	st := memStore(t)
	_, err = ingest.Stream(context.Background(), st, source(t, st, p), ingest.Options{})
	var de *bitcoin.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("err %v, want a *bitcoin.DecodeError wrapping ErrInvalid", err)
	}
	tip, err := st.Tip(context.Background(), heistgraph.ChainBTC)
	if err != nil || tip.Height != 254 {
		t.Fatalf("tip %d (%v), want 254", tip.Height, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	o := ingest.Options{ReadAhead: -1}
	if err := o.Validate(); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Fatalf("negative read-ahead: %v", err)
	}
	o = ingest.DefaultOptions()
	if err := o.Validate(); err != nil || o.ReadAhead != 8 || o.Logger == nil {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
}

// TestFitMemory checks the buffers Options.FitMemory sizes: decoded (about
// three times their serialized size) the group and the blocks read ahead
// (counted at 1 MiB each) stay within the budget, but for the floor of two
// blocks read ahead; past that, the defaults.
func TestFitMemory(t *testing.T) {
	for _, c := range []struct {
		total     int64
		group     int
		readAhead int
	}{
		{ingest.MinMemory, 1 << 20 / 6, 2},
		{16 << 20, 16 << 20 / 6, 2},
		{64 << 20, ingest.DefaultGroupBytes, 8},
		{1 << 30, ingest.DefaultGroupBytes, 8},
	} {
		var o ingest.Options
		if err := o.FitMemory(c.total); err != nil {
			t.Fatalf("FitMemory(%d): %v", c.total, err)
		}
		if o.GroupBytes != c.group || o.ReadAhead != c.readAhead {
			t.Errorf("FitMemory(%d): group %d bytes, read-ahead %d; want %d, %d", c.total, o.GroupBytes, o.ReadAhead, c.group, c.readAhead)
		}
		if c.readAhead > 2 && int64(3*o.GroupBytes)+int64(3*o.ReadAhead)<<20 > c.total {
			t.Errorf("FitMemory(%d): group %d and %d blocks ahead, decoded, pass the budget", c.total, o.GroupBytes, o.ReadAhead)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("FitMemory(%d): %v", c.total, err)
		}
	}
	var o ingest.Options
	if err := o.FitMemory(ingest.MinMemory - 1); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("FitMemory below MinMemory: %v, want ErrInvalid", err)
	}
}
