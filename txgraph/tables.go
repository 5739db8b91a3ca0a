package txgraph

import (
	"slices"

	"github.com/heistgraph/heistgraph"
)

// none marks a missing tx number, address id or spender.
const none = ^uint32(0)

// Transaction flags.
const (
	flagFeeKnown uint8 = 1 << iota // the stored record knew its fee
	flagStore                      // answer this transaction from the store
	flagRBF                        // some input signals opt-in RBF (sequence < 0xfffffffe)
	// flagByTx marks a transaction not answered by number (version 3,
	// derived by derive): not stored, marked flagStore, or spending an
	// output of a transaction marked flagStore.
	flagByTx
)

// noOut marks an input whose spent output the graph does not hold
// (inSpent): a coinbase input, or a spent transaction not stored or
// without that output.
const noOut = ^uint64(0)

// tables are the graph's arrays: built in memory by a builder, or
// memory-mapped from a file by Open. Tx numbers index the tx arrays, input
// numbers the input arrays, output numbers the output arrays.
type tables struct {
	blkHash   []heistgraph.Hash
	blkHeight []int64
	blkTime   []int64
	// blkFirst is the first tx number given out while block i was added
	// and blkNTx the transactions stored in it: when the numbers from
	// blkFirst[i] on that belong to block i are blkNTx[i], they are the
	// block's transactions in order (version 2).
	blkFirst []uint32
	blkNTx   []uint32

	txid      []heistgraph.Hash
	txBlock   []int32
	txIndex   []uint32
	txFee     []int64
	txFlags   []uint8
	txIn      []uint64 // first input number
	txNIn     []uint32
	txOut     []uint64 // first output number
	txNOut    []uint32
	txLock    []uint32 // nLockTime (version 2)
	txVersion []int32  // nVersion (version 2)
	txSlots   []uint32 // tx number+1 by the txid's first 8 bytes; 0 empty; len a power of two

	inPrev []uint32
	inVout []uint32
	// inSpent is the output number each input spends, noOut when the
	// graph does not hold it (version 3, derived by derive): what
	// inPrev, inVout and the spent transaction's txBlock, txNOut and
	// txOut give, in one read.
	inSpent []uint64

	outValue []int64
	outAddr  []uint32
	outType  []uint8
	outSpTx  []uint32
	outSpVin []uint32

	scrOut   []uint64 // output numbers with a script kept, sorted
	scrOff   []uint64 // n+1
	scrBytes []byte

	addrOff   []uint64 // n+1
	addrBytes []byte
	addrFirst []int64
	addrSlots []uint32 // id+1; 0 empty; len a power of two
}

// meta is the file's JSON header.
type meta struct {
	Chain     heistgraph.Chain `json:"chain"`
	TipHash   heistgraph.Hash  `json:"tip_hash"`
	TipHeight int64            `json:"tip_height"`
	Types     []string         `json:"script_types"` // script type of code i
	Sections  []section        `json:"sections"`
}

// section locates one array in the file.
type section struct {
	Name string `json:"name"`
	Off  uint64 `json:"off"`
	Len  uint64 `json:"len"` // elements
}

// derive computes the columns derived from the others, once every
// transaction is in: inSpent from input fromIn on, and flagByTx in
// txFlags from transaction fromTx on (those before are derived already,
// and what they derive from did not change).
func (t *tables) derive(fromTx uint32, fromIn uint64) {
	t.inSpent = slices.Grow(t.inSpent[:fromIn], len(t.inPrev)-int(fromIn))[:len(t.inPrev)]
	for i := fromIn; i < uint64(len(t.inPrev)); i++ {
		p := t.inPrev[i]
		o := noOut
		if p != none && t.txBlock[p] >= 0 && t.inVout[i] < t.txNOut[p] {
			o = t.txOut[p] + uint64(t.inVout[i])
		}
		t.inSpent[i] = o
	}
	for n := fromTx; n < uint32(len(t.txFlags)); n++ {
		f := t.txFlags[n] &^ flagByTx
		if t.txBlock[n] < 0 || f&flagStore != 0 {
			f |= flagByTx
		} else {
			for i := t.txIn[n]; i < t.txIn[n]+uint64(t.txNIn[n]); i++ {
				if t.inSpent[i] != noOut && t.txFlags[t.inPrev[i]]&flagStore != 0 {
					f |= flagByTx
					break
				}
			}
		}
		t.txFlags[n] = f
	}
}

