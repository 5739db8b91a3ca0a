package pebble

import pebbledb "github.com/cockroachdb/pebble/v2"

// The store's keys are ordered bytewise (Pebble's default comparer), and
// the comparer splits the address totals' keys (a + chain + hash + id,
// addrkey.go) after the hash: the prefix is what a lookup by address
// knows (findTotals), the id the suffix. Pebble's Bloom filters are built
// over the prefixes (filters.go), so a lookup by prefix (SeekPrefixGE)
// skips every file whose filter rules the address's hash out, instead of
// seeking in each level 0 file and each level; a bulk ingest lets 32 such
// files wait in level 0 (options.go). Every other key is its own prefix,
// as with the default comparer, so their filters and point lookups are
// as before.
//
// The index blocks' separators (Separator, Successor) keep Pebble's
// bytewise defaults: their contract is the order alone (a <= k < b, a <=
// k), which the bytewise order keeps whatever the split (Pebble v2.1's
// index blocks compare them with Compare; TestSplitKey checks the order).
// Only ImmediateSuccessor, which must return a prefix key, follows the
// split (immediateSuccessor).
//
// The comparer's name is written into the store (Pebble refuses to open a
// store with another comparer's), and the columnar blocks split keys by
// it: a new split is a new schema version (schema.go, version 11).

// comparerName names comparer in the store's files.
const comparerName = "heistgraph.TotalsPrefix"

// comparer is the store's comparer: Pebble's bytewise one with splitKey.
var comparer = func() *pebbledb.Comparer {
	c := *pebbledb.DefaultComparer
	c.Split = splitKey
	c.ImmediateSuccessor = immediateSuccessor
	c.Name = comparerName
	return &c
}()

// splitKey is the comparer's Split: the length of key's prefix, the first
// addrKeyPrefixLen bytes of an address totals key and the whole of any
// other key. Cutting keys at a fixed length keeps the bytewise order
// Pebble requires of a split: prefixes order keys, and keys of one prefix
// are ordered by their suffixes' bytes.
func splitKey(key []byte) int {
	if len(key) > addrKeyPrefixLen && key[0] == prefixAddress {
		return addrKeyPrefixLen
	}
	return len(key)
}

// immediateSuccessor is Pebble's ImmediateSuccessor for splitKey: the
// smallest prefix key after the prefix a. For an address totals' hash
// prefix that is the prefix incremented, since a key a+0x00 would have a
// as its prefix, not be one; every other key is its own prefix, and a
// with 0x00 appended is next.
func immediateSuccessor(dst, a []byte) []byte {
	if len(a) == addrKeyPrefixLen && a[0] == prefixAddress {
		return append(dst, prefixEnd(a)...)
	}
	return append(append(dst, a...), 0)
}
