package pebble

import pebbledb "github.com/cockroachdb/pebble/v2"

// Files hold one table each. Pebble cuts the sstables a flush or a
// compaction writes by size only, so one file used to hold the end of one
// table and the start of the next (a..d, d..t): a bulk group's file of an
// in-order table (bulk.go) then overlapped such a file's bounds and went
// to level 0 instead of the bottom level, and every compaction of the
// address or txid tables rewrote the in-order tables that shared their
// files. tableSpanPolicy makes Pebble end a file at every table's end.

// tableEnd returns the end of the table that holds key: the smallest key
// past every key of that table, nil when there is none. A table is a
// prefix byte; for the chain-scoped tables the chain code too, and for
// the clustering and account tables the sub-table byte after it.
func tableEnd(key []byte) []byte {
	return prefixEnd(tableStart(key))
}

// tableStart returns the prefix of key that names its table (see
// tableEnd): every key of the table starts with it.
func tableStart(key []byte) []byte {
	n := 1
	switch {
	case len(key) == 0:
	case blockTable(key[0]):
		n = 3
	case key[0] == prefixCluster || key[0] == prefixAccount:
		n = 4
	}
	return key[:min(n, len(key))]
}

// blockTable reports whether prefix names one of the chain-scoped tables
// ApplyBlock writes (schema.go).
func blockTable(prefix byte) bool {
	switch prefix {
	case prefixAddress, prefixBlock, prefixEvent, prefixHeight, prefixOutput, prefixPending,
		prefixSpend, prefixTx, prefixUndo, prefixTxNum, prefixTxRec, prefixAddrByID, prefixUnspent:
		return true
	}
	return false
}

// tableSpanPolicy is Pebble's SpanPolicyFunc: the sstable that starts at
// start ends at the end of start's table (tableEnd), and the outputs
// table's are compressed with the fast codec on every level (fastTable).
func tableSpanPolicy(start []byte) (pebbledb.SpanPolicy, []byte, error) {
	return pebbledb.SpanPolicy{PreferFastCompression: fastTable(start)}, tableEnd(start), nil
}

// fastTable reports whether the table of key (its prefix byte) is
// compressed with the fast codec in the bottom level too, not zstd: the
// outputs (o), read one record a block when an ingest spends an output
// the output cache does not hold. At the full chain's share of memory
// (--store-as 24GiB/780) nearly every such read decompressed a 16 KiB
// zstd block, 19% of the ingest's CPU; with the fast codec the ingest of
// the large world's first two files took 1.22× less CPU for 2% more
// disk (docs/benchmarks.md, "The full chain's share of memory: the upper
// levels' filter and index blocks kept whole").
func fastTable(key []byte) bool {
	return len(key) > 0 && key[0] == prefixOutput
}

// smallBlockSize is the data block size of the bottom files a bulk group
// writes for a smallBlockTable (the level's is bulkBlockSize).
const smallBlockSize = 2 << 10

// smallBlockTable reports whether the bottom files a bulk group writes for
// the table of key (its prefix byte) have blocks of smallBlockSize: the
// outputs (o) and the address table (y), whose keys arrive in order, so
// that their files land in the bottom level and stay as written. An
// ingest reads them one record at a time, by number and by id, when the
// output cache does not hold a spent output; under the full chain's
// share of memory (--store-as 24GiB/780) nearly every such read loads a
// block from the file and decompresses it, so a smaller block is less to
// copy and decode: on the large world's first two files those reads took
// about 1.8× (o) and 1.6× (y) less CPU with 2 KiB blocks than with 16 KiB
// (the profiles of two pairs), the ingest 1.07× (4 KiB against 16) and
// 1.11× (2 KiB against 4) less, and the store was about 0.1% smaller
// (docs/benchmarks.md, "The capped ingest's reads: ahead on a goroutine,
// smaller bottom blocks for the outputs").
func smallBlockTable(key []byte) bool {
	return len(key) > 0 && (key[0] == prefixOutput || key[0] == prefixAddrByID)
}
