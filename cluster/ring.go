package cluster

import (
	"encoding/binary"

	"github.com/heistgraph/heistgraph"
)

// ring holds the change candidates waiting for their outputs' spenders, in
// block order (queue). get finds them by txid as a map keyed by the txid
// would: adding a candidate replaces the one of the same txid in the
// index (the replaced one stays in the queue), removing one removes its
// txid's, and the expiry of a candidate still waiting removes its txid's.
// Every input of every transaction asks it.
//
// Nothing in it holds a Go pointer, so the collector never scans it, and
// adding a candidate allocates nothing once it has grown: the candidates
// are kept in chunks (a pointer to one stays valid until it leaves the
// queue) and reused after they leave the queue; the index is an
// open-addressing table with linear probing, each slot holding a
// candidate's number and 32 bits of its txid's first 8 bytes (a hash
// already), which place it, so that a probe reads a candidate only when
// they match. seen has a bit for the low
// ringBits bits of those 8 bytes of every candidate indexed since it was
// last rebuilt, so most inputs (which spend no candidate's output) skip
// the table; stale counts the candidates forgotten since, and past twice
// the candidates indexed the bits are rebuilt. nums does for the graph's
// transaction numbers of the candidates that have one (candidate.num)
// what seen does for their txids, so that a reader of the graph skips the
// spent txid of an input (and the table) when nums says no candidate can
// be its spent transaction (mayNum).
type ring struct {
	chunks [][]candidate // ringChunk candidates each; number i is chunks[i>>ringChunkBits][i&(ringChunk-1)]
	n      int32         // numbers given out so far
	free   []int32       // numbers no longer in the queue, for reuse
	queue  []int32       // the candidates' numbers, in the order added
	slots  []uint64      // the index: uint32(key)<<32 | number+1 of a candidate, 0 for an empty slot
	used   int           // slots in use
	// byNum indexes the candidates of slots that have a graph number
	// (candidate.num) by it: numKey(num)<<32 | number+1, 0 for an empty slot; so
	// that the graph's reader finds a candidate by the number of the
	// transaction an input spends (getNum) without reading its txid.
	byNum  []uint64
	numsIn int // byNum's slots in use
	seen   [1 << ringBits / 64]uint64
	nums   [1 << ringNumBits / 64]uint64
	stale  int
	// byNumOnly says that the index by txid (slots, seen) is not kept
	// (numbersOnly): every candidate added has a graph number, and
	// byNum alone finds them, as the graph's reader asks; remove and
	// expire forget a candidate by its number. get builds the index again
	// from the queue first (txids), for a block read as records.
	byNumOnly bool
}

// ringNumBits is the width of ring.nums's index: 128 KiB of bits, indexed
// by the low bits of the number. The candidates of the last Window blocks
// have numbers close together: few share bits.
const ringNumBits = 20

func (r *ring) markNum(num uint32) {
	n := num - 1
	r.nums[n>>6%uint32(len(r.nums))] |= 1 << (n & 63)
}

// mayNum reports whether a candidate may have graph number n; false is
// certain for every candidate with a number.
func (r *ring) mayNum(n uint32) bool {
	return r.nums[n>>6%uint32(len(r.nums))]&(1<<(n&63)) != 0
}

// ringBits is the width of ring.seen's index: 8 KiB of bits.
const ringBits = 16

const (
	ringChunkBits = 10
	ringChunk     = 1 << ringChunkBits
)

func newRing() *ring { return &ring{slots: make([]uint64, 64), byNum: make([]uint64, 64)} }

// slot returns the index's entry for candidate number i of key k.
func slot(k uint64, i int32) uint64 { return k<<32 | uint64(i+1) }

// number returns the candidate number of slot v (not empty).
func number(v uint64) int32 { return int32(uint32(v)) - 1 }

func txKey(txid *heistgraph.Hash) uint64 { return binary.LittleEndian.Uint64(txid[:8]) }

func (r *ring) mark(k uint64) { r.seen[k>>6%uint64(len(r.seen))] |= 1 << (k & 63) }

func (r *ring) marked(k uint64) bool { return r.seen[k>>6%uint64(len(r.seen))]&(1<<(k&63)) != 0 }

// at returns candidate number i.
func (r *ring) at(i int32) *candidate { return &r.chunks[i>>ringChunkBits][i&(ringChunk-1)] }

// home returns the first slot of key k in the index (homeIn).
func (r *ring) home(k uint64) int { return homeIn(k, len(r.slots)) }

