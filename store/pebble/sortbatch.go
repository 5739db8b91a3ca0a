package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// sortedWrites collects a run's writes and hands them to a Pebble batch in
// key order. Pebble inserts a batch into its memtable (a skiplist) one key
// at a time, starting each search from where the previous key went: keys in
// order make each insert a shorter step than a descent from the top of a
// skiplist of a few hundred thousand keys (the memtable inserts were a third
// of ingest's CPU with the writes in the block's order). Several writes to
// one key (a tx record written again when a later tx of the block resolves
// its spend, merge operands) keep their order and their meaning. A batch
// past Pebble's large-batch threshold skips the memtable (it is flushed as
// it is, after Pebble sorts it): sorted, that sort is one pass.
type sortedWrites struct {
	buf []byte
	ops []writeOp
	// Sorting ahead (chunk > 0, the applier's writes): every chunk writes,
	// the ops so far go to a goroutine of their own that sorts them (a
	// run) while the writes go on, and sort merges the sorted runs: the
	// applying goroutine builds while another core sorts. A group of
	// blocks makes a few hundred thousand writes, about ten runs. spare
	// holds run buffers to reuse, merged is sort's output when there are
	// runs, sorted what sort returned (nil: not sorted yet).
	chunk  int
	runs   [][]writeOp
	spare  [][]writeOp
	merged []writeOp
	sorted []writeOp
	sorts  []*task // the runs' sorts
	// Lanes (setLanes, the applier's writes): the writes of a table whose
	// keys come in order (the outputs, tx numbers and records, the
	// address table: inOrder) are kept apart from the others, one lane a
	// table's prefix byte, and need no sort: sinkTo hands each lane to a
	// sink as it is, reading buf forwards, and only the other tables'
	// writes are sorted and merged. A lane whose writes turn out not to
	// be in order (a key before the last one) is sorted by itself
	// (unsorted). laneOf maps a prefix byte to its lane's index + 1.
	laneOf [256]uint8
	lanes  []lane
	joined []writeOp // sort's output when there are lanes
}

// laneTables are the tables whose keys the applier writes in order, in a
// group, nearly always (bulk.go's inOrder, and the tx records, which a
// group writes again when a later tx resolves a spend): the tables the
// applier's writes keep in lanes.
var laneTables = []byte{prefixTxNum, prefixHeight, prefixOutput, prefixUndo, prefixTxRec, prefixAddrByID}

// lane is the writes of one table whose keys come in order.
type lane struct {
	ops      []writeOp
	unsorted bool
}

// writeOp is one write: buf[key:val] is the key, buf[val:end] the value;
// pre and pre2 are the key's first 16 bytes, big-endian (zeros past a
// shorter key), which order most pairs of keys without reading buf (8 bytes
// are not enough: a table's prefix and chain code take 3, and the
// big-endian ids and numbers after them start with zeros).
type writeOp struct {
	pre, pre2     uint64
	key, val, end uint32
	kind          byte
}

const (
	opSet byte = iota
	opMerge
	opDelete
)

// reset empties w, once the goroutines sorting runs of it are done (they
// read buf).
func (w *sortedWrites) reset() {
	for _, t := range w.sorts {
		t.stop()
	}
	clear(w.sorts)
	w.sorts = w.sorts[:0]
	w.buf = w.buf[:0]
	w.ops = w.ops[:0]
	w.sorted = nil
	for _, r := range w.runs {
		w.spare = append(w.spare, r[:0])
	}
	clear(w.runs)
	w.runs = w.runs[:0]
	for i := range w.lanes {
		w.lanes[i] = lane{ops: w.lanes[i].ops[:0]}
	}
}

// setLanes gives the tables of the prefix bytes given lanes of their own
// (see sortedWrites). w holds no writes.
func (w *sortedWrites) setLanes(prefixes ...byte) {
	w.laneOf = [256]uint8{}
	w.lanes = w.lanes[:0]
	for _, p := range prefixes {
		w.lanes = append(w.lanes, lane{})
		w.laneOf[p] = uint8(len(w.lanes))
	}
}

// applySortChunk is the length of the runs the applier's writes are
// sorted in as they are made: 1 MiB of writeOps, sorted in a few
// milliseconds.
const applySortChunk = 1 << 15

