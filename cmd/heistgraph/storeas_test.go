package main

import (
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// TestStoreAs: --store-as SIZE/RATIO gives the store's caches and filters
// what --memory SIZE would divided by RATIO, and leaves the memtables and
// batches as they were; the cache's room for the upper levels' filter and
// index blocks (TopBlocks) is what the scaling took from it, so the
// store's memory stays within what it was; a malformed value is a usage
// error.
func TestStoreAs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		arg   string
		size  int64
		ratio float64
		bad   bool
	}{
		{arg: "24GiB/185", size: 24 << 30, ratio: 185},
		{arg: "1GiB/2.5", size: 1 << 30, ratio: 2.5},
		{arg: "24GiB", bad: true},
		{arg: "24GiB/0.5", bad: true},
		{arg: "x/4", bad: true},
		{arg: "1GiB/y", bad: true},
		{arg: "64MiB/2", bad: true}, // below --memory's least
	} {
		a := &app{storeAs: tc.arg}
		opts := pebble.DefaultOptions()
		before := opts
		err := a.scaleStore(&opts)
		if tc.bad {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", tc.arg, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.arg, err)
		}
		b, err := splitMemory(tc.size)
		if err != nil {
			t.Fatal(err)
		}
		fit := pebble.DefaultOptions()
		if err := fit.FitMemory(b.Store); err != nil {
			t.Fatal(err)
		}
		want := before
		want.CacheSize = int64(float64(fit.CacheSize) / tc.ratio)
		want.UTXOCacheSize = int64(float64(fit.UTXOCacheSize) / tc.ratio)
		want.FilterBytes = int64(float64(fit.FilterBytes) / tc.ratio)
		want.TopBlocks = before.CacheSize - want.CacheSize
		if opts.CacheSize != want.CacheSize || opts.UTXOCacheSize != want.UTXOCacheSize || opts.FilterBytes != want.FilterBytes ||
			opts.TopBlocks != want.TopBlocks || opts.MemTableSize != want.MemTableSize || opts.GroupBytes != want.GroupBytes {
			t.Errorf("%s: options %+v, want %+v", tc.arg, opts, want)
		}
		if got, was := opts.Memory().Manual, before.Memory().Manual; got != was {
			t.Errorf("%s: the store's manual memory %d bytes, want %d as without the flag", tc.arg, got, was)
		}
	}
}