// homeIn returns the first slot of key k in a table of n slots (the index
// by txid): its low 32 bits scaled to the table, the bits a slot keeps,
// so that moving and placing entries again reads no candidate.
func homeIn(k uint64, n int) int { return int(k & (1<<32 - 1) * uint64(n) >> 32) }

// homeNum returns the first slot of byNum's key k (a graph number) in a
// table of n slots, a power of two: the number's low bits. The candidates
// are added in the order of their numbers and expire in it, so that
// byNum's writes go to slots side by side (the same cache lines), not one
// at random each (a miss each on a large chain's window of candidates).
func homeNum(k uint64, n int) int { return int(k) & (n - 1) }

// removeSlot empties slot i of table (the index or byNum: entries
// key<<32 | value homed by home, homeIn or homeNum, linear probing) by
// backward-shift deletion: every later entry of the probe run whose home
// is not in (i, j] moves up, so that no run has a hole.
func removeSlot(table []uint64, i int, home func(k uint64, n int) int) {
	n := len(table)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		v := table[j]
		if v == 0 {
			break
		}
		h := home(v>>32, n)
		if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
			table[i] = v
			i = j
		}
	}
	table[i] = 0
}

// find returns the slot of the candidate of txid in the index; -1 when it
// has none.
func (r *ring) find(txid *heistgraph.Hash) int {
	k := txKey(txid)
	if !r.marked(k) {
		return -1
	}
	n := len(r.slots)
	for i := r.home(k); r.slots[i] != 0; {
		if v := r.slots[i]; v>>32 == k&(1<<32-1) && r.at(number(v)).txid == *txid {
			return i
		}
		if i++; i == n {
			i = 0
		}
	}
	return -1
}

// get returns the candidate of txid; nil when none waits. The pointer is
// valid until the candidate leaves the queue (expire).
func (r *ring) get(txid *heistgraph.Hash) *candidate {
	r.txids()
	if i := r.find(txid); i >= 0 {
		return r.at(number(r.slots[i]))
	}
	return nil
}

// add adds a copy of c, replacing in the index the candidate of its txid
// (with byNumOnly, c has a graph number: see numbersOnly).
func (r *ring) add(c *candidate) {
	if c.num == 0 {
		r.txids()
	}
	if !r.byNumOnly {
		r.forget(&c.txid)
	}
	var i int32
	if k := len(r.free); k > 0 {
		i, r.free = r.free[k-1], r.free[:k-1]
	} else {
		if int(r.n)>>ringChunkBits == len(r.chunks) {
			r.chunks = append(r.chunks, make([]candidate, ringChunk))
		}
		i = r.n
		r.n++
	}
	*r.at(i) = *c
	if !r.byNumOnly {
		r.index(i)
	}
	if c.num != 0 {
		r.markNum(c.num)
		r.indexNum(c.num, i)
	}
	r.queue = append(r.queue, i)
}

// index adds candidate i to the index by txid (not byNum).
func (r *ring) index(i int32) {
	if (r.used+1)*10 > len(r.slots)*7 {
		r.resize(2 * len(r.slots))
	}
	k := txKey(&r.at(i).txid)
	r.place(slot(k, i))
	r.mark(k)
}

// numbersOnly stops keeping the index by txid: the graph's catch-up,
// whose candidates all have graph numbers (the ring's numbered), finds
// them by number alone. It drops no candidate: a later get or a candidate
// without a number builds the index again (txids). It relies on no two
// candidates waiting having one txid (a candidate is never a coinbase,
// and two other transactions of a chain never share a txid: they would
// spend the same outputs), so that no add had a candidate to replace.
func (r *ring) numbersOnly() {
	if r.byNumOnly {
		return
	}
	r.byNumOnly = true
	clear(r.slots)
	clear(r.seen[:])
	r.used = 0
}

// txids builds the index by txid again from the candidates waiting, in
// the order added (a later candidate of a txid replaces an earlier, as
// add does), when numbersOnly stopped keeping it.
func (r *ring) txids() {
	if !r.byNumOnly {
		return
	}
	r.byNumOnly = false
	for _, i := range r.queue {
		c := r.at(i)
		if c.done {
			continue
		}
		if j := r.find(&c.txid); j >= 0 {
			removeSlot(r.slots, j, homeIn)
			r.used--
		}
		r.index(i)
	}
}

// numKey returns byNum's key of graph number num: the number itself
// (homeNum).
func numKey(num uint32) uint64 { return uint64(num) }

// indexNum adds candidate i of graph number num to byNum.
func (r *ring) indexNum(num uint32, i int32) {
	if (r.numsIn+1)*10 > len(r.byNum)*7 {
		old := r.byNum
		r.byNum, r.numsIn = make([]uint64, 2*len(old)), 0
		for _, v := range old {
			if v != 0 {
				r.placeNum(v)
			}
		}
	}
	r.placeNum(slot(numKey(num), i))
}