func (w *sortedWrites) add(kind byte, key, val []byte) {
	w.sorted = nil
	o := writeOp{kind: kind, key: uint32(len(w.buf))}
	o.pre, o.pre2 = keyPrefix(key)
	if len(key) > 0 && w.laneOf[key[0]] != 0 {
		l := &w.lanes[w.laneOf[key[0]]-1]
		if n := len(l.ops); n > 0 && !l.unsorted {
			last := &l.ops[n-1]
			l.unsorted = o.pre < last.pre || o.pre == last.pre && (o.pre2 < last.pre2 ||
				o.pre2 == last.pre2 && bytes.Compare(key, w.buf[last.key:last.val]) < 0)
		}
		w.buf = append(w.buf, key...)
		o.val = uint32(len(w.buf))
		w.buf = append(w.buf, val...)
		o.end = uint32(len(w.buf))
		l.ops = append(l.ops, o)
		return
	}
	if w.chunk > 0 && len(w.ops) >= w.chunk {
		w.handOff()
	}
	w.buf = append(w.buf, key...)
	o.val = uint32(len(w.buf))
	w.buf = append(w.buf, val...)
	o.end = uint32(len(w.buf))
	w.ops = append(w.ops, o)
}

// keyPrefix returns key's first 16 bytes as two big-endian words, zeros
// past a shorter key, read from key in place: copied into an array first,
// the words' loads waited for the copy's stores of single bytes (a store
// forwarding stall, a third of add). A key of 8 to 16 bytes (a tx's
// number's, 11) has its second word from its last 8 bytes, shifted.
func keyPrefix(key []byte) (uint64, uint64) {
	switch n := len(key); {
	case n >= 16:
		return binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])
	case n >= 8:
		return binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[n-8:]) << (8 * (16 - n))
	}
	var pre uint64
	for i, b := range key {
		pre |= uint64(b) << (56 - 8*i)
	}
	return pre, 0
}

// handOff starts sorting the ops so far as a run. Its goroutine reads buf
// up to its current length, which later writes never change (they append
// past it, or to a copy when buf grows), until reset waits for it.
func (w *sortedWrites) handOff() {
	run, buf := w.ops, w.buf
	w.runs = append(w.runs, run)
	w.sorts = append(w.sorts, goTask(func() { sortOps(run, buf) }))
	if n := len(w.spare); n > 0 {
		w.ops = w.spare[n-1]
		w.spare = w.spare[:n-1]
	} else {
		w.ops = make([]writeOp, 0, w.chunk)
	}
}

// Set, Merge and Delete match the methods of *pebbledb.Batch they stand in
// for; they copy key and value.
func (w *sortedWrites) Set(key, val []byte, _ *pebbledb.WriteOptions) error {
	w.add(opSet, key, val)
	return nil
}

func (w *sortedWrites) Merge(key, val []byte, _ *pebbledb.WriteOptions) error {
	w.add(opMerge, key, val)
	return nil
}

func (w *sortedWrites) Delete(key []byte, _ *pebbledb.WriteOptions) error {
	w.add(opDelete, key, nil)
	return nil
}

// writeTo adds the writes to b in key order (stable) and empties w. When b
// is empty, its contents are set to the writes, encoded in one pass in
// Pebble's batch format (batchrepr: a 12-byte header, then per write its
// kind, the key and, but for a deletion, the value, each after its
// uvarint length), instead of a Set, Merge or Delete call each; otherwise
// each write is added by its call.
func (w *sortedWrites) writeTo(b *pebbledb.Batch) error {
	buf, ops := w.buf, w.sort()
	if !b.Empty() {
		// b holds other writes (clustering's tables written apart):
		// SetRepr would replace them, so add the writes one by one.
		for _, o := range ops {
			k, v := buf[o.key:o.val], buf[o.val:o.end]
			var err error
			switch o.kind {
			case opSet:
				err = b.Set(k, v, nil)
			case opMerge:
				err = b.Merge(k, v, nil)
			default:
				err = b.Delete(k, nil)
			}
			if err != nil {
				return err
			}
		}
		w.reset()
		return nil
	}
	if len(ops) > math.MaxUint32 {
		return fmt.Errorf("batch of %d writes: %w", len(ops), heistgraph.ErrInvalid)
	}
	// Large batches are encoded in two halves, one on a goroutine of its
	// own, each into its place in repr (their lengths counted first).
	half := 0
	if len(ops) >= parallelOps {
		half = len(ops) / 2
	}
	lo, hi := encodedLen(ops[:half]), encodedLen(ops[half:])
	repr := make([]byte, batchHeaderLen+lo+hi)
	binary.LittleEndian.PutUint32(repr[8:batchHeaderLen], uint32(len(ops)))
	var errLo error
	var t *task
	if half > 0 {
		t = goTask(func() { errLo = encodeOps(repr[batchHeaderLen:batchHeaderLen+lo], ops[:half], buf) })
	}
	errHi := encodeOps(repr[batchHeaderLen+lo:], ops[half:], buf)
	t.wait()
	if err := errors.Join(errLo, errHi); err != nil {
		return err
	}
	w.reset()
	return b.SetRepr(repr)
}

