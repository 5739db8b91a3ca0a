package pebble

import (
	"runtime"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// The files a store keeps open. Pebble keeps every sstable it reads open in
// its file cache, up to Options.MaxOpenFiles (Pebble's default is 1,000); a
// read of a file the cache does not hold opens it again and reads its
// footer and properties. A bulk-loaded store holds about one file per table
// per group of the chain's blocks (bulk.go), so the full chain's count is
// far past 1,000 (docs/benchmarks.md, "The store's file count at the full
// chain's size"). By default the store takes what the process may open: it
// raises its soft limit of open files to the hard one (raiseFileLimit) and
// keeps a share of it for everything else the process opens.

// openFilesReserve is how many of the process's open files the store
// leaves to the rest of it (block files, the graph's files, sockets,
// Pebble's own log and manifest), at least: a quarter of a limit above
// four times as many.
const openFilesReserve = 256

// minOpenFiles is the least MaxOpenFiles the limit gives: Pebble's own
// floor of its file cache and the files it keeps outside it.
const minOpenFiles = 74

// defaultOpenFiles is what MaxOpenFiles takes where the process's limit
// cannot be read: Pebble's default.
const defaultOpenFiles = 1000

// openFilesFor returns the store's share of a process limit of limit open
// files (0: unknown).
func openFilesFor(limit uint64) int {
	if limit == 0 {
		return defaultOpenFiles
	}
	keep := max(limit/4, openFilesReserve)
	if limit <= keep+minOpenFiles {
		return minOpenFiles
	}
	return int(min(limit-keep, 1<<30))
}

// openFileBytes is about what an open file holds on Go's heap (its reader,
// index and properties): 4.4 KB, counted by the branch sstcount
// (docs/benchmarks.md, "The store's file count at the full chain's size").
const openFileBytes = 4400

// cacheOpenFiles returns how many files a store with a block cache of
// cacheSize bytes keeps open at most: as many as a quarter of the cache's
// bytes hold, at least Pebble's default. Open files are Pebble's memory,
// like its compactions', and not in Options.Memory; this bound makes them
// follow --memory all the same, which the process's limit alone would not
// (near the full chain's file count a high limit lets them hold gigabytes).
func cacheOpenFiles(cacheSize int64) int {
	return int(min(max(cacheSize/4/openFileBytes, defaultOpenFiles), 1<<30))
}

// maxOpenFiles returns the store's share of the process's open files,
// after raising the soft limit to the hard one, and at most what a block
// cache of cacheSize bytes bounds (cacheOpenFiles).
func maxOpenFiles(cacheSize int64) int {
	return min(openFilesFor(raiseFileLimit()), cacheOpenFiles(cacheSize))
}

// fileCache returns a file cache of n files less those Pebble keeps outside
// it, for n below what Pebble's own floor (64 files) would give; nil, for
// Pebble's own, otherwise. Benchmarks take a few files to give a small
// chain's store the full chain's share of open files a file.
func fileCache(n int) *pebbledb.FileCache {
	const outside, floor = minOpenFiles - 64, 64
	if n <= 0 || n-outside >= floor {
		return nil
	}
	return pebbledb.NewFileCache(runtime.GOMAXPROCS(0), max(n-outside, 1))
}
