package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// The hidden --store-as SIZE/RATIO emulates a chain RATIO times larger than
// the one ingested under --memory SIZE (docs/benchmarks.md, "The full
// chain's share of memory on the large world"): the store's caches and
// filters, which hold a share of the chain's outputs, addresses and txids
// (the block cache, the output cache with the address ids cache, the
// filters of an initial ingest), get what --memory SIZE would give them
// divided by RATIO, so each output, address and txid of the small chain
// gets the share the large chain's would. What is sized by the rate of
// writes (memtables, groups) and the rest of the process are left as they
// would be without it. So are the filter and index blocks of the files
// above the bottom level, which every point lookup reads: those levels
// are as large on the large chain (level 0 by the groups, the levels below
// it by their target sizes), so its block cache keeps them whole, and the
// emulated cache gets their room besides its scaled share
// (pebble.Options.TopBlocks), up to what the scaling took from it so that
// the store's memory stays within --memory's.

// storeAs parses --store-as: the budget and the ratio.
func parseStoreAs(s string) (size int64, ratio float64, err error) {
	sz, r, ok := strings.Cut(s, "/")
	if ok {
		size, err = parseSize(sz)
	}
	if ok && err == nil {
		ratio, err = strconv.ParseFloat(r, 64)
	}
	if !ok || err != nil || ratio < 1 {
		return 0, 0, fmt.Errorf("--store-as %q: want SIZE/RATIO, RATIO at least 1: %w", s, heistgraph.ErrInvalid)
	}
	return size, ratio, nil
}

// The hidden --open-files N keeps at most N of the store's files open
// (pebble.Options.MaxOpenFiles): a chain F times larger holds about F times
// as many files (one a table per bulk group), so N = the machine's limit / F
// gives each file of the small chain the share of the file cache the large
// chain's would have (docs/benchmarks.md, "The store's file count at the
// full chain's size").

// scaleStore applies --store-as and --open-files to opts; nothing without
// them.
func (a *app) scaleStore(opts *pebble.Options) error {
	if a.openFiles < 0 {
		return usageError{fmt.Errorf("--open-files %d: want a count of files (0: the default): %w", a.openFiles, heistgraph.ErrInvalid)}
	}
	opts.MaxOpenFiles = a.openFiles
	if a.storeAs == "" {
		return nil
	}
	size, ratio, err := parseStoreAs(a.storeAs)
	if err != nil {
		return usageError{err}
	}
	b, err := splitMemory(size)
	if err != nil {
		return usageError{fmt.Errorf("--store-as %q: %w", a.storeAs, err)}
	}
	fit := pebble.DefaultOptions()
	if err := fit.FitMemory(b.Store); err != nil {
		return usageError{fmt.Errorf("--store-as %q: %w", a.storeAs, err)}
	}
	scale := func(v int64) int64 { return max(int64(float64(v)/ratio), 1) }
	cache := opts.CacheSize
	opts.CacheSize = scale(fit.CacheSize)
	opts.TopBlocks = max(cache-opts.CacheSize, 0)
	opts.UTXOCacheSize = scale(fit.UTXOCacheSize)
	opts.FilterBytes = scale(fit.FilterBytes)
	return nil
}
