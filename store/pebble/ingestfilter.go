package pebble

import (
	"encoding/binary"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// The filters of an initial ingest (addrFilter, txidFilter) tell a new
// address or txid from one stored without a lookup, and only as well as
// they have bits for what they hold: at the whole chain's ~1.5 billion
// addresses and ~1.2 billion txids, filters sized by the caches' share of
// the memory (as they were) would hold about half a bit each, and nearly
// every new address and tx would cost a lookup of the store that finds
// nothing (docs/scaling.md, "Branch mainnetmem"). So each starts at the
// size the caches' share gives it and is rebuilt larger from the store,
// filterGrowth times, whenever it holds fewer than filterBits bits an
// entry, as long as it fits its part of Options.FilterBytes: the address
// filter from the address totals' keys (every address with an id has
// totals, under a key that holds its addrKeyHash, the filter's hash), the
// txid filter from the txid index's keys. A rebuild is made at the start
// of a run, when everything the process gave out is committed, so the new
// filter holds every stored address or txid (a rewound one is gone from
// the store and from the filter, and is new again, as a lookup would say).

// filterBits is the bits an entry below which a filter is rebuilt larger
// (to filterGrowth times as many): about 0.5% of the addresses never added
// are held with three probes in a block of 512 bits at 16 bits an address,
// about 2% at 10 and 6% at 6, each costing a lookup (TestFilterBits).
const filterBits = 16

// filterGrowth is how many times larger a rebuilt filter is: the entries
// read again over a chain's ingest are at most a third more than it has.
const filterGrowth = 4

// addrFilterShare is the address filter's part of Options.FilterBytes,
// in eighths; the txid filter takes the rest. The whole chain has about
// 1.5–2 billion addresses for 1.2 billion txids.
const addrFilterShare = 5

// filterWords returns the most words of the address filter and of the
// txid filter within Options.FilterBytes, bytes (0 or less: they keep
// the size they start at).
func filterWords(bytes int64) (addr, txid int) {
	if bytes <= 0 {
		return 0, 0
	}
	return int(bytes * addrFilterShare / 8 / 64 * 8), int(bytes * (8 - addrFilterShare) / 8 / 64 * 8)
}

// firstWords returns the words a filter starts with: words, the size the
// caches' share gives it, within most (0: no bound), in blocks of 8
// words.
func firstWords(words int64, most int) int {
	if most > 0 {
		words = min(words, int64(most))
	}
	return int(max(words/8, 1) * 8)
}

// outgrown reports whether a filter of words words that holds n entries
// is rebuilt, within most words, and returns the words of the new one.
func outgrown(words, n, most int) (int, bool) {
	if int64(n)*filterBits <= int64(words)*64 || words >= most {
		return 0, false
	}
	w := min(filterGrowth*words, most) / 8 * 8
	if w <= words {
		return 0, false
	}
	return w, true
}

// filterSpare returns what the address ids cache borrows of
// Options.FilterBytes (a.filterBytes): what the filters do not hold, less
// grow bytes (a filter about to be rebuilt larger) and less the first
// filters of a chain the run may make (newFilter, newTxidFilter: a run
// holds blocks of one chain), so that the cache and the filters never
// take more than their shares together. The large world's filters hold a
// small part of theirs, and its ids cache needs the room (docs/
// benchmarks.md, "Seventeenth round merged", pair 4); the full chain's
// filters take it back as they grow. None when the ids cache is off.
func (a *applier) filterSpare(grow int64) int64 {
	if a.idBase <= 0 || a.filterBytes <= 0 {
		return 0
	}
	addrMost, txidMost := filterWords(a.filterBytes)
	first := 8 * int64(firstWords(a.idBase/addrIDEntryBytes*addrFilterBytesPerID/8, addrMost)+
		firstWords(a.idBase/addrIDEntryBytes*txidFilterBytesPerID/8, txidMost))
	held := a.counts.addrFilter.Load() + a.counts.txidFilter.Load()
	return max(a.filterBytes-held-grow-first, 0)
}

// growFilters rebuilds the filters that outgrew their bits, within
// Options.FilterBytes (a.filterBytes, set by startGroup); db holds
// everything given out so far. Before a filter is made larger, the
// address ids cache gives back what it borrowed of the new bits
// (filterSpare). A filter whose rebuild fails is dropped: the chain's
// addresses or txids are then looked up.
func (a *applier) growFilters(db pebbledb.Reader) error {
	addrMost, txidMost := filterWords(a.filterBytes)
	for c, f := range a.filters {
		if f == nil {
			continue
		}
		if w, ok := outgrown(len(f.bits), f.n, addrMost); ok {
			a.idCache.limit(a.idBase + a.filterSpare(8*int64(w-len(f.bits))))
			a.counts.addrFilter.Add(-8 * int64(len(f.bits)))
			f.bits = nil // the old bits may go before the new are made
			if err := f.rebuild(db, c, w); err != nil {
				a.filters[c] = nil // a filter missing an address would give it a second id
				return err
			}
			a.counts.addrFilter.Add(8 * int64(len(f.bits)))
			a.counts.filterBuilds.Add(1)
		}
	}
	for c, f := range a.txids {
		if w, ok := outgrown(len(f.bits), f.n, txidMost); ok {
			a.idCache.limit(a.idBase + a.filterSpare(8*int64(w-len(f.bits))))
			a.counts.txidFilter.Add(-8 * int64(len(f.bits)))
			f.bits = nil
			if err := f.rebuild(db, c, w); err != nil {
				a.txids[c] = nil // every txid is looked up
				return err
			}
			a.counts.txidFilter.Add(8 * int64(len(f.bits)))
			a.counts.filterBuilds.Add(1)
		}
	}
	return nil
}

// rebuild makes f words long and holding every address of chain c with
// totals in db.
func (f *addrFilter) rebuild(db pebbledb.Reader, c chainCode, words int) error {
	f.bits, f.n = make([]uint64, words), 0
	hugePages(f.bits)
	return tableKeys(db, prefixAddress, c, func(k []byte) error {
		if len(k) <= addrKeyPrefixLen {
			return fmt.Errorf("address totals key %x: %w", k, errCorrupt)
		}
		f.add(binary.BigEndian.Uint64(k[3:addrKeyPrefixLen]))
		return nil
	})
}

// rebuild makes f words long and holding every txid of chain c in db.
func (f *txidFilter) rebuild(db pebbledb.Reader, c chainCode, words int) error {
	f.bits, f.n = make([]uint64, words), 0
	return tableKeys(db, prefixTx, c, func(k []byte) error {
		var txid heistgraph.Hash
		if len(k) != 3+len(txid) {
			return fmt.Errorf("txid key %x: %w", k, errCorrupt)
		}
		copy(txid[:], k[3:])
		f.add(txid)
		return nil
	})
}

// tableKeys calls fn with every key of chain c's table prefix in db, in
// order; the key is valid until fn returns.
func tableKeys(db pebbledb.Reader, prefix byte, c chainCode, fn func(k []byte) error) error {
	lo, hi := tableBounds(prefix, c)
	it, err := db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key()); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}