// parallelOps is the number of writes from which writeTo encodes a batch,
// and sort merges runs, in two halves at once.
const parallelOps = 1 << 14

// encodedLen is the length of ops in Pebble's batch format.
func encodedLen(ops []writeOp) int {
	n := 0
	for _, o := range ops {
		k := int(o.val - o.key)
		n += 1 + uvarintLen(uint64(k)) + k
		if o.kind != opDelete {
			v := int(o.end - o.val)
			n += uvarintLen(uint64(v)) + v
		}
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// encodeOps writes ops (writes into buf) in Pebble's batch format into dst,
// which is encodedLen(ops) long.
func encodeOps(dst []byte, ops []writeOp, buf []byte) error {
	out := dst[:0]
	var touched byte
	for i, o := range ops {
		if i%sinkAhead == 0 {
			touched += touchAhead(ops[i:min(i+sinkAhead, len(ops))], buf)
		}
		switch o.kind {
		case opSet:
			out = append(out, byte(pebbledb.InternalKeyKindSet))
		case opMerge:
			out = append(out, byte(pebbledb.InternalKeyKindMerge))
		default:
			out = append(out, byte(pebbledb.InternalKeyKindDelete))
		}
		out = binary.AppendUvarint(out, uint64(o.val-o.key))
		out = append(out, buf[o.key:o.val]...)
		if o.kind != opDelete {
			out = binary.AppendUvarint(out, uint64(o.end-o.val))
			out = append(out, buf[o.val:o.end]...)
		}
	}
	runtime.KeepAlive(touched) // the reads are made
	if len(out) != len(dst) || (len(dst) > 0 && &out[0] != &dst[0]) {
		return fmt.Errorf("batch of %d writes encoded in %d bytes, counted %d: %w", len(ops), len(out), len(dst), errCorrupt)
	}
	return nil
}

// sort returns the writes in key order, writes to one key in the order
// they were made: the runs sorted ahead merged with the last one, and the
// lanes put in their places among them.
func (w *sortedWrites) sort() []writeOp {
	if w.sorted != nil {
		return w.sorted
	}
	ops := w.sortRest()
	n := len(ops)
	for i := range w.lanes {
		n += len(w.sortLane(i))
	}
	if n == len(ops) {
		w.sorted = ops
		return ops
	}
	// Each lane's table is a prefix byte none of ops has: it goes where
	// that byte would be.
	w.joined = roomFor(w.joined, n)
	for p, k := range w.laneOf {
		if k == 0 || len(w.lanes[k-1].ops) == 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(ops, byte(p), func(o writeOp, p byte) int { return cmp.Compare(byte(o.pre>>56), p) })
		w.joined = append(append(w.joined, ops[:i]...), w.lanes[k-1].ops...)
		ops = ops[i:]
	}
	w.sorted = append(w.joined, ops...)
	return w.sorted
}

// sortRest returns the writes outside the lanes in key order: the runs
// sorted ahead merged with the last one.
func (w *sortedWrites) sortRest() []writeOp {
	sortOps(w.ops, w.buf)
	for _, t := range w.sorts {
		t.wait()
	}
	if len(w.runs) == 0 {
		return w.ops
	}
	w.merged = mergeSplit(w.merged[:0], append(w.runs, w.ops), w.buf)
	return w.merged
}

// sortLane returns lane i's writes in key order, sorting them if they did
// not come in order.
func (w *sortedWrites) sortLane(i int) []writeOp {
	l := &w.lanes[i]
	if l.unsorted {
		sortOps(l.ops, w.buf)
		l.unsorted = false
	}
	return l.ops
}

// roomFor returns ops emptied, or a new empty slice with room for n
// writes and a quarter more when ops has less room. slices.Grow would copy
// the writes ops held (the whole capacity, as it appends to it) into the
// new array, which are dead here: a buffer grown from group to group
// copied its last group's writes each time.
func roomFor(ops []writeOp, n int) []writeOp {
	if cap(ops) >= n {
		return ops[:0]
	}
	return make([]writeOp, 0, n+n/4)
}

// mergeSplit is mergeRuns in two halves at once: the writes before the
// median of the longest run, on a goroutine of its own, and the others,
// each into its place in dst.
func mergeSplit(dst []writeOp, runs [][]writeOp, buf []byte) []writeOp {
	n := 0
	longest := runs[0]
	for _, r := range runs {
		n += len(r)
		if len(r) > len(longest) {
			longest = r
		}
	}
	dst = roomFor(dst, n)
	if n < parallelOps {
		return mergeRuns(dst, runs, buf)
	}
	dst = dst[:n]
	p := longest[len(longest)/2]
	lo, hi := make([][]writeOp, len(runs)), make([][]writeOp, len(runs))
	nlo := 0
	for i, r := range runs {
		j, _ := slices.BinarySearchFunc(r, &p, func(o writeOp, p *writeOp) int { return cmpOps(&o, p, buf) })
		lo[i], hi[i] = r[:j], r[j:]
		nlo += j
	}
	t := goTask(func() { mergeRuns(dst[:0:nlo], lo, buf) })
	mergeRuns(dst[nlo:nlo], hi, buf)
	t.wait()
	return dst
}

// cmpOps orders writes by key, writes to one key by their offsets in buf,
// which grow with the order of writing: a total order, so that an unstable
// sort (pdqsort, several times faster than a stable merge sort here) keeps
// writes to one key in order, and merging runs sorted apart gives what one
// sort of them all gives.
func cmpOps(x, y *writeOp, buf []byte) int {
	if x.pre != y.pre {
		return cmp.Compare(x.pre, y.pre)
	}
	if x.pre2 != y.pre2 {
		return cmp.Compare(x.pre2, y.pre2)
	}
	xk, yk := buf[x.key:x.val], buf[y.key:y.val]
	if len(xk) > 16 && len(yk) > 16 {
		xk, yk = xk[16:], yk[16:] // their first 16 bytes are equal
	}
	if c := bytes.Compare(xk, yk); c != 0 {
		return c
	}
	return cmp.Compare(x.key, y.key)
}

// sortOps sorts ops, writes into buf, by cmpOps: a least significant
// digit radix sort on their first 16 bytes (pre, pre2), which is stable
// (writes keep the order they were made in, cmpOps' last criterion), then
// each run of writes whose first 16 bytes are equal sorted by cmpOps
// (their keys may differ past those bytes, or be shorter: zeros pad pre).
// A comparison sort with cmpOps as a function value was the applier's
// sorting's cost; the radix sort moves each write once by its table and
// once per byte position where that table's writes differ (its chain code
// and the high bytes of its ids are the same in most of them, and
// skipped).
func sortOps(ops []writeOp, buf []byte) {
	if len(ops) < radixMin {
		slices.SortFunc(ops, func(x, y writeOp) int { return cmpOps(&x, &y, buf) })
		return
	}
	scratch := opsPool.Get().(*[]writeOp)
	tmp := roomFor(*scratch, len(ops))[:len(ops)]
	if sorted := radixOps(ops, tmp); &sorted[0] != &ops[0] {
		copy(ops, sorted)
	}
	*scratch = tmp[:0]
	opsPool.Put(scratch)
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[j].pre == ops[i].pre && ops[j].pre2 == ops[i].pre2 {
			j++
		}
		if j-i > 1 {
			run := ops[i:j]
			slices.SortFunc(run, func(x, y writeOp) int { return cmpOps(&x, &y, buf) })
		}
		i = j
	}
}

// radixMin is the number of writes from which sortOps sorts by radix.
const radixMin = 256

// opsPool holds the radix sort's scratch buffers (runs are sorted on
// goroutines of their own, several at once).
var opsPool = sync.Pool{New: func() any { return new([]writeOp) }}

// radixOps sorts ops by (pre, pre2), stably, moving them between ops and
// tmp (as long); it returns the one that holds the result. The writes go
// by their first byte (their table) first, then each table's writes by
// radixTable: a table's keys vary in fewer byte positions than all the
// tables' together (an output's key in its number's low bytes and its
// vout, an event's in its id, while the txid index and the address totals
// vary in all of them), and a position where all of a table's writes agree
// is skipped.
func radixOps(ops, tmp []writeOp) []writeOp {
	var counts [256]int32
	for i := range ops {
		counts[byte(ops[i].pre>>56)]++
	}
	src, dst := ops, tmp
	if counts[byte(ops[0].pre>>56)] != int32(len(ops)) {
		var offs [256]int32
		sum := int32(0)
		for d, k := range counts {
			offs[d] = sum
			sum += k
		}
		for i := range src {
			d := byte(src[i].pre >> 56)
			dst[offs[d]] = src[i]
			offs[d]++
		}
		src, dst = dst, src
	}
	lo := int32(0)
	for _, k := range counts {
		if k == 0 {
			continue
		}
		t, spare := src[lo:lo+k], dst[lo:lo+k]
		if sorted := radixTable(t, spare); &sorted[0] != &t[0] {
			copy(t, sorted)
		}
		lo += k
	}
	return src
}

// radixTable sorts ops, writes whose first bytes are equal, by (pre, pre2),
// stably, as radixOps does: a byte at a time from the last, skipping the
// positions where all of them agree (a few writes by a stable comparison
// sort), moving them between ops and tmp; it returns the one that holds
// the result.
func radixTable(ops, tmp []writeOp) []writeOp {
	if len(ops) < radixMin {
		slices.SortStableFunc(ops, func(x, y writeOp) int {
			if c := cmp.Compare(x.pre, y.pre); c != 0 {
				return c
			}
			return cmp.Compare(x.pre2, y.pre2)
		})
		return ops
	}
	var counts [16][256]int32
	countDigits(ops, &counts)
	n := int32(len(ops))
	src, dst := ops, tmp
	for pos := 15; pos >= 1; pos-- {
		if c := &counts[pos]; c[opDigit(&src[0], pos)] != n {
			radixPass(src, dst, c, pos)
			src, dst = dst, src
		}
	}
	return src
}

// countDigits counts ops by each byte of their first 16 bytes.
func countDigits(ops []writeOp, counts *[16][256]int32) {
	for i := range ops {
		pre, pre2 := ops[i].pre, ops[i].pre2
		for b := range 8 {
			counts[7-b][byte(pre>>(8*b))]++
			counts[15-b][byte(pre2>>(8*b))]++
		}
	}
}

// radixPass moves src into dst (as long) in the order of byte pos (0 to
// 15) of their first 16 bytes, stably; c counts src's writes by that byte.
func radixPass(src, dst []writeOp, c *[256]int32, pos int) {
	var offs [256]int32
	sum := int32(0)
	for d, k := range c {
		offs[d] = sum
		sum += k
	}
	if pos < 8 {
		shift := uint(8 * (7 - pos))
		for i := range src {
			d := byte(src[i].pre >> shift)
			dst[offs[d]] = src[i]
			offs[d]++
		}
		return
	}
	shift := uint(8 * (15 - pos))
	for i := range src {
		d := byte(src[i].pre2 >> shift)
		dst[offs[d]] = src[i]
		offs[d]++
	}
}

// opDigit is byte pos (0 to 15) of o's first 16 bytes.
func opDigit(o *writeOp, pos int) byte {
	if pos < 8 {
		return byte(o.pre >> (8 * (7 - pos)))
	}
	return byte(o.pre2 >> (8 * (15 - pos)))
}

// mergeRuns appends the writes of runs, each sorted by cmpOps, to dst in
// cmpOps order: a k-way merge through a binary heap of the runs' heads.
func mergeRuns(dst []writeOp, runs [][]writeOp, buf []byte) []writeOp {
	n := 0
	heap := make([][]writeOp, 0, len(runs))
	for _, r := range runs {
		n += len(r)
		if len(r) > 0 {
			heap = append(heap, r)
		}
	}
	dst = slices.Grow(dst, n)
	less := func(i, j int) bool {
		x, y := &heap[i][0], &heap[j][0]
		if x.pre != y.pre {
			return x.pre < y.pre
		}
		if x.pre2 != y.pre2 {
			return x.pre2 < y.pre2
		}
		return cmpOps(x, y, buf) < 0
	}
	down := func(i int) {
		for {
			m := 2*i + 1
			if m >= len(heap) {
				return
			}
			if r := m + 1; r < len(heap) && less(r, m) {
				m = r
			}
			if !less(m, i) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(heap) > 0 {
		dst = append(dst, heap[0][0])
		if heap[0] = heap[0][1:]; len(heap[0]) == 0 {
			last := len(heap) - 1
			heap[0] = heap[last]
			heap = heap[:last]
		}
		down(0)
	}
	return dst
}

// sinkTo hands the writes to t in key order and empties w. The writes of
// each table (their keys' first t.split bytes) go to one sink, several
// tables at once: t takes some, sinks like it (clone) on goroutines of
// their own take others, each table whole and in key order into files of
// its own, and t ends up naming every file (t.paths). Writing the
// sstables was most of a bulk group's commit, all on the applying
// goroutine; the tables are written largest first, each by whichever sink
// is free.
func (w *sortedWrites) sinkTo(t *tableSink) error {
	buf := w.buf
	var tables []tableOps
	w.sorted = nil
	tables = appendTables(tables, w.sortRest(), t.split)
	for i := range w.lanes {
		tables = appendTables(tables, w.sortLane(i), t.split)
	}
	workers := min(sinkWorkers(), len(tables))
	if workers <= 1 {
		// One sink takes them all, in key order (the lanes' tables come
		// after the others').
		slices.SortFunc(tables, func(x, y tableOps) int { return cmpOps(&x.ops[0], &y.ops[0], buf) })
		var err error
		for _, r := range tables {
			if err = sinkOps(t, r.ops, buf); err != nil {
				break
			}
		}
		w.reset()
		return err
	}
	// Largest first: the last table taken is a small one, so the sinks
	// finish at about the same time.
	slices.SortFunc(tables, func(x, y tableOps) int { return cmp.Compare(y.bytes, x.bytes) })
	var next atomic.Int64
	var failed atomic.Bool
	work := func(s *tableSink) error {
		for !failed.Load() {
			i := int(next.Add(1)) - 1
			if i >= len(tables) {
				return nil
			}
			r := tables[i]
			var err error
			pprof.Do(context.Background(), sinkLabels(buf[r.ops[0].key]), func(context.Context) {
				err = sinkOps(s, r.ops, buf)
				if err == nil {
					// The next table it takes may come before this one.
					err = s.finish()
				}
			})
			if err != nil {
				failed.Store(true)
				return err
			}
		}
		return nil
	}
	helpers := make([]*tableSink, workers-1)
	errs := make([]error, workers)
	tasks := make([]*task, workers-1)
	for i := range helpers {
		s := t.clone()
		helpers[i] = s
		tasks[i] = goTask(func() { errs[i+1] = work(s) })
	}
	errs[0] = work(t)
	for i, k := range tasks {
		k.wait()
		if errs[i+1] != nil {
			_ = helpers[i].closeFile() // t's caller removes the files
		}
		t.paths = append(t.paths, helpers[i].paths...)
		helpers[i].paths = nil
	}
	w.reset()
	if err := errors.Join(errs...); err != nil {
		t.err = err
		return err
	}
	return nil
}

// sinkLabels returns the profiler labels of the writing of a table's
// sstables by a sink: "sink" is the table's prefix byte (`go tool pprof
// -tagfocus sink=o`), as Pebble labels its compactions' (keycats.go).
func sinkLabels(prefix byte) pprof.LabelSet {
	return pprof.Labels("sink", string(rune(prefix)))
}

// sinkWorkers is how many sinks write a group's tables at once: one a
// core.
func sinkWorkers() int { return runtime.GOMAXPROCS(0) }

// opRange is the writes ops[lo:hi] of one table, bytes long (keys and
// values).
type opRange struct {
	lo, hi int
	bytes  uint32
}

// tableOps is the sorted writes of one table, bytes long (keys and
// values).
type tableOps struct {
	ops   []writeOp
	bytes uint32
}

// appendTables appends the tables of sorted ops (splitTables) to ts.
func appendTables(ts []tableOps, ops []writeOp, split int) []tableOps {
	for _, r := range splitTables(ops, split) {
		ts = append(ts, tableOps{ops[r.lo:r.hi], r.bytes})
	}
	return ts
}

// splitTables cuts sorted ops into their tables: runs of writes whose
// keys share their first split bytes (read from pre: split is at most 8;
// otherwise ops are one range). Writes to one key are never cut apart.
func splitTables(ops []writeOp, split int) []opRange {
	if len(ops) == 0 {
		return nil
	}
	if split <= 0 || split > 8 {
		return []opRange{{0, len(ops), ops[len(ops)-1].end - ops[0].key}}
	}
	shift := uint(64 - 8*split)
	var rs []opRange
	lo := 0
	var n uint32
	for i := range ops {
		if ops[i].pre>>shift != ops[lo].pre>>shift {
			rs = append(rs, opRange{lo, i, n})
			lo, n = i, 0
		}
		n += ops[i].end - ops[i].key
	}
	return append(rs, opRange{lo, len(ops), n})
}

// sinkOps hands ops, sorted, to t: a key written once goes to t as it is,
// without a copy or a comparison with the key before it (the sort ordered
// them).
func sinkOps(t *tableSink, ops []writeOp, buf []byte) error {
	// The sort scattered the keys over buf: each one read is a cache miss.
	// Reading the keys of the next sinkAhead writes in a loop of their own
	// makes their misses at once instead of one after the other.
	var touched byte
	ahead := 0
	for i := 0; i < len(ops); {
		if i >= ahead {
			ahead = min(i+sinkAhead, len(ops))
			touched += touchAhead(ops[i:ahead], buf)
		}
		o := ops[i]
		key := buf[o.key:o.val]
		j := i + 1
		for j < len(ops) && ops[j].pre == o.pre && ops[j].pre2 == o.pre2 && bytes.Equal(buf[ops[j].key:ops[j].val], key) {
			j++
		}
		if j == i+1 {
			if err := t.one(o.kind, key, buf[o.val:o.end]); err != nil {
				return err
			}
		} else {
			for _, o := range ops[i:j] {
				if err := t.add(o.kind, buf[o.key:o.val], buf[o.val:o.end]); err != nil {
					return err
				}
			}
		}
		i = j
	}
	runtime.KeepAlive(touched) // the reads are made
	return nil
}

// sinkAhead is how many writes ahead sinkOps and encodeOps read the keys
// and values of.
const sinkAhead = 64

// touchAhead reads the first and last byte of each of the writes ops (in
// buf), in a loop of their own: after a sort, each one read is a cache
// miss, made here at once instead of one after the other as the writes
// are used. It returns a sum of the bytes, for the caller to keep.
func touchAhead(ops []writeOp, buf []byte) byte {
	var sum byte
	for _, o := range ops {
		if o.end > o.key {
			sum += buf[o.key] + buf[o.end-1]
		}
	}
	return sum
}

// batchHeaderLen is the length of a Pebble batch's header: the sequence
// number (8 bytes, set on commit) and the count of writes (4 bytes, little
// endian).
const batchHeaderLen = 12

// A task is work done by a goroutine of its own or by the goroutine that
// needs it done, whichever starts it first: the one that needs it never
// waits for a goroutine the scheduler has not started yet (on a loaded
// machine, or with both cores busy compacting and clustering, that can be
// milliseconds; waiting for such goroutines was seconds of an ingest's
// wall time at a load of 10 on 2 cores).
type task struct {
	claimed atomic.Bool
	done    chan struct{}
	f       func()
}

// goTask starts f on a goroutine of its own unless wait or stop comes
// first.
func goTask(f func()) *task {
	t := &task{done: make(chan struct{}), f: f}
	go t.try()
	return t
}

// try does the task unless it was started, and reports whether it did.
func (t *task) try() bool {
	if !t.claimed.CompareAndSwap(false, true) {
		return false
	}
	t.f()
	close(t.done)
	return true
}

// wait returns once the task is done, doing it if it was not started (a
// nil task is done).
func (t *task) wait() {
	if t != nil && !t.try() {
		<-t.done
	}
}

// stop makes sure the task is not running and never will: it waits for it
// if it was started, and otherwise keeps it from starting.
func (t *task) stop() {
	if !t.claimed.CompareAndSwap(false, true) {
		<-t.done
		return
	}
	close(t.done)
}