// placeNum puts byNum entry v in the first empty slot from its home.
func (r *ring) placeNum(v uint64) {
	r.byNum[firstEmpty(r.byNum, homeNum(v>>32, len(r.byNum)))] = v
	r.numsIn++
}

// findNum returns the slot of graph number num in byNum; -1 when it has
// none.
func (r *ring) findNum(num uint32) int {
	k, n := numKey(num), len(r.byNum)
	for i := homeNum(k, n); r.byNum[i] != 0; {
		if r.byNum[i]>>32 == k {
			return i
		}
		if i++; i == n {
			i = 0
		}
	}
	return -1
}

// getNum returns the candidate of graph number num (candidate.num, not 0);
// nil when none waits. The pointer is valid as get's.
func (r *ring) getNum(num uint32) *candidate {
	if i := r.findNum(num); i >= 0 {
		return r.at(number(r.byNum[i]))
	}
	return nil
}

// place puts slot entry v in the first empty slot from its home.
func (r *ring) place(v uint64) {
	r.slots[firstEmpty(r.slots, r.home(v>>32))] = v
	r.used++
}

// resize makes the index n slots long and places every candidate again.
func (r *ring) resize(n int) {
	old := r.slots
	r.slots, r.used = make([]uint64, n), 0
	for _, v := range old {
		if v != 0 {
			r.place(v)
		}
	}
}

// forget removes the candidate of txid from the index.
func (r *ring) forget(txid *heistgraph.Hash) {
	i := r.find(txid)
	if i < 0 {
		return
	}
	if num := r.at(number(r.slots[i])).num; num != 0 {
		if j := r.findNum(num); j >= 0 {
			removeSlot(r.byNum, j, homeNum)
			r.numsIn--
		}
	}
	removeSlot(r.slots, i, homeIn)
	r.used--
	if r.stale++; r.stale > 2*r.used+64 {
		r.remark()
	}
}

// remark rebuilds seen and nums from the candidates indexed (nums from
// byNum's when the index by txid is not kept).
func (r *ring) remark() {
	clear(r.seen[:])
	clear(r.nums[:])
	r.stale = 0
	if r.byNumOnly {
		for _, v := range r.byNum {
			if v != 0 {
				r.markNum(r.at(number(v)).num)
			}
		}
		return
	}
	for _, v := range r.slots {
		if v != 0 {
			c := r.at(number(v))
			r.mark(txKey(&c.txid))
			if c.num != 0 {
				r.markNum(c.num)
			}
		}
	}
	r.stale = 0
}

// remove marks c (from get) decided and removes its txid from the index.
func (r *ring) remove(c *candidate) {
	c.done = true
	r.drop(c)
}

// drop removes c from the index (forget), or from byNum alone when the
// index by txid is not kept (numbersOnly).
func (r *ring) drop(c *candidate) {
	if !r.byNumOnly {
		r.forget(&c.txid)
		return
	}
	if c.num == 0 {
		return // not in byNum (numbersOnly: added before it, never numbered)
	}
	if j := r.findNum(c.num); j >= 0 {
		removeSlot(r.byNum, j, homeNum)
		r.numsIn--
	}
	if r.stale++; r.stale > 2*r.numsIn+64 {
		r.remark()
	}
}

// expire drops the candidates of blocks below height from the head of the
// queue, with the decided ones before them.
func (r *ring) expire(height int64) {
	i := 0
	for ; i < len(r.queue); i++ {
		c := r.at(r.queue[i])
		if !c.done && c.height >= height {
			break
		}
		if !c.done {
			r.drop(c)
		}
		r.free = append(r.free, r.queue[i])
	}
	if i > 0 {
		r.queue = r.queue[i:]
	}
}

// waiting yields the candidates of the queue that are not decided, in
// order.
func (r *ring) waiting(yield func(*candidate) bool) {
	for _, i := range r.queue {
		if c := r.at(i); !c.done && !yield(c) {
			return
		}
	}
}

// number gives every candidate indexed that has no graph number the one
// num finds for its txid (none when num says false) and marks it in nums.
func (r *ring) number(num func(txid *heistgraph.Hash) uint32) {
	for _, v := range r.slots {
		if v == 0 {
			continue
		}
		if c := r.at(number(v)); c.num == 0 {
			if c.num = num(&c.txid); c.num != 0 {
				r.markNum(c.num)
				r.indexNum(c.num, number(v))
			}
		}
	}
}