// address returns address id a (below the addresses); ok is false when
// its offsets are damaged.
func (t *tables) address(a uint32) (b []byte, ok bool) {
	lo, hi := t.addrOff[a], t.addrOff[a+1]
	if lo > hi || hi > uint64(len(t.addrBytes)) {
		return nil, false
	}
	return t.addrBytes[lo:hi], true
}

// script returns the script kept for output o, if any (found); ok is
// false when its offsets are damaged.
func (t *tables) script(o uint64) (s []byte, found, ok bool) {
	lo, hi := 0, len(t.scrOut)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.scrOut[m] < o {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(t.scrOut) || t.scrOut[lo] != o {
		return nil, false, true
	}
	from, to := t.scrOff[lo], t.scrOff[lo+1]
	if from > to || to > uint64(len(t.scrBytes)) {
		return nil, false, false
	}
	return t.scrBytes[from:to], true, true
}

// lookupAddr returns the id of addr; bad reports damage met on the way
// (a slot past the addresses, an address's offsets), with ok false and a
// the slot's index.
func (t *tables) lookupAddr(addr string) (a uint32, ok, bad bool) {
	if len(t.addrSlots) == 0 {
		return 0, false, false
	}
	mask := uint64(len(t.addrSlots) - 1)
	i := fnv(addr) & mask
	for range t.addrSlots {
		s := t.addrSlots[i]
		if s == 0 {
			return 0, false, false
		}
		if int64(s) > int64(len(t.addrFirst)) {
			return uint32(i), false, true
		}
		b, ok := t.address(s - 1)
		if !ok {
			return uint32(i), false, true
		}
		if string(b) == addr {
			return s - 1, true, false
		}
		i = (i + 1) & mask
	}
	return 0, false, false
}

// lookupTx returns the number of txid; bad reports a slot past the
// transactions (damage), with ok false and n the slot's index.
func (t *tables) lookupTx(txid heistgraph.Hash) (n uint32, ok, bad bool) {
	if len(t.txSlots) == 0 {
		return 0, false, false
	}
	mask := uint64(len(t.txSlots) - 1)
	i := txHash(txid) & mask
	for range t.txSlots { // bounded: a damaged table may have no empty slot
		s := t.txSlots[i]
		if s == 0 {
			return 0, false, false
		}
		if int64(s) > int64(len(t.txid)) {
			return uint32(i), false, true
		}
		if t.txid[s-1] == txid {
			return s - 1, true, false
		}
		i = (i + 1) & mask
	}
	return 0, false, false
}

// txHash spreads txids over the table: their bytes are already uniform.
func txHash(h heistgraph.Hash) uint64 {
	return uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 | uint64(h[3])<<24 |
		uint64(h[4])<<32 | uint64(h[5])<<40 | uint64(h[6])<<48 | uint64(h[7])<<56
}

// fillTxSlots fills the txid table, t.txSlots (zeroed), in number
// order.
func (t *tables) fillTxSlots() {
	for n, h := range t.txid {
		slot(t.txSlots, txHash(h), uint32(n))
	}
}

// tableSize is the slots of an open addressing table for n keys: a power
// of two at least twice n.
func tableSize(n int) int {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return size
}

// fnv is the 64-bit FNV-1a hash of s: stable across processes, as the
// file's address table needs.
func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// fillAddrSlots fills the address table, t.addrSlots (zeroed), in id
// order.
func (t *tables) fillAddrSlots() {
	for a := range len(t.addrOff) - 1 {
		b, _ := t.address(uint32(a)) // built, not read: whole
		slot(t.addrSlots, fnv(string(b)), uint32(a))
	}
}
