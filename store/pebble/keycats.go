package pebble

import pebbledb "github.com/cockroachdb/pebble/v2"

// tableCategories names each table's key range by its prefix byte, for
// Pebble's profiler labels: a CPU profile then tells the compactions and
// flushes of each table apart (label "key-type", e.g. "a" for the address
// totals, "a-e" for one that spans several tables; `go tool pprof
// -tagfocus key-type=a`). Pebble reads it only to label its background
// work.
var tableCategories = func() pebbledb.UserKeyCategories {
	// The unspent outputs (U) are the one table whose prefix is not a
	// lower-case letter.
	cats := []pebbledb.UserKeyCategory{{Name: string(rune(prefixUnspent)), UpperBound: []byte{prefixUnspent + 1}}}
	for b := byte('a'); b < 'z'; b++ {
		cats = append(cats, pebbledb.UserKeyCategory{Name: string(rune(b)), UpperBound: []byte{b + 1}})
	}
	cats = append(cats, pebbledb.UserKeyCategory{Name: "z"})
	return pebbledb.MakeUserKeyCategories(comparer.Compare, cats...)
}()
