package pebble

import (
	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// Bloom filters only where they save reads. A filter lets a point lookup
// (Get) or a lookup by prefix (SeekPrefixGE) skip a file that cannot hold
// its key's prefix (the whole key but in the address totals, whose prefix
// is the address's hash: comparer.go): it pays for lookups of keys
// that are absent (a txid or an address the store has not seen) or that
// sit in one of several files whose key ranges overlap (the randomly keyed
// tables' files in level 0). Building one costs a hash a key in every
// flush, compaction and bulk group, and it takes 1.25 bytes a key on disk
// and in the block cache. Some tables are never looked up that way: the
// events (e) and spend markers (s) are only iterated, and the outputs (o),
// tx numbers (d), tx records (v) and the address table (y) are looked up
// by a key that is stored, in files whose key ranges do not overlap (their
// keys arrive in order). tableFilter builds no filter for their files
// (filtered) and the usual Bloom filter for every other table's.

// tableFilterName names tableFilter's filters in a table's properties.
// Since schema 11 the filters hold the keys' prefixes (comparer.go), not
// the keys: the name changed with them, so that no filter of the other
// kind is ever read as one of these (Pebble reads only the filters whose
// name it is given).
const tableFilterName = "heistgraph.PrefixBloom"

// noFilter is the filter of a file that holds keys of a table without
// filters: every key may be there. A Bloom filter of one key or more is
// longer.
var noFilter = []byte{0}

// filtered reports whether the table of key (its prefix byte) has Bloom
// filters.
func filtered(key []byte) bool {
	if len(key) == 0 {
		return true
	}
	switch key[0] {
	case prefixEvent, prefixSpend, prefixOutput, prefixTxNum, prefixTxRec, prefixAddrByID:
		return false
	}
	return true
}

// tableFilter is a Pebble FilterPolicy: the Bloom filter of bloom (bits
// per key) over a file's keys when they all belong to tables that have
// filters, otherwise noFilter.
type tableFilter struct {
	bloom bloom.FilterPolicy
}

var _ pebbledb.FilterPolicy = tableFilter{}

func (tableFilter) Name() string { return tableFilterName }

func (p tableFilter) MayContain(ft pebbledb.FilterType, f, key []byte) bool {
	if len(f) == len(noFilter) {
		return true
	}
	return p.bloom.MayContain(ft, f, key)
}

func (p tableFilter) NewWriter(ft pebbledb.FilterType) pebbledb.FilterWriter {
	return &tableFilterWriter{bloom: p.bloom.NewWriter(ft)}
}

// tableFilterWriter adds the keys of filtered tables to a Bloom filter and
// notes whether it was given another table's.
type tableFilterWriter struct {
	bloom    pebbledb.FilterWriter
	unfilter bool
}

func (w *tableFilterWriter) AddKey(key []byte) {
	if w.unfilter {
		return
	}
	if !filtered(key) {
		// A file holds one table (tableSpanPolicy, the sinks' split), so
		// this is its first key; should a file hold two tables, its keys of
		// the one with filters are not filtered either.
		w.unfilter = true
		return
	}
	w.bloom.AddKey(key)
}

func (w *tableFilterWriter) Finish(buf []byte) []byte {
	if w.unfilter {
		return append(buf, noFilter...)
	}
	return w.bloom.Finish(buf)
}
